// The fleet's reputation zones without sockets, through the DnsResponder as the server uses it:
// every DNSBL zone's case (A and TXT, the self-test names, IPv6 nibble names, the zones that fail),
// the PTR records (forward-confirmed, unconfirmed, none, ::1), the reversed-name parser, and that
// the population's own names still answer next to them.
#include "tools/fleet/reputation_zone.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "tools/fleet/dns_responder.h"
#include "tools/fleet/population_zone.h"

namespace mxray::fleet {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::string Host(DomainKind kind, size_t n = 1) {
  return Population::AddressText(Population::SmtpKindAddress(kind, n));
}

// "1.2.3.4" -> "4.3.2.1"; "::1" -> "1.0.0. ... .0" (32 nibbles).
std::string Reversed(const std::string& ip) {
  std::array<uint8_t, 16> b{};
  if (inet_pton(AF_INET, ip.c_str(), b.data()) == 1) {
    return std::to_string(b[3]) + "." + std::to_string(b[2]) + "." + std::to_string(b[1]) + "." +
           std::to_string(b[0]);
  }
  EXPECT_EQ(inet_pton(AF_INET6, ip.c_str(), b.data()), 1) << ip;
  std::string out;
  static constexpr char kHex[] = "0123456789abcdef";
  for (int k = 15; k >= 0; --k) {
    out += kHex[b[k] & 0xF];
    out += '.';
    out += kHex[b[k] >> 4];
    if (k) out += '.';
  }
  return out;
}

class ReputationZoneTest : public ::testing::Test {
 protected:
  ReputationZoneTest()
      : population_(*Population::Create({.seed = 5, .domain_count = kDomainKindCount})),
        zone_(&population_),
        v4_(&population_, ReverseDnsZone::Family::kIpv4),
        v6_(&population_, ReverseDnsZone::Family::kIpv6),
        responder_({&zone_, &dnsbl_, &v4_, &v6_}) {}

  // The answer over TCP (no truncation); nullopt when the zone drops the query.
  std::optional<DnsMessage> Ask(const std::string& name, uint16_t type) {
    std::vector<uint8_t> out(kMaxDnsMessageBytes);
    ResponseInfo info;
    out.resize(responder_.Respond(BuildQuery(7, name, type), Transport::kTcp, out, &info));
    if (info.dropped) return std::nullopt;
    absl::StatusOr<DnsMessage> m = ParseMessage(out);
    EXPECT_TRUE(m.ok()) << m.status();
    return m.ok() ? std::optional<DnsMessage>(*m) : std::nullopt;
  }
  std::vector<std::string> Addresses(const std::string& name, uint16_t type = kTypeA) {
    std::vector<std::string> out;
    std::optional<DnsMessage> m = Ask(name, type);
    EXPECT_TRUE(m.has_value()) << name;
    if (!m) return out;
    EXPECT_EQ(m->rcode, kRcodeNoError) << name;
    for (const DnsRecord& rr : m->answers) {
      EXPECT_EQ(rr.name, name);
      if (rr.type == type) out.push_back(rr.address);
    }
    return out;
  }
  std::vector<std::string> Texts(const std::string& name) {
    std::vector<std::string> out;
    std::optional<DnsMessage> m = Ask(name, kTypeTxt);
    EXPECT_TRUE(m.has_value()) << name;
    if (!m) return out;
    for (const DnsRecord& rr : m->answers) {
      if (rr.type == kTypeTxt) out.insert(out.end(), rr.texts.begin(), rr.texts.end());
    }
    return out;
  }
  uint8_t Rcode(const std::string& name, uint16_t type = kTypeA) {
    std::optional<DnsMessage> m = Ask(name, type);
    EXPECT_TRUE(m.has_value()) << name;
    return m ? m->rcode : 0xFF;
  }

