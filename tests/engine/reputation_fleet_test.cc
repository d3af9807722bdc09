// Reputation against the simulated fleet's DNSBL zones and PTR records: every (address, zone)
// verdict, self-test result, PTR and FCrDNS is the one the fleet says mxray must record, and a
// zone answering Spamhaus' error codes or rewritten addresses never yields "listed".
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "tests/engine/fleet_audit.h"
#include "tools/fleet/reputation_plan.h"

namespace mxray::engine {
namespace {

void ReputationOnly(const fleet::Fleet&, AuditConfig& c) {
  c.probe.ports = {};  // DNS and reputation only: no SMTP needed here
  c.reputation.dnsbl.clear();
  for (const fleet::ExpectedDnsblZone& z : fleet::ExpectDnsblZones()) {
    c.reputation.dnsbl.push_back(std::string(z.zone) + "=" + std::string(z.profile));
  }
  c.reputation.dnsbl_txt = true;
}

TEST(ReputationFleetTest, EveryAddressGetsTheVerdictsPtrAndFcrdnsTheFleetExpects) {
  fleet::FleetOptions options;
  options.domain_count = 600;
  FleetRun run = AuditFleet(options, /*keep_records=*/true, ReputationOnly);
  ASSERT_TRUE(run.status.ok()) << run.status;

  // Self-tests: as the fleet plays them, reported in the run's statistics.
  std::vector<fleet::ExpectedDnsblZone> zones = fleet::ExpectDnsblZones();
  ASSERT_EQ(run.stats.dnsbl_self_test.size(), zones.size());
  for (size_t z = 0; z < zones.size(); ++z) {
    EXPECT_EQ(run.stats.dnsbl_self_test[z].first, zones[z].zone);
    EXPECT_EQ(run.stats.dnsbl_self_test[z].second == "passed", zones[z].passed)
        << zones[z].zone << ": " << run.stats.dnsbl_self_test[z].second;
  }

  const fleet::Population& pop = run.fleet->population();
  absl::flat_hash_map<std::string, const DomainRecord*> by_domain;
  for (const DomainRecord& r : run.sink->records()) by_domain[r.domain] = &r;
  absl::flat_hash_map<std::string, int> statuses;
  size_t addresses_checked = 0, ptr_matches = 0;
  for (size_t i = 0; i < pop.size(); ++i) {
    fleet::Expectation want = pop.Expect(i);
    if (want.status != "ok") continue;
    const DomainRecord& got = *by_domain[want.domain];
    SCOPED_TRACE(want.domain);
    ASSERT_EQ(got.mx.size(), want.mx.size());
    for (size_t x = 0; x < want.mx.size(); ++x) {
      const fleet::ExpectedExchange& we = want.mx[x];
      if (we.reputation.empty()) continue;
      ASSERT_EQ(got.mx[x].addresses.size(), we.reputation.size());
      for (size_t a = 0; a < we.reputation.size(); ++a) {
        SCOPED_TRACE(we.addresses[a]);
        const fleet::ExpectedReputation& wr = we.reputation[a];
        ASSERT_NE(got.mx[x].addresses[a].reputation, nullptr);
        const ReputationRecord& gr = *got.mx[x].addresses[a].reputation;
        ASSERT_TRUE(gr.ptr_status.has_value());
        EXPECT_EQ(io::DnsStatusName(*gr.ptr_status), wr.ptr_status);
        EXPECT_EQ(gr.ptr.empty() ? "" : gr.ptr.front(), wr.ptr);
        EXPECT_EQ(gr.fcrdns, wr.fcrdns);
        // The PTR against this domain's MX name (provider hosts: the same name).
        const AddressRecord& ga = got.mx[x].addresses[a];
        if (wr.ptr.empty()) {
          EXPECT_FALSE(ga.ptr_matches_mx.has_value());
        } else {
          ASSERT_TRUE(ga.ptr_matches_mx.has_value());
          EXPECT_EQ(*ga.ptr_matches_mx, wr.ptr == we.exchange);
          if (wr.ptr == we.exchange) ++ptr_matches;
        }
        ASSERT_EQ(gr.dnsbl.size(), wr.dnsbl.size());
        for (size_t z = 0; z < wr.dnsbl.size(); ++z) {
          const DnsblResult& d = gr.dnsbl[z];
          const fleet::ExpectedDnsbl& wd = wr.dnsbl[z];
          SCOPED_TRACE(std::string(wd.zone));
          EXPECT_EQ(d.zone->zone, wd.zone);
          EXPECT_EQ(DnsblStatusName(d.verdict.status), wd.status) << d.verdict.reason;
          ++statuses[std::string(DnsblStatusName(d.verdict.status))];
          if (wd.status == "listed" || wd.status == "error" || wd.status == "unknown") {
            EXPECT_EQ(d.verdict.codes, wd.codes);
          }
          if (wd.status == "listed") {
            EXPECT_THAT(d.txt, testing::ElementsAre(wd.txt));
          }
          // A Spamhaus error code or a rewritten answer is never a listing.
          for (const std::string& code : d.verdict.codes) {
            if (code.starts_with("127.255.255.") || !code.starts_with("127.")) {
              EXPECT_NE(d.verdict.status, DnsblStatus::kListed) << code;
            }
          }
        }
        ++addresses_checked;
      }
    }
    // Each listing is a finding naming the address; PBL is informational.
    for (const Finding& f : got.findings) {
      if (f.id != "dnsbl_listed") continue;
      const ReputationRecord& gr = *got.mx[f.exchange].addresses[f.address].reputation;
      bool pbl_only = false;
      for (const DnsblResult& d : gr.dnsbl) {
        if (d.verdict.status == DnsblStatus::kListed && d.verdict.lists.size() == 1 &&
            d.verdict.lists[0] == "PBL") {
          pbl_only = true;
        }
      }
      if (pbl_only) EXPECT_EQ(f.severity, "info");
    }
  }
  EXPECT_GT(addresses_checked, 0u);
  EXPECT_GT(ptr_matches, 0u);
  for (const char* s : {"listed", "not_listed", "error", "unknown", "unreliable"}) {
    EXPECT_GT(statuses[s], 0) << "no " << s << " verdict was provoked";
  }
}

}  // namespace
}  // namespace mxray::engine
