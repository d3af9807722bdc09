// The whole DNS path against the simulated fleet: every kind of domain gets exactly the record the
// fleet says is correct, every line validates against the schema, and nothing is lost at scale.
#include "engine/auditor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "report/jsonl_writer.h"
#include "report/schema_validator.h"
#include "tests/engine/fleet_audit.h"
#include "tools/fleet/fleet.h"

namespace mxray::engine {
namespace {

std::vector<std::string> Ips(const ExchangeRecord& e) {
  std::vector<std::string> out;
  for (const AddressRecord& a : e.addresses) out.push_back(a.ip.ToString());
  return out;
}

void ExpectMatches(const DomainRecord& got, const fleet::Expectation& want) {
  SCOPED_TRACE(want.domain + " (" + std::string(fleet::DomainKindName(want.kind)) + ")");
  EXPECT_EQ(DomainStatusName(got.status), want.status);
  EXPECT_EQ(MxSourceName(got.mx_source), want.mx_source);
  if (!want.mx_cname.empty()) {
    EXPECT_EQ(got.mx_cname, want.mx_cname);
  }
  if (want.mx_truncated) {
    EXPECT_TRUE(got.mx_truncated);
  }
  ASSERT_EQ(got.mx.size(), want.mx.size());
  for (size_t i = 0; i < want.mx.size(); ++i) {
    const ExchangeRecord& g = got.mx[i];
    const fleet::ExpectedExchange& w = want.mx[i];
    SCOPED_TRACE(w.exchange);
    EXPECT_EQ(g.preference, w.preference);
    EXPECT_EQ(g.exchange, w.exchange);
    EXPECT_EQ(ExchangeStatusName(g.status), w.status);
    if (!w.cname.empty()) {
      EXPECT_EQ(g.cname, w.cname);
    }
    if (w.addresses_truncated) {
      EXPECT_TRUE(g.addresses_truncated);
    }
    EXPECT_EQ(Ips(g), w.addresses);
  }
}

TEST(AuditorFleetTest, EveryKindOfDomainGetsItsExpectedRecord) {
  fleet::FleetOptions options;
  options.domain_count = 3000;
  FleetRun run = AuditFleet(options, /*keep_records=*/true);
  ASSERT_TRUE(run.status.ok()) << run.status;

  const fleet::Population& pop = run.fleet->population();
  ASSERT_EQ(run.sink->count(), pop.size());
  absl::flat_hash_map<std::string, const DomainRecord*> by_domain;
  for (const DomainRecord& r : run.sink->records()) by_domain[r.domain] = &r;
  ASSERT_EQ(by_domain.size(), pop.size());
  absl::flat_hash_set<fleet::DomainKind> kinds_seen;
  for (size_t i = 0; i < pop.size(); ++i) {
    fleet::Expectation want = pop.Expect(i);
    auto it = by_domain.find(want.domain);
    ASSERT_NE(it, by_domain.end()) << want.domain;
    ExpectMatches(*it->second, want);
    kinds_seen.insert(want.kind);
  }
  EXPECT_EQ(kinds_seen.size(), fleet::kDomainKindCount);
}

TEST(AuditorFleetTest, SharedExchangesAreLookedUpOnce) {
  fleet::FleetOptions options;
  options.domain_count = 5000;
  options.kind_weights = {{fleet::DomainKind::kTimeout, 0},
                          {fleet::DomainKind::kExchangeTimeout, 0}};
  FleetRun run = AuditFleet(options, /*keep_records=*/true);
  ASSERT_TRUE(run.status.ok()) << run.status;

  absl::flat_hash_set<std::string> looked_up;
  for (const DomainRecord& r : run.sink->records()) {
    if (r.a_status) looked_up.insert(r.domain);  // the implicit MX's own lookup
    for (const ExchangeRecord& e : r.mx) {
      if (e.a_status) looked_up.insert(e.exchange);
    }
  }
  // One A lookup per distinct exchange name, however many domains share it.
  EXPECT_EQ(run.stats.a_cache.misses, looked_up.size());
  EXPECT_GT(run.stats.a_cache.hits + run.stats.a_cache.joined, run.sink->count() / 2);
}

TEST(AuditorFleetTest, HundredThousandDomainsGiveHundredThousandValidLines) {
  fleet::FleetOptions options;
  options.domain_count = 100000;
  FleetRun run = AuditFleet(options, /*keep_records=*/false);
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.sink->count(), 100000u);
  EXPECT_EQ(run.sink->domains().size(), 100000u);
}

TEST(AuditorTest, EveryNonBlankNonCommentLineGivesOneRecord) {
  char path[] = "/tmp/mxray-test-XXXXXX";
  int fd = mkstemp(path);
  std::string content = "# a comment\n\n   \nfoo..bar\n1.2.3.4\n" + std::string(5000, 'a') +
                        ".test\nbad\x01name.test\r\n\xff\xfe.test\nsingle\n\n# "
                        "end\nlast-line-without-newline.invalid";
  ASSERT_EQ(write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  close(fd);
  AuditConfig c;
  c.inputs = {path};
  c.resolver.servers = {"127.0.0.1:9"};  // nothing answers: valid names time out quickly
  c.resolver.timeout_ms = 20;
  c.resolver.retries = 0;
  auto schema = LoadSchema();
  CollectingSink sink(schema.get(), true);
  auto auditor = Auditor::Create(c);
  ASSERT_TRUE(auditor.ok());
  auto reader = InputReader::Open({path});
  ASSERT_TRUE((*auditor)->Run(**reader, sink).ok());
  unlink(path);
  ASSERT_EQ(sink.count(), 7u);
  int invalid = 0;
  for (const DomainRecord& r : sink.records()) {
    if (r.status == DomainStatus::kInvalidInput) {
      ++invalid;
      EXPECT_FALSE(r.error.empty());
    } else {
      EXPECT_EQ(r.status, DomainStatus::kDnsTimeout) << r.input;
    }
  }
  EXPECT_EQ(invalid, 6);
}

}  // namespace
}  // namespace mxray::engine
