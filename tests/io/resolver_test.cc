// Resolver against the simulated fleet's DNS server on loopback: one case per status, CNAME
// re-queries, TCP after truncation, and flags that are really applied.
#include "io/resolver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tools/fleet/fleet.h"

namespace mxray::io {
namespace {

using fleet::DomainKind;

class ResolverTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    fleet::FleetOptions options;
    options.domain_count = 200;
    auto f = fleet::Fleet::Start(options);
    ASSERT_TRUE(f.ok()) << f.status();
    fleet_ = f->release();
  }
  static void TearDownTestSuite() {
    delete fleet_;
    fleet_ = nullptr;
  }

  void SetUp() override {
    auto loop = EventLoop::Create();
    ASSERT_TRUE(loop.ok());
    loop_ = *std::move(loop);
    ResolverOptions options;
    options.servers = {fleet_->dns_server()};
    options.timeout_ms = 100;
    options.retries = 1;
    auto r = Resolver::Create(loop_.get(), options);
    ASSERT_TRUE(r.ok()) << r.status();
    resolver_ = *std::move(r);
  }

  std::string Domain(DomainKind kind) {
    auto i = fleet_->population().FirstOfKind(kind);
    EXPECT_TRUE(i.has_value());
    return fleet_->population().DomainName(*i);
  }

  MxAnswer Mx(const std::string& name) {
    MxAnswer out;
    bool done = false;
    resolver_->ResolveMx(name, [&](MxAnswer&& a) {
      out = std::move(a);
      done = true;
    });
    Run(done);
    return out;
  }

  AddressAnswer Address(const std::string& name, DnsType type) {
    AddressAnswer out;
    bool done = false;
    resolver_->ResolveAddress(name, type, [&](AddressAnswer&& a) {
      out = std::move(a);
      done = true;
    });
    Run(done);
    return out;
  }

  void Run(const bool& done) {
    for (int i = 0; i < 100000 && !done; ++i) loop_->RunOnce(100'000'000);
    ASSERT_TRUE(done);
  }

  static fleet::Fleet* fleet_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<Resolver> resolver_;
};

fleet::Fleet* ResolverTest::fleet_ = nullptr;

TEST_F(ResolverTest, OkWithRecords) {
  MxAnswer a = Mx(Domain(DomainKind::kPlain));
  EXPECT_EQ(a.status, DnsStatus::kOk);
  ASSERT_EQ(a.records.size(), 1u);
  EXPECT_THAT(a.records[0].exchange, testing::MatchesRegex("mx1\\.provider-[0-9]+\\.test"));
}

TEST_F(ResolverTest, Nodata) {
  EXPECT_EQ(Mx(Domain(DomainKind::kNoMailHost)).status, DnsStatus::kNodata);
}

TEST_F(ResolverTest, Nxdomain) {
  EXPECT_EQ(Mx(Domain(DomainKind::kNxdomain)).status, DnsStatus::kNxdomain);
}

TEST_F(ResolverTest, Servfail) {
  EXPECT_EQ(Mx(Domain(DomainKind::kServfail)).status, DnsStatus::kServfail);
}

TEST_F(ResolverTest, Refused) {
  EXPECT_EQ(Mx(Domain(DomainKind::kRefused)).status, DnsStatus::kRefused);
}

TEST_F(ResolverTest, Timeout) {
  EXPECT_EQ(Mx(Domain(DomainKind::kTimeout)).status, DnsStatus::kTimeout);
}

TEST_F(ResolverTest, Malformed) {
  EXPECT_EQ(Mx(Domain(DomainKind::kMalformedGarbage)).status, DnsStatus::kMalformed);
  EXPECT_EQ(Mx(Domain(DomainKind::kMalformedPointerLoop)).status, DnsStatus::kMalformed);
}

TEST_F(ResolverTest, TruncatedAnswerIsRetriedOverTcp) {
  MxAnswer a = Mx(Domain(DomainKind::kOversizedMx));
  EXPECT_EQ(a.status, DnsStatus::kOk);
  EXPECT_EQ(a.records.size(), size_t(fleet::Population::kOversizedMxCount));
  EXPECT_GT(fleet_->dns_stats().queries_tcp, 0u);
}