  Population population_;
  PopulationZone zone_;
  DnsblDnsZone dnsbl_;
  ReverseDnsZone v4_;
  ReverseDnsZone v6_;
  DnsResponder responder_;
};

TEST(ReversedAddressTest, ParsesBothFormsAndNothingElse) {
  std::array<uint8_t, 16> ip{};
  ASSERT_EQ(ParseReversedAddress("4.3.2.1", &ip), 4u);
  EXPECT_THAT(std::vector<uint8_t>(ip.begin(), ip.begin() + 4), ElementsAre(1, 2, 3, 4));
  ASSERT_EQ(ParseReversedAddress("2.0.0.127", &ip), 4u);
  EXPECT_THAT(std::vector<uint8_t>(ip.begin(), ip.begin() + 4), ElementsAre(127, 0, 0, 2));
  ASSERT_EQ(ParseReversedAddress("255.0.10.200", &ip), 4u);
  EXPECT_THAT(std::vector<uint8_t>(ip.begin(), ip.begin() + 4), ElementsAre(200, 10, 0, 255));
  ASSERT_EQ(ParseReversedAddress(Reversed("::1"), &ip), 16u);
  EXPECT_EQ(ip, kIpv6Loopback);
  ASSERT_EQ(ParseReversedAddress(Reversed("2001:db8::abcd:ef01"), &ip), 16u);
  std::array<uint8_t, 16> want{};
  ASSERT_EQ(inet_pton(AF_INET6, "2001:db8::abcd:ef01", want.data()), 1);
  EXPECT_EQ(ip, want);
  for (const std::string& bad : std::vector<std::string>{
           "", "1.2.3", "1.2.3.4.5", "01.2.3.4", "256.2.3.4", "1..3.4", "a.2.3.4", "1.2.3.4.",
           "-1.2.3.4", std::string(63, '0'), Reversed("::1").substr(2),
           Reversed("::1").replace(0, 1, "g"), Reversed("::1").replace(0, 1, "A")}) {
    EXPECT_EQ(ParseReversedAddress(bad, &ip), 0u) << bad;
  }
}

TEST_F(ReputationZoneTest, ZenListsWithSpamhausCodesAndTxt) {
  const std::string listed = Host(DomainKind::kDnsblListed, 2);
  const std::string zen = "." + std::string(kZenZone);
  EXPECT_THAT(Addresses(Reversed(listed) + zen), ElementsAre("127.0.0.2"));
  EXPECT_THAT(Texts(Reversed(listed) + zen),
              ElementsAre("https://www.spamhaus.org/query/ip/" + listed));
  const std::string multi = Host(DomainKind::kDnsblMulti);
  EXPECT_THAT(Addresses(Reversed(multi) + zen), ElementsAre("127.0.0.2", "127.0.0.4"));
  EXPECT_THAT(Texts(Reversed(multi) + zen), SizeIs(1));  // one TXT record per listed name
  const std::string pbl = Host(DomainKind::kDnsblPbl);
  EXPECT_THAT(Addresses(Reversed(pbl) + zen), ElementsAre("127.0.0.10"));
  EXPECT_THAT(Texts(Reversed(pbl) + zen), ElementsAre("https://www.spamhaus.org/query/ip/" + pbl));
  // The error codes: A records only, the TXT query is NODATA.
  const std::pair<DomainKind, std::string> errors[] = {
      {DomainKind::kDnsblError252, "127.255.255.252"},
      {DomainKind::kDnsblError254, "127.255.255.254"},
      {DomainKind::kDnsblError255, "127.255.255.255"}};
  for (const auto& [kind, code] : errors) {
    const std::string name = Reversed(Host(kind, 3)) + zen;
    EXPECT_THAT(Addresses(name), ElementsAre(code)) << name;
    EXPECT_THAT(Texts(name), IsEmpty());
    EXPECT_EQ(Rcode(name, kTypeTxt), kRcodeNoError);
  }
  // Everyone else is NXDOMAIN, with the zone's SOA.
  for (const std::string& ip :
       {Population::AddressText(Population::ProviderAddress(0, 1)), Host(DomainKind::kPtrNone),
        Host(DomainKind::kDnsblRewritten), std::string("127.2.0.1"), std::string("::1")}) {
    std::optional<DnsMessage> m = Ask(Reversed(ip) + zen, kTypeA);
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->rcode, kRcodeNxDomain) << ip;
    ASSERT_THAT(m->authority, SizeIs(1));
    EXPECT_EQ(m->authority[0].type, kTypeSoa);
    EXPECT_EQ(m->authority[0].name, kZenZone);
  }
  // Names under the zone that are no whole address, the zone itself, and unknown zones.
  EXPECT_EQ(Rcode("0.127" + zen), kRcodeNxDomain);
  EXPECT_EQ(Rcode("x.2.0.0.127" + zen), kRcodeNxDomain);
  EXPECT_EQ(Rcode(std::string(kZenZone)), kRcodeNoError);
  EXPECT_EQ(Rcode("2.0.0.127.other.dnsbl.fleet.test"), kRcodeNxDomain);
  EXPECT_EQ(Rcode("dnsbl.fleet.test", kTypeSoa), kRcodeNoError);
}

