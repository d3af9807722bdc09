// DNSBL names, code tables and verdicts: a false "listed" is as bad as a missed one.
#include "engine/dnsbl.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

namespace mxray::engine {
namespace {

using testing::ElementsAre;

io::IpAddress Ip(const char* text) { return *io::IpAddress::Parse(text); }

io::AddressAnswer Answer(io::DnsStatus status, std::initializer_list<const char*> ips = {}) {
  io::AddressAnswer a;
  a.status = status;
  for (const char* ip : ips) a.addresses.push_back(Ip(ip));
  return a;
}

io::AddressAnswer Listed(std::initializer_list<const char*> ips) {
  return Answer(io::DnsStatus::kOk, ips);
}

const DnsblProfile& Zen() { return ProfileForZone("zen.spamhaus.org"); }

TEST(DnsblNamesTest, Ipv4OctetsAreReversed) {
  EXPECT_EQ(DnsblQueryName(Ip("192.0.2.99"), "zen.spamhaus.org"), "99.2.0.192.zen.spamhaus.org");
  EXPECT_EQ(PtrQueryName(Ip("127.1.0.10")), "10.0.1.127.in-addr.arpa");
}

TEST(DnsblNamesTest, Ipv6NibblesAreReversed) {
  // RFC 5782 §2.4's example.
  EXPECT_EQ(DnsblQueryName(Ip("2001:db8:1:2:3:4:567:89ab"), "ugly.example.com"),
            "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ugly.example.com");
  EXPECT_EQ(PtrQueryName(Ip("::1")),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa");
}

TEST(DnsblProfileTest, ZonesAreRecognisedByName) {
  EXPECT_EQ(ProfileForZone("zen.spamhaus.org").name, "spamhaus-zen");
  EXPECT_EQ(ProfileForZone("ZEN.Spamhaus.ORG").name, "spamhaus-zen");
  EXPECT_EQ(ProfileForZone("abcdefkey.zen.dq.spamhaus.net").name, "spamhaus-zen");
  EXPECT_EQ(ProfileForZone("bl.spamcop.net").name, "spamcop");
  EXPECT_EQ(ProfileForZone("b.barracudacentral.org").name, "barracuda");
  EXPECT_EQ(ProfileForZone("dnsbl.example.test").name, "generic");
  EXPECT_NE(FindDnsblProfile("spamhaus-zen"), nullptr);
  EXPECT_EQ(FindDnsblProfile("nonsense"), nullptr);
}

TEST(DnsblVerdictTest, SpamhausCodesAndTheirMeanings) {
  DnsblVerdict v = ClassifyDnsblAnswer(Zen(), Listed({"127.0.0.4", "127.0.0.2"}), true);
  EXPECT_EQ(v.status, DnsblStatus::kListed);
  EXPECT_THAT(v.codes, ElementsAre("127.0.0.2", "127.0.0.4"));
  EXPECT_THAT(v.lists, ElementsAre("XBL", "SBL"));
  ASSERT_EQ(v.meanings.size(), 2u);
  EXPECT_THAT(std::string(v.meanings[0]), testing::HasSubstr("exploited"));
  EXPECT_EQ(v.severity, "high");

  DnsblVerdict pbl = ClassifyDnsblAnswer(Zen(), Listed({"127.0.0.10"}), true);
  EXPECT_EQ(pbl.status, DnsblStatus::kListed);
  EXPECT_THAT(pbl.lists, ElementsAre("PBL"));
  EXPECT_EQ(pbl.severity, "info");  // a policy list, not a reputation problem
  EXPECT_EQ(ClassifyDnsblAnswer(Zen(), Listed({"127.0.0.10", "127.0.0.3"}), true).severity, "high");
}

TEST(DnsblVerdictTest, SpamhausErrorCodesAreNeverListed) {
  for (const char* code : {"127.255.255.252", "127.255.255.254", "127.255.255.255"}) {
    DnsblVerdict v = ClassifyDnsblAnswer(Zen(), Listed({code}), true);
    EXPECT_EQ(v.status, DnsblStatus::kError) << code;
    EXPECT_THAT(v.reason, testing::HasSubstr(code));
    // Even next to a real-looking code.
    EXPECT_EQ(ClassifyDnsblAnswer(Zen(), Listed({"127.0.0.2", code}), true).status,
              DnsblStatus::kError);
  }
}

TEST(DnsblVerdictTest, AnswersOutside127AreUnknown) {
  DnsblVerdict v = ClassifyDnsblAnswer(Zen(), Listed({"198.51.100.7"}), true);
  EXPECT_EQ(v.status, DnsblStatus::kUnknown);
  EXPECT_THAT(v.reason, testing::HasSubstr("198.51.100.7"));
  EXPECT_EQ(
      ClassifyDnsblAnswer(ProfileForZone("x.test"), Listed({"127.0.0.2", "10.0.0.1"}), true).status,
      DnsblStatus::kUnknown);
}

TEST(DnsblVerdictTest, UndocumentedCodesAreUnknownForKnownZonesAndListedForGenericOnes) {
  EXPECT_EQ(ClassifyDnsblAnswer(Zen(), Listed({"127.0.0.8"}), true).status, DnsblStatus::kUnknown);
  EXPECT_EQ(ClassifyDnsblAnswer(Zen(), Listed({"127.0.0.1"}), true).status, DnsblStatus::kUnknown);
  DnsblVerdict generic = ClassifyDnsblAnswer(ProfileForZone("x.test"), Listed({"127.0.0.5"}), true);
  EXPECT_EQ(generic.status, DnsblStatus::kListed);
  EXPECT_EQ(generic.severity, "medium");
  EXPECT_EQ(ClassifyDnsblAnswer(ProfileForZone("x.test"), Listed({"127.0.0.1"}), true).status,
            DnsblStatus::kUnknown);
}

TEST(DnsblVerdictTest, NxdomainCountsOnlyFromATrustedZone) {
  EXPECT_EQ(ClassifyDnsblAnswer(Zen(), Answer(io::DnsStatus::kNxdomain), true).status,
            DnsblStatus::kNotListed);
  EXPECT_EQ(ClassifyDnsblAnswer(Zen(), Answer(io::DnsStatus::kNodata), true).status,
            DnsblStatus::kNotListed);
  EXPECT_EQ(ClassifyDnsblAnswer(Zen(), Answer(io::DnsStatus::kNxdomain), false).status,
            DnsblStatus::kUnreliable);
  EXPECT_EQ(ClassifyDnsblAnswer(Zen(), Listed({"127.0.0.2"}), false).status,
            DnsblStatus::kUnreliable);
}

TEST(DnsblVerdictTest, AZoneThatFailedItsSelfTestIsUnreliableWhateverItAnswers) {
  for (const io::AddressAnswer& a :
       {Answer(io::DnsStatus::kTimeout), Answer(io::DnsStatus::kServfail), Listed({"127.0.0.2"}),
        Listed({"127.255.255.254"}), Listed({"198.51.100.7"}), Answer(io::DnsStatus::kNxdomain)}) {
    EXPECT_EQ(ClassifyDnsblAnswer(Zen(), a, false).status, DnsblStatus::kUnreliable);
  }
}

TEST(DnsblVerdictTest, LookupFailuresAreErrorsWithTheirReason) {
  for (io::DnsStatus s : {io::DnsStatus::kServfail, io::DnsStatus::kRefused,
                          io::DnsStatus::kTimeout, io::DnsStatus::kMalformed}) {
    DnsblVerdict v = ClassifyDnsblAnswer(Zen(), Answer(s), true);
    EXPECT_EQ(v.status, DnsblStatus::kError);
    EXPECT_EQ(v.reason, io::DnsStatusName(s));
  }
}

TEST(DnsblSelfTestTest, Rfc5782Section5) {
  const io::AddressAnswer nx = Answer(io::DnsStatus::kNxdomain);
  EXPECT_TRUE(DnsblSelfTestPassed(Zen(), Listed({"127.0.0.2"}), nx));
  EXPECT_FALSE(DnsblSelfTestPassed(Zen(), nx, nx));  // lists nothing
  EXPECT_FALSE(DnsblSelfTestPassed(Zen(), Listed({"127.0.0.2"}), Listed({"127.0.0.2"})));  // all
  EXPECT_FALSE(DnsblSelfTestPassed(Zen(), Listed({"127.255.255.254"}), nx));  // refused
  EXPECT_FALSE(DnsblSelfTestPassed(Zen(), Listed({"198.51.100.7"}), Listed({"198.51.100.7"})));
  EXPECT_FALSE(DnsblSelfTestPassed(Zen(), Answer(io::DnsStatus::kTimeout), nx));
}

}  // namespace
}  // namespace mxray::engine

#include "engine/reputation.h"

namespace mxray::engine {
namespace {

TEST(ParseDnsblZonesTest, ProfilesKeysAndNone) {
  auto zones = ParseDnsblZones(
      {"ZEN.spamhaus.org.", "mirror.example.test=spamhaus-zen", "dnsbl.example.test"}, "");
  ASSERT_TRUE(zones.ok()) << zones.status();
  ASSERT_EQ(zones->size(), 3u);
  EXPECT_EQ((*zones)[0].zone, "zen.spamhaus.org");
  EXPECT_EQ((*zones)[0].profile, nullptr);  // recognised by name when the run starts
  EXPECT_EQ((*zones)[1].zone, "mirror.example.test");
  ASSERT_NE((*zones)[1].profile, nullptr);
  EXPECT_EQ((*zones)[1].profile->name, "spamhaus-zen");

  // A DQS key turns the public ZEN zone into the key's zone, read the same way.
  auto dqs = ParseDnsblZones({"zen.spamhaus.org", "bl.spamcop.net"}, "abcdef0123");
  ASSERT_TRUE(dqs.ok());
  EXPECT_EQ((*dqs)[0].zone, "abcdef0123.zen.dq.spamhaus.net");
  EXPECT_EQ(ProfileForZone((*dqs)[0].zone).name, "spamhaus-zen");
  EXPECT_EQ((*dqs)[1].zone, "bl.spamcop.net");

  auto none = ParseDnsblZones({"none"}, "");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  EXPECT_FALSE(ParseDnsblZones({"zone.test=unknown-profile"}, "").ok());
  EXPECT_FALSE(ParseDnsblZones({"nodots"}, "").ok());
  EXPECT_FALSE(ParseDnsblZones({""}, "").ok());
}

}  // namespace
}  // namespace mxray::engine