TEST_F(ResolverTest, CnameChainIsFollowed) {
  MxAnswer a = Mx(Domain(DomainKind::kCnameChain));
  EXPECT_EQ(a.status, DnsStatus::kOk);
  EXPECT_EQ(a.cname_chain.size(), size_t(fleet::Population::kChainHops));
}

TEST_F(ResolverTest, CnameLoopIsMalformed) {
  MxAnswer a = Mx(Domain(DomainKind::kCnameLoop));
  EXPECT_EQ(a.status, DnsStatus::kMalformed);
  EXPECT_TRUE(a.cname_loop);
}

TEST_F(ResolverTest, AaaaOfDualStackHostIsLoopbackV6) {
  std::string d = Domain(DomainKind::kImplicitDual);
  AddressAnswer v6 = Address(d, DnsType::kAaaa);
  EXPECT_EQ(v6.status, DnsStatus::kOk);
  ASSERT_EQ(v6.addresses.size(), 1u);
  EXPECT_EQ(v6.addresses[0].ToString(), "::1");
  AddressAnswer v4 = Address(d, DnsType::kA);
  EXPECT_EQ(v4.status, DnsStatus::kOk);
}

TEST_F(ResolverTest, TxtRecordIsReturned) {
  TxtAnswer out;
  bool done = false;
  resolver_->ResolveTxt(Domain(DomainKind::kNoMailHost), [&](TxtAnswer&& a) {
    out = std::move(a);
    done = true;
  });
  Run(done);
  EXPECT_EQ(out.status, DnsStatus::kOk);
  EXPECT_THAT(out.texts, testing::ElementsAre("v=spf1 -all"));
}

TEST_F(ResolverTest, PtrOfAFleetAddressIsItsHostName) {
  // A provider host: its PTR names the host (the fleet's reverse zone, reputation_plan.h).
  PtrAnswer out;
  bool done = false;
  resolver_->ResolvePtr("1.0.1.127.in-addr.arpa", [&](PtrAnswer&& a) {
    out = std::move(a);
    done = true;
  });
  Run(done);
  EXPECT_EQ(out.status, DnsStatus::kOk);
  EXPECT_THAT(out.names, testing::ElementsAre(fleet_->population().PtrName("127.1.0.1")));
  EXPECT_FALSE(out.names.front().empty());
}

TEST_F(ResolverTest, ManyLookupsInFlightAllComplete) {
  int done = 0;
  const int n = 2000;
  for (int i = 0; i < n; ++i) {
    resolver_->ResolveMx(fleet_->population().DomainName(i % 200), [&](MxAnswer&&) { ++done; });
  }
  for (int i = 0; i < 100000 && done < n; ++i) loop_->RunOnce(100'000'000);
  EXPECT_EQ(done, n);
  EXPECT_EQ(resolver_->in_flight(), 0u);
}

TEST(ResolverSetupTest, BadServerIsAClearError) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  ResolverOptions options;
  options.servers = {"not-an-ip"};
  auto r = Resolver::Create(loop->get(), options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), testing::HasSubstr("not-an-ip"));
  options.servers = {"127.0.0.1:99999"};
  EXPECT_FALSE(Resolver::Create(loop->get(), options).ok());
  options.servers = {"[::1]:5353", "127.0.0.1:53"};
  EXPECT_TRUE(Resolver::Create(loop->get(), options).ok());
}

TEST(ResolverSetupTest, NoServerAnsweringIsATimeout) {
  auto loop = EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  ResolverOptions options;
  options.servers = {"127.0.0.1:9"};  // discard port: nothing listens, ICMP refuses
  options.timeout_ms = 50;
  options.retries = 0;
  auto r = Resolver::Create(loop->get(), options);
  ASSERT_TRUE(r.ok());
  bool done = false;
  DnsStatus status = DnsStatus::kOk;
  (*r)->ResolveMx("nobody.test", [&](MxAnswer&& a) {
    status = a.status;
    done = true;
  });
  for (int i = 0; i < 1000 && !done; ++i) (*loop)->RunOnce(100'000'000);
  ASSERT_TRUE(done);
  EXPECT_EQ(status, DnsStatus::kTimeout);
}

}  // namespace
}  // namespace mxray::io