TEST_F(ReputationZoneTest, SelfTestNamesInEveryZone) {
  struct Want {
    std::string_view zone;
    std::optional<uint8_t> listed_rcode, unlisted_rcode;  // nullopt: dropped
    std::vector<std::string> listed_a, unlisted_a;
  };
  const std::vector<std::string> none, sbl = {"127.0.0.2"};
  const Want kWant[] = {
      {kZenZone, kRcodeNoError, kRcodeNxDomain, sbl, none},
      {kRewriteZone, kRcodeNoError, kRcodeNxDomain, sbl, none},
      {kBrokenZone, kRcodeNxDomain, kRcodeNoError, none, sbl},
      {kSlowZone, std::nullopt, std::nullopt, none, none},
      {kServfailZone, kRcodeNoError, kRcodeNxDomain, sbl, none},
  };
  for (const Want& w : kWant) {
    SCOPED_TRACE(w.zone);
    for (const std::string& prefix : {Reversed("127.0.0.2"), Reversed("::ffff:127.0.0.2")}) {
      std::optional<DnsMessage> m = Ask(prefix + "." + std::string(w.zone), kTypeA);
      ASSERT_EQ(m.has_value(), w.listed_rcode.has_value());
      if (!m) continue;
      EXPECT_EQ(m->rcode, *w.listed_rcode);
      std::vector<std::string> a;
      for (const DnsRecord& rr : m->answers) a.push_back(rr.address);
      EXPECT_EQ(a, w.listed_a);
    }
    for (const std::string& prefix : {Reversed("127.0.0.1"), Reversed("::ffff:127.0.0.1")}) {
      std::optional<DnsMessage> m = Ask(prefix + "." + std::string(w.zone), kTypeA);
      ASSERT_EQ(m.has_value(), w.unlisted_rcode.has_value());
      if (!m) continue;
      EXPECT_EQ(m->rcode, *w.unlisted_rcode);
      std::vector<std::string> a;
      for (const DnsRecord& rr : m->answers) a.push_back(rr.address);
      EXPECT_EQ(a, w.unlisted_a);
    }
  }
  // Spamhaus's own TXT for its test entry.
  EXPECT_THAT(Texts("2.0.0.127." + std::string(kZenZone)),
              ElementsAre("https://www.spamhaus.org/query/ip/127.0.0.2"));
}

TEST_F(ReputationZoneTest, RewriteBrokenSlowAndServfailZones) {
  const std::string rewritten = Reversed(Host(DomainKind::kDnsblRewritten, 4));
  EXPECT_THAT(Addresses(rewritten + "." + std::string(kRewriteZone)), ElementsAre("198.51.100.7"));
  EXPECT_THAT(Texts(rewritten + "." + std::string(kRewriteZone)), IsEmpty());
  EXPECT_EQ(Rcode(rewritten + "." + std::string(kZenZone)), kRcodeNxDomain);
  // The rewriting resolver rewrites only the addresses of its kind.
  EXPECT_EQ(Rcode(Reversed(Host(DomainKind::kDnsblListed)) + "." + std::string(kRewriteZone)),
            kRcodeNxDomain);
  // The broken zone lists some addresses although its self-test fails.
  const std::string broken = "." + std::string(kBrokenZone);
  EXPECT_THAT(Addresses(Reversed(Host(DomainKind::kDnsblListed)) + broken),
              ElementsAre("127.0.0.2"));
  EXPECT_THAT(Addresses(Reversed(Host(DomainKind::kDnsblMulti)) + broken),
              ElementsAre("127.0.0.2"));
  EXPECT_EQ(Rcode(Reversed(Host(DomainKind::kDnsblPbl)) + broken), kRcodeNxDomain);
  // Slow: nothing, ever, whatever the name.
  for (const std::string& name :
       {Reversed(Host(DomainKind::kDnsblListed)) + "." + std::string(kSlowZone),
        Reversed("::1") + "." + std::string(kSlowZone), std::string(kSlowZone),
        "junk." + std::string(kSlowZone)}) {
    EXPECT_FALSE(Ask(name, kTypeA).has_value()) << name;
    EXPECT_FALSE(Ask(name, kTypeTxt).has_value()) << name;
  }
  // Servfail: SERVFAIL for every name but the self-test's, listed or not elsewhere.
  for (const std::string& ip :
       {Host(DomainKind::kDnsblListed), std::string("127.1.0.1"), std::string("::1")}) {
    const std::string name = Reversed(ip) + "." + std::string(kServfailZone);
    std::optional<DnsMessage> m = Ask(name, kTypeA);
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->rcode, kRcodeServFail) << name;
    EXPECT_THAT(m->answers, IsEmpty());
  }
}

TEST_F(ReputationZoneTest, ZonesAgreeWithTheExpectations) {
  // What each zone answers for every address the population hands out is what the expectation
  // classifies (the socket-level resolver in dns_server_test.cc does the full classification).
  for (size_t i = 0; i < population_.size(); ++i) {
    for (const ExpectedExchange& x : population_.Expect(i).mx) {
      for (size_t a = 0; a < x.addresses.size(); ++a) {
        const std::string& ip = x.addresses[a];
        for (size_t z = 0; z < kDnsblZoneCount; ++z) {
          const ExpectedDnsbl& want = x.reputation[a].dnsbl[z];
          if (want.codes.empty()) continue;  // NXDOMAIN, SERVFAIL, dropped, unreliable
          const std::string name = Reversed(ip) + "." + std::string(kDnsblZones[z]);
          std::vector<std::string> got = Addresses(name);
          std::sort(got.begin(), got.end());
          EXPECT_EQ(got, want.codes) << name;
          if (!want.txt.empty()) {
            EXPECT_THAT(Texts(name), ElementsAre(want.txt)) << name;
          }
        }
      }
    }
  }
}

TEST_F(ReputationZoneTest, PtrRecordsNameTheHostAndItsNameResolvesBack) {
  // Confirmed: a provider host, an own-pool host, a bulk host, a kind's host.
  for (const std::string& ip :
       {Population::AddressText(Population::ProviderAddress(1, 2)), std::string("127.2.3.250"),
        std::string("127.3.0.100"), Host(DomainKind::kDnsblListed, 4),
        Host(DomainKind::kSmtp421ThenOk)}) {
    SCOPED_TRACE(ip);
    std::optional<DnsMessage> m = Ask(Reversed(ip) + ".in-addr.arpa", kTypePtr);
    ASSERT_TRUE(m.has_value());
    ASSERT_THAT(m->answers, SizeIs(1));
    EXPECT_EQ(m->answers[0].type, kTypePtr);
    EXPECT_EQ(m->answers[0].target, population_.SmtpHostName(ip));
    EXPECT_THAT(Addresses(m->answers[0].target), ElementsAre(ip));
    // Other types at the reverse name: NODATA.
    EXPECT_EQ(Rcode(Reversed(ip) + ".in-addr.arpa", kTypeA), kRcodeNoError);
  }
  // Unconfirmed: the name resolves, to another address.
  const std::string unconfirmed = Host(DomainKind::kPtrUnconfirmed, 2);
  std::optional<DnsMessage> m = Ask(Reversed(unconfirmed) + ".in-addr.arpa", kTypePtr);
  ASSERT_TRUE(m.has_value());
  ASSERT_THAT(m->answers, SizeIs(1));
  EXPECT_EQ(m->answers[0].target, "ptr-unconfirmed-2.fleet.test");
  EXPECT_THAT(Addresses("ptr-unconfirmed-2.fleet.test"),
              ElementsAre("127.5." + std::to_string(int(DomainKind::kPtrUnconfirmed)) + ".2"));
  // None: NXDOMAIN, with the zone's SOA.
  m = Ask(Reversed(Host(DomainKind::kPtrNone)) + ".in-addr.arpa", kTypePtr);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->rcode, kRcodeNxDomain);
  ASSERT_THAT(m->authority, SizeIs(1));
  EXPECT_EQ(m->authority[0].name, "in-addr.arpa");
  // ::1 in nibble form, its name with an AAAA record (and no A).
  m = Ask(Reversed("::1") + ".ip6.arpa", kTypePtr);
  ASSERT_TRUE(m.has_value());
  ASSERT_THAT(m->answers, SizeIs(1));
  EXPECT_EQ(m->answers[0].target, "mx-ipv6.fleet.test");
  EXPECT_THAT(Addresses("mx-ipv6.fleet.test", kTypeAaaa), ElementsAre("::1"));
  EXPECT_THAT(Addresses("mx-ipv6.fleet.test", kTypeA), IsEmpty());
  // Addresses the population does not hand out, partial names, the wrong family's zone.
  for (const std::string& name :
       {Reversed("127.0.0.1") + ".in-addr.arpa", Reversed("127.4.0.1") + ".in-addr.arpa",
        Reversed("127.5.75.1") + ".in-addr.arpa", Reversed("::2") + ".ip6.arpa",
        std::string("1.127.in-addr.arpa"), Reversed("::1") + ".in-addr.arpa",
        Reversed("127.1.0.1") + ".ip6.arpa", std::string("x.in-addr.arpa")}) {
    EXPECT_EQ(Rcode(name, kTypePtr), kRcodeNxDomain) << name;
  }
  EXPECT_EQ(Rcode("in-addr.arpa", kTypeSoa), kRcodeNoError);
  EXPECT_EQ(Rcode("ip6.arpa", kTypePtr), kRcodeNoError);
}

TEST_F(ReputationZoneTest, ThePopulationsNamesStillAnswer) {
  const std::string d = population_.DomainName(*population_.FirstOfKind(DomainKind::kPlain));
  std::optional<DnsMessage> m = Ask(d, kTypeMx);
  ASSERT_TRUE(m.has_value());
  EXPECT_THAT(m->answers, SizeIs(1));
  EXPECT_EQ(Rcode("fleet.test", kTypeA), kRcodeNoError);
  EXPECT_EQ(Rcode("nothing.fleet.test"), kRcodeNxDomain);
}

}  // namespace
}  // namespace mxray::fleet
