// Tests for the address policy: every special-purpose range at its edges, IPv4 smuggled inside
// IPv6 forms, CIDR set membership and merging, blocklist files, and the combined check. This is
// the code that keeps the auditor from probing the network it runs in, so the tables are explicit.
#include "engine/address_policy.h"

#include <cstdio>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mxray::engine {
namespace {

using ::testing::HasSubstr;
using R = BlockReason;

io::IpAddress Ip(std::string_view text) {
  std::optional<io::IpAddress> ip = io::IpAddress::Parse(text);
  EXPECT_TRUE(ip.has_value()) << text;
  return ip.value_or(io::IpAddress());
}

struct ReasonCase {
  std::string address;
  BlockReason reason;
};

void ExpectReasons(const std::vector<ReasonCase>& cases) {
  for (const ReasonCase& c : cases) {
    EXPECT_EQ(BlockReasonName(SpecialPurposeReason(Ip(c.address))), BlockReasonName(c.reason))
        << c.address;
  }
}

TEST(BlockReasonTest, NamesAreStableAndUnique) {
  const std::vector<std::pair<BlockReason, std::string_view>> names = {
      {R::kNone, "none"},
      {R::kLoopback, "loopback"},
      {R::kPrivate, "private"},
      {R::kLinkLocal, "link_local"},
      {R::kCgnat, "cgnat"},
      {R::kMulticast, "multicast"},
      {R::kReserved, "reserved"},
      {R::kUnspecified, "unspecified"},
      {R::kBroadcast, "broadcast"},
      {R::kDocumentation, "documentation"},
      {R::kBenchmarking, "benchmarking"},
      {R::kUniqueLocal, "unique_local"},
      {R::kBlocklist, "blocklist"},
      {R::kThisNetwork, "this_network"},
      {R::kProtocolAssignment, "protocol_assignment"},
      {R::kDiscardOnly, "discard_only"},
      {R::kSiteLocal, "site_local"},
  };
  std::set<std::string_view> seen;
  for (const auto& [reason, name] : names) {
    EXPECT_EQ(BlockReasonName(reason), name);
    EXPECT_TRUE(seen.insert(name).second) << name;
  }
  // Every enumerator is listed above: the one after the last has no name.
  EXPECT_EQ(BlockReasonName(static_cast<BlockReason>(names.size())), "unknown");
}

// For each range: the neighbour below, first and last address inside, the neighbour above.
TEST(SpecialPurposeReasonTest, Ipv4RangeEdges) {
  ExpectReasons({
      {"0.0.0.0", R::kUnspecified},
      {"0.0.0.1", R::kThisNetwork},
      {"0.255.255.255", R::kThisNetwork},
      {"1.0.0.0", R::kNone},

      {"9.255.255.255", R::kNone},
      {"10.0.0.0", R::kPrivate},
      {"10.255.255.255", R::kPrivate},
      {"11.0.0.0", R::kNone},

      {"100.63.255.255", R::kNone},
      {"100.64.0.0", R::kCgnat},
      {"100.127.255.255", R::kCgnat},
      {"100.128.0.0", R::kNone},

      {"126.255.255.255", R::kNone},
      {"127.0.0.0", R::kLoopback},
      {"127.0.0.1", R::kLoopback},
      {"127.255.255.255", R::kLoopback},
      {"128.0.0.0", R::kNone},

      {"169.253.255.255", R::kNone},
      {"169.254.0.0", R::kLinkLocal},
      {"169.254.169.254", R::kLinkLocal},  // cloud metadata service
      {"169.254.255.255", R::kLinkLocal},
      {"169.255.0.0", R::kNone},

      {"172.15.255.255", R::kNone},
      {"172.16.0.0", R::kPrivate},
      {"172.31.255.255", R::kPrivate},
      {"172.32.0.0", R::kNone},

      {"191.255.255.255", R::kNone},
      {"192.0.0.0", R::kProtocolAssignment},
      {"192.0.0.9", R::kProtocolAssignment},   // PCP anycast: blocked on purpose
      {"192.0.0.10", R::kProtocolAssignment},  // TURN anycast: blocked on purpose
      {"192.0.0.170", R::kProtocolAssignment},
      {"192.0.0.255", R::kProtocolAssignment},
      {"192.0.1.0", R::kNone},

      {"192.0.1.255", R::kNone},
      {"192.0.2.0", R::kDocumentation},
      {"192.0.2.255", R::kDocumentation},
      {"192.0.3.0", R::kNone},

      {"192.88.98.255", R::kNone},
      {"192.88.99.0", R::kReserved},
      {"192.88.99.255", R::kReserved},
      {"192.88.100.0", R::kNone},

      {"192.167.255.255", R::kNone},
      {"192.168.0.0", R::kPrivate},
      {"192.168.255.255", R::kPrivate},
      {"192.169.0.0", R::kNone},

      {"198.17.255.255", R::kNone},
      {"198.18.0.0", R::kBenchmarking},
      {"198.19.255.255", R::kBenchmarking},
      {"198.20.0.0", R::kNone},

      {"198.51.99.255", R::kNone},
      {"198.51.100.0", R::kDocumentation},
      {"198.51.100.255", R::kDocumentation},
      {"198.51.101.0", R::kNone},

      {"203.0.112.255", R::kNone},
      {"203.0.113.0", R::kDocumentation},
      {"203.0.113.255", R::kDocumentation},
      {"203.0.114.0", R::kNone},

      {"223.255.255.255", R::kNone},
      {"224.0.0.0", R::kMulticast},
      {"239.255.255.255", R::kMulticast},
      {"240.0.0.0", R::kReserved},
      {"255.255.255.254", R::kReserved},
      {"255.255.255.255", R::kBroadcast},
  });
}

TEST(SpecialPurposeReasonTest, GloballyReachableIpv4IsAllowed) {
  ExpectReasons({
      {"8.8.8.8", R::kNone},
      {"1.1.1.1", R::kNone},
      {"192.31.196.1", R::kNone},  // AS112-v4: globally reachable per the registry
      {"192.52.193.1", R::kNone},  // AMT
      {"192.175.48.1", R::kNone},  // AS112 direct delegation
      {"100.0.0.1", R::kNone},
      {"172.217.0.1", R::kNone},
  });
}

TEST(SpecialPurposeReasonTest, Ipv6RangeEdges) {
  ExpectReasons({
      {"::", R::kUnspecified},
      {"::1", R::kLoopback},
      {"::2", R::kThisNetwork},  // IPv4-compatible ::0.0.0.2

      {"100::", R::kDiscardOnly},
      {"100::ffff:ffff:ffff:ffff", R::kDiscardOnly},
      {"100:0:0:1::", R::kReserved},  // RFC 9780 dummy prefix, and the rest of 100::/8
      {"ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", R::kReserved},

      {"1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", R::kReserved},
      {"2000::", R::kNone},
      {"2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", R::kNone},
      {"2001:1::", R::kProtocolAssignment},   // just past Teredo
      {"2001:1::1", R::kProtocolAssignment},  // PCP anycast: blocked on purpose
      {"2001:1:ffff:ffff:ffff:ffff:ffff:ffff", R::kProtocolAssignment},
      {"2001:2::", R::kBenchmarking},
      {"2001:2:0:ffff:ffff:ffff:ffff:ffff", R::kBenchmarking},
      {"2001:2:1::", R::kProtocolAssignment},
      {"2001:3::", R::kProtocolAssignment},  // AMT: blocked on purpose
      {"2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", R::kProtocolAssignment},
      {"2001:200::", R::kNone},

      {"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", R::kNone},
      {"2001:db8::", R::kDocumentation},
      {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", R::kDocumentation},
      {"2001:db9::", R::kNone},

      {"2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", R::kNone},
      {"2003::", R::kNone},

      {"3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", R::kNone},
      {"3fff::", R::kDocumentation},
      {"3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", R::kDocumentation},
      {"3fff:1000::", R::kNone},
      {"3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", R::kNone},
      {"4000::", R::kReserved},
      {"5f00::1", R::kReserved},  // SRv6 SIDs

      {"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", R::kReserved},
      {"fc00::", R::kUniqueLocal},
      {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", R::kUniqueLocal},
      {"fe00::", R::kReserved},
      {"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", R::kReserved},
      {"fe80::", R::kLinkLocal},
      {"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", R::kLinkLocal},
      {"fec0::", R::kSiteLocal},
      {"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", R::kSiteLocal},
      {"ff00::", R::kMulticast},
      {"ff02::1", R::kMulticast},
      {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", R::kMulticast},

      {"2606:4700:4700::1111", R::kNone},
      {"2a00:1450:4001:80b::200e", R::kNone},
      {"2620:4f:8000::1", R::kNone},  // AS112 direct delegation
  });
}

// IPv6 forms that carry an IPv4 address are judged by it, so they cannot smuggle a private
// IPv4 address past the policy.
TEST(SpecialPurposeReasonTest, EmbeddedIpv4CannotBeSmuggled) {
  ExpectReasons({
      // IPv4-mapped ::ffff:0:0/96 and its neighbours.
      {"::ffff:8.8.8.8", R::kNone},
      {"::ffff:10.0.0.5", R::kPrivate},
      {"::ffff:127.0.0.1", R::kLoopback},
      {"::ffff:169.254.169.254", R::kLinkLocal},
      {"::ffff:100.64.0.1", R::kCgnat},
      {"::ffff:0.0.0.0", R::kUnspecified},
      {"::ffff:255.255.255.255", R::kBroadcast},
      {"::ffff:224.0.0.1", R::kMulticast},
      {"::fffe:ffff:ffff", R::kReserved},
      {"::1:0:0:0", R::kReserved},
      // SIIT ::ffff:0:0:0/96 and IPv4-compatible ::/96: deprecated, so reserved unless the IPv4
      // inside says more.
      {"::ffff:0:8.8.8.8", R::kReserved},
      {"::ffff:0:10.0.0.1", R::kPrivate},
      {"::8.8.8.8", R::kReserved},
      {"::10.0.0.5", R::kPrivate},
      {"::127.0.0.1", R::kLoopback},
      // NAT64 well-known prefix 64:ff9b::/96.
      {"64:ff9b::8.8.8.8", R::kNone},
      {"64:ff9b::10.0.0.1", R::kPrivate},
      {"64:ff9b::127.0.0.1", R::kLoopback},
      {"64:ff9b::192.168.1.1", R::kPrivate},
      {"64:ff9b::255.255.255.255", R::kBroadcast},
      {"64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff", R::kReserved},
      {"64:ff9b::1:0:0", R::kReserved},
      // NAT64 local-use 64:ff9b:1::/48 (IPv4 in bytes 6, 7, 9, 10).
      {"64:ff9b:1:808:8:800::", R::kPrivate},    // 8.8.8.8 inside: local-use prefix still private
      {"64:ff9b:1:7f00:0:100::", R::kLoopback},  // 127.0.0.1 inside
      {"64:ff9b:1:ffff:ff:ff00::", R::kBroadcast},
      {"64:ff9b:2::", R::kReserved},
      // 6to4 2002::/16 (IPv4 in bits 16-47).
      {"2002:808:808::1", R::kNone},
      {"2002:a00:5::1", R::kPrivate},
      {"2002:7f00:1::", R::kLoopback},
      {"2002:c0a8:101::", R::kPrivate},
      {"2002:c058:6301::", R::kReserved},  // 192.88.99.1, the deprecated relay anycast
      {"2002::", R::kUnspecified},
      {"2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", R::kBroadcast},
      // Teredo 2001::/32: server in bits 32-63, client obfuscated (XOR) in the last 32 bits.
      {"2001:0:4136:e378:8000:63bf:f7f7:f7f7", R::kNone},           // client 8.8.8.8
      {"2001:0:4136:e378:8000:63bf:3fff:fdd2", R::kDocumentation},  // RFC 4380: 192.0.2.45
      {"2001:0:4136:e378::f5ff:fffa", R::kPrivate},                 // client 10.0.0.5
      {"2001:0:4136:e378::80ff:fffe", R::kLoopback},                // client 127.0.0.1
      {"2001:0:a00:5::f7f7:f7f7", R::kPrivate},                     // server 10.0.0.5
      {"2001::", R::kBroadcast},                                    // client ~0
  });
}

TEST(SpecialPurposeReasonTest, DefaultConstructedAddressIsUnspecified) {
  EXPECT_EQ(SpecialPurposeReason(io::IpAddress()), R::kUnspecified);
}

TEST(EmbeddedIpv4Test, ExtractsEveryForm) {
  struct Case {
    std::string address;
    std::vector<std::string> embedded;
  };
  const std::vector<Case> cases = {
      {"8.8.8.8", {}},
      {"2606:4700::1", {}},
      {"::1", {}},
      {"::ffff:1.2.3.4", {"1.2.3.4"}},
      {"::1.2.3.4", {"1.2.3.4"}},
      {"::ffff:0:1.2.3.4", {"1.2.3.4"}},
      {"64:ff9b::1.2.3.4", {"1.2.3.4"}},
      {"64:ff9b:1:102:3:400::", {"1.2.3.4"}},
      {"2002:102:304::1", {"1.2.3.4"}},
      {"2001:0:4136:e378:8000:63bf:3fff:fdd2", {"192.0.2.45", "65.54.227.120"}},
  };
  for (const Case& c : cases) {
    io::IpAddress out[2];
    const int n = EmbeddedIpv4(Ip(c.address), out);
    std::vector<std::string> got;
    for (int i = 0; i < n; ++i) got.push_back(out[i].ToString());
    EXPECT_EQ(got, c.embedded) << c.address;
  }
}

// --- ParseCidr and CidrSet ------------------------------------------------------------------

TEST(ParseCidrTest, AcceptsAddressesAndPrefixes) {
  struct Case {
    std::string input;
    std::string normalized;
  };
  const std::vector<Case> cases = {
      {"1.2.3.0/24", "1.2.3.0/24"},
      {"1.2.3.4", "1.2.3.4/32"},
      {"  10.0.0.0/8\t", "10.0.0.0/8"},
      {"10.1.2.3/8", "10.0.0.0/8"},  // host bits cleared, as zmap does
      {"0.0.0.0/0", "0.0.0.0/0"},
      {"255.255.255.255/32", "255.255.255.255/32"},
      {"1.2.3.4/032", "1.2.3.4/32"},
      {"2001:db8::/32", "2001:db8::/32"},
      {"2001:db8:1:2:3:4:5:6/48", "2001:db8:1::/48"},
      {"::1", "::1/128"},
      {"::/0", "::/0"},
      {"::ffff:1.2.3.4/128", "::ffff:1.2.3.4/128"},
      {"fe80::1/10", "fe80::/10"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Cidr> cidr = ParseCidr(c.input);
    ASSERT_TRUE(cidr.ok()) << c.input << ": " << cidr.status();
    EXPECT_EQ(cidr->ToString(), c.normalized) << c.input;
  }
}

TEST(ParseCidrTest, RejectsMalformedInput) {
  struct Case {
    std::string input;
    std::string error;  // substring of the message
  };
  const std::vector<Case> cases = {
      {"", "empty address"},
      {"   ", "empty address"},
      {"1.2.3.4/33", "prefix length 33 is out of range for IPv4 (0-32)"},
      {"::/129", "prefix length 129 is out of range for IPv6 (0-128)"},
      {"1.2.3.4/", "bad prefix length \"\""},
      {"1.2.3.4/-1", "bad prefix length \"-1\""},
      {"1.2.3.4/+8", "bad prefix length"},
      {"1.2.3.4/ 8", "bad prefix length"},
      {"1.2.3.4/8/8", "bad prefix length"},
      {"1.2.3.4/1000", "bad prefix length"},
      {"/8", "not an IPv4 or IPv6 address: \"\""},
      {"10.1", "not an IPv4 or IPv6 address: \"10.1\""},
      {"010.0.0.1", "not an IPv4 or IPv6 address"},
      {"1.2.3.256", "not an IPv4 or IPv6 address"},
      {"0x7f.0.0.1", "not an IPv4 or IPv6 address"},
      {"example.com", "not an IPv4 or IPv6 address: \"example.com\""},
      {"fe80::1%eth0", "not an IPv4 or IPv6 address"},
      {"[::1]", "not an IPv4 or IPv6 address"},
      {"1.2.3.4 5.6.7.8", "not an IPv4 or IPv6 address"},
      {std::string("1.2.3.4\0/8", 10), "NUL byte"},
      {"\x1b[31m", "not an IPv4 or IPv6 address: \"\\x1b[31m\""},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Cidr> cidr = ParseCidr(c.input);
    ASSERT_FALSE(cidr.ok()) << c.input << " parsed as " << cidr->ToString();
    EXPECT_EQ(cidr.status().code(), absl::StatusCode::kInvalidArgument) << c.input;
    EXPECT_THAT(cidr.status().message(), HasSubstr(c.error)) << c.input;
  }
}

struct MembershipCase {
  std::string address;
  bool member;
};

void ExpectMembership(const CidrSet& set, const std::vector<MembershipCase>& cases) {
  for (const MembershipCase& c : cases) {
    EXPECT_EQ(set.Contains(Ip(c.address)), c.member) << c.address;
  }
}

TEST(CidrSetTest, Ipv4Edges) {
  CidrSet set;
  ASSERT_TRUE(set.Add("192.0.2.0/24").ok());
  ASSERT_TRUE(set.Add("10.0.0.7").ok());
  ASSERT_TRUE(set.Add("172.16.0.0/12").ok());
  EXPECT_EQ(set.size(), 3u);
  ExpectMembership(set, {
                            {"192.0.1.255", false},
                            {"192.0.2.0", true},
                            {"192.0.2.255", true},
                            {"192.0.3.0", false},
                            {"10.0.0.6", false},
                            {"10.0.0.7", true},
                            {"10.0.0.8", false},
                            {"172.15.255.255", false},
                            {"172.16.0.0", true},
                            {"172.31.255.255", true},
                            {"172.32.0.0", false},
                            {"0.0.0.0", false},
                            {"255.255.255.255", false},
                            {"::ffff:192.0.2.1", false},  // families are separate
                            {"::", false},
                        });
}

TEST(CidrSetTest, Ipv6Edges) {
  CidrSet set;
  ASSERT_TRUE(set.Add("2001:db8::/32").ok());
  ASSERT_TRUE(set.Add("2606:4700::1111").ok());
  ASSERT_TRUE(set.Add("fd00:1:2:3::/64").ok());
  ExpectMembership(set, {
                            {"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", false},
                            {"2001:db8::", true},
                            {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true},
                            {"2001:db9::", false},
                            {"2606:4700::1110", false},
                            {"2606:4700::1111", true},
                            {"2606:4700::1112", false},
                            {"fd00:1:2:2:ffff:ffff:ffff:ffff", false},
                            {"fd00:1:2:3::", true},
                            {"fd00:1:2:3:ffff:ffff:ffff:ffff", true},
                            {"fd00:1:2:4::", false},
                            {"192.0.2.1", false},
                        });
}

TEST(CidrSetTest, ExtremesOfTheAddressSpace) {
  CidrSet set;
  ASSERT_TRUE(set.Add("0.0.0.0/32").ok());
  ASSERT_TRUE(set.Add("255.255.255.255").ok());
  ASSERT_TRUE(set.Add("::/128").ok());
  ASSERT_TRUE(set.Add("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128").ok());
  ExpectMembership(set, {
                            {"0.0.0.0", true},
                            {"0.0.0.1", false},
                            {"255.255.255.254", false},
                            {"255.255.255.255", true},
                            {"::", true},
                            {"::1", false},
                            {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", false},
                            {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
                        });
  EXPECT_EQ(set.interval_count(), 4u);
}

TEST(CidrSetTest, DefaultRoutesCoverOnlyTheirFamily) {
  CidrSet v4;
  ASSERT_TRUE(v4.Add("0.0.0.0/0").ok());
  ExpectMembership(
      v4, {{"0.0.0.0", true}, {"8.8.8.8", true}, {"255.255.255.255", true}, {"::", false}});
  CidrSet v6;
  ASSERT_TRUE(v6.Add("::/0").ok());
  ExpectMembership(
      v6, {{"::", true}, {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true}, {"0.0.0.0", false}});
  EXPECT_FALSE(CidrSet().Contains(Ip("1.2.3.4")));
  EXPECT_TRUE(CidrSet().empty());
}

TEST(CidrSetTest, HostBitsAreCleared) {
  CidrSet set;
  ASSERT_TRUE(set.Add("10.1.2.3/8").ok());
  ExpectMembership(set, {{"9.255.255.255", false},
                         {"10.0.0.0", true},
                         {"10.255.255.255", true},
                         {"11.0.0.0", false}});
}

TEST(CidrSetTest, OverlappingAndTouchingPrefixesMerge) {
  CidrSet set;
  ASSERT_TRUE(set.Add("10.1.0.0/16").ok());
  ASSERT_TRUE(set.Add("10.3.0.0/16").ok());
  EXPECT_EQ(set.interval_count(), 2u);
  ASSERT_TRUE(set.Add("10.0.0.0/8").ok());  // swallows both
  EXPECT_EQ(set.interval_count(), 1u);
  ASSERT_TRUE(set.Add("11.0.0.0/8").ok());  // touches above
  ASSERT_TRUE(set.Add("9.0.0.0/8").ok());   // touches below, out of order
  EXPECT_EQ(set.interval_count(), 1u);
  ASSERT_TRUE(set.Add("10.2.3.4").ok());  // already covered
  EXPECT_EQ(set.interval_count(), 1u);
  EXPECT_EQ(set.size(), 6u);
  ExpectMembership(
      set,
      {{"8.255.255.255", false}, {"9.0.0.0", true}, {"11.255.255.255", true}, {"12.0.0.0", false}});

  CidrSet gap;
  ASSERT_TRUE(gap.Add("10.0.0.0/24").ok());
  ASSERT_TRUE(gap.Add("10.0.2.0/24").ok());
  ASSERT_TRUE(gap.Add("10.0.1.0/24").ok());  // fills the gap between two intervals
  EXPECT_EQ(gap.interval_count(), 1u);
  ExpectMembership(gap, {{"10.0.1.128", true}, {"10.0.3.0", false}});
}

// Random prefixes and addresses against a brute-force scan: insertion order, merging and
// lookups must agree everywhere, not just at the hand-picked edges.
TEST(CidrSetTest, AgreesWithBruteForce) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 20; ++round) {
    CidrSet set;
    std::vector<std::pair<uint32_t, int>> v4;  // network, length
    std::vector<Cidr> v6;
    for (int i = 0; i < 200; ++i) {
      // Cluster values in 10.0.0.0/16 so that prefixes overlap and touch often.
      const uint32_t base = 0x0A000000 | (rng() & 0xFFFF);
      const int len = 16 + static_cast<int>(rng() % 17);
      const uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
      const uint8_t b[4] = {static_cast<uint8_t>(base >> 24), static_cast<uint8_t>(base >> 16),
                            static_cast<uint8_t>(base >> 8), static_cast<uint8_t>(base)};
      set.Add(Cidr{io::IpAddress::V4(b), len});  // host bits set on purpose: Add must mask
      v4.emplace_back(base & mask, len);

      uint8_t b6[16] = {0x20, 0x01, 0x0d, 0xb8};
      b6[14] = static_cast<uint8_t>(rng());
      b6[15] = static_cast<uint8_t>(rng());
      const int len6 = 112 + static_cast<int>(rng() % 17);
      absl::StatusOr<Cidr> cidr6 =
          ParseCidr(absl::StrCat(io::IpAddress::V6(b6).ToString(), "/", len6));
      ASSERT_TRUE(cidr6.ok());
      set.Add(*cidr6);
      v6.push_back(*cidr6);
    }
    for (int i = 0; i < 2000; ++i) {
      const uint32_t x = 0x0A000000 | (rng() & 0xFFFF);
      bool expected = false;
      for (const auto& [network, len] : v4) {
        const uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
        expected = expected || (x & mask) == network;
      }
      const uint8_t b[4] = {static_cast<uint8_t>(x >> 24), static_cast<uint8_t>(x >> 16),
                            static_cast<uint8_t>(x >> 8), static_cast<uint8_t>(x)};
      ASSERT_EQ(set.Contains(io::IpAddress::V4(b)), expected) << io::IpAddress::V4(b).ToString();

      uint8_t b6[16] = {0x20, 0x01, 0x0d, 0xb8};
      b6[14] = static_cast<uint8_t>(rng());
      b6[15] = static_cast<uint8_t>(rng());
      const uint32_t y = (uint32_t{b6[14]} << 8) | b6[15];
      bool expected6 = false;
      for (const Cidr& c : v6) {
        const uint32_t net = (uint32_t{c.network.bytes()[14]} << 8) | c.network.bytes()[15];
        const uint32_t mask = (0xFFFFu << (128 - c.prefix_len)) & 0xFFFF;
        expected6 = expected6 || (y & mask) == net;
      }
      ASSERT_EQ(set.Contains(io::IpAddress::V6(b6)), expected6) << io::IpAddress::V6(b6).ToString();
    }
  }
}

// --- LoadBlocklist --------------------------------------------------------------------------

class BlocklistFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& content) {
    const std::string path = ::testing::TempDir() + "/address_policy_test_" + name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    paths_.push_back(path);
    return path;
  }
  void TearDown() override {
    for (const std::string& path : paths_) std::remove(path.c_str());
  }

 private:
  std::vector<std::string> paths_;
};

TEST_F(BlocklistFileTest, ReadsZmapFormat) {
  const std::string path = Write("good.conf",
                                 "# zmap-style blocklist\n"
                                 "\n"
                                 "192.0.2.0/24\n"
                                 "   # indented comment\n"
                                 "198.51.100.7   # one host, trailing comment\n"
                                 "\t203.0.113.0/25\t\n"
                                 "10.0.0.0/8\r\n"  // CRLF line ending
                                 "2001:db8::/32#no space before the comment\n"
                                 "   \n"
                                 "8.8.8.0/24");  // no final newline
  absl::StatusOr<CidrSet> set = LoadBlocklist(path);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->size(), 6u);
  ExpectMembership(*set, {
                             {"192.0.2.77", true},
                             {"198.51.100.7", true},
                             {"198.51.100.8", false},
                             {"203.0.113.127", true},
                             {"203.0.113.128", false},
                             {"10.200.0.1", true},
                             {"2001:db8::25", true},
                             {"8.8.8.8", true},
                             {"8.8.9.8", false},
                         });
}

TEST_F(BlocklistFileTest, EmptyAndCommentOnlyFilesGiveAnEmptySet) {
  for (const std::string& content : {std::string(""), std::string("# nothing\n\n  # here\n")}) {
    absl::StatusOr<CidrSet> set = LoadBlocklist(Write("empty.conf", content));
    ASSERT_TRUE(set.ok()) << set.status();
    EXPECT_TRUE(set->empty());
  }
}

TEST_F(BlocklistFileTest, BadLineNamesFileAndLine) {
  struct Case {
    std::string content;
    std::string error;  // after "<path>:"
  };
  const std::vector<Case> cases = {
      {"10.0.0.0/8\n# ok\n\nexample.com\n", "4: not an IPv4 or IPv6 address: \"example.com\""},
      {"10.0.0.0/33\n", "1: prefix length 33 is out of range for IPv4 (0-32)"},
      {"1.2.3.4\n1.2.3.4/\n", "2: bad prefix length"},
      {"1.2.3.4\r\n\r\n10.1 # short form\r\n", "3: not an IPv4 or IPv6 address: \"10.1\""},
      {"1.2.3.4 5.6.7.8\n", "1: not an IPv4 or IPv6 address"},
  };
  for (const Case& c : cases) {
    const std::string path = Write("bad.conf", c.content);
    absl::StatusOr<CidrSet> set = LoadBlocklist(path);
    ASSERT_FALSE(set.ok()) << c.content;
    EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(set.status().message(), HasSubstr(path + ":" + c.error)) << c.content;
  }
}

TEST_F(BlocklistFileTest, MissingFileOrDirectoryIsAnError) {
  const std::string missing = ::testing::TempDir() + "/address_policy_test_no_such_file";
  absl::StatusOr<CidrSet> set = LoadBlocklist(missing);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(set.status().message(), HasSubstr(missing));

  set = LoadBlocklist(::testing::TempDir());
  ASSERT_FALSE(set.ok());
  EXPECT_THAT(set.status().message(), HasSubstr("is a directory"));
}

// --- AddressPolicy --------------------------------------------------------------------------

CidrSet Set(const std::vector<std::string>& cidrs) {
  CidrSet set;
  for (const std::string& c : cidrs) EXPECT_TRUE(set.Add(c).ok()) << c;
  return set;
}

struct PolicyCase {
  std::string address;
  BlockReason reason;
};

void ExpectPolicy(const AddressPolicy& policy, const std::vector<PolicyCase>& cases) {
  for (const PolicyCase& c : cases) {
    EXPECT_EQ(BlockReasonName(policy.Check(Ip(c.address))), BlockReasonName(c.reason)) << c.address;
  }
}

TEST(AddressPolicyTest, DefaultBlocksEverythingNotGloballyReachable) {
  AddressPolicy policy{AddressPolicyOptions{}};
  EXPECT_FALSE(policy.allow_private());
  ExpectPolicy(policy, {
                           {"127.0.0.1", R::kLoopback},  // what the simulated fleet uses
                           {"127.0.0.2", R::kLoopback},
                           {"::1", R::kLoopback},
                           {"::ffff:127.0.0.1", R::kLoopback},
                           {"10.0.0.5", R::kPrivate},
                           {"64:ff9b::10.0.0.5", R::kPrivate},
                           {"169.254.169.254", R::kLinkLocal},
                           {"fd12:3456::1", R::kUniqueLocal},
                           {"0.0.0.0", R::kUnspecified},
                           {"8.8.8.8", R::kNone},
                           {"2606:4700:4700::1111", R::kNone},
                       });
}

TEST(AddressPolicyTest, AllowPrivateLiftsSpecialRangesButNotNonUnicast) {
  AddressPolicyOptions options;
  options.allow_private = true;
  AddressPolicy policy(std::move(options));
  ExpectPolicy(policy, {
                           {"127.0.0.1", R::kNone},
                           {"127.255.255.254", R::kNone},
                           {"::1", R::kNone},
                           {"10.0.0.5", R::kNone},
                           {"192.168.1.1", R::kNone},
                           {"100.64.0.1", R::kNone},
                           {"fd00::1", R::kNone},
                           {"fe80::1", R::kNone},
                           {"192.0.2.1", R::kNone},
                           {"198.18.0.1", R::kNone},
                           {"240.0.0.1", R::kNone},
                           {"8.8.8.8", R::kNone},
                           // Never a single TCP peer: stay blocked.
                           {"0.0.0.0", R::kUnspecified},
                           {"::", R::kUnspecified},
                           {"::ffff:0.0.0.0", R::kUnspecified},
                           {"224.0.0.1", R::kMulticast},
                           {"ff02::1", R::kMulticast},
                           {"::ffff:224.0.0.1", R::kMulticast},
                           {"255.255.255.255", R::kBroadcast},
                       });
}

TEST(AddressPolicyTest, BlocklistWinsEvenWithAllowPrivate) {
  AddressPolicyOptions options;
  options.allow_private = true;
  options.blocklist = Set({"127.0.0.53", "10.0.0.0/8", "fd00::/8"});
  AddressPolicy policy(std::move(options));
  ExpectPolicy(policy, {
                           {"127.0.0.53", R::kBlocklist},
                           {"127.0.0.1", R::kNone},
                           {"10.1.2.3", R::kBlocklist},
                           {"::ffff:10.1.2.3", R::kBlocklist},
                           {"fd00::25", R::kBlocklist},
                           {"fc00::25", R::kNone},
                       });
}

TEST(AddressPolicyTest, BlocklistAppliesToEmbeddedIpv4) {
  AddressPolicyOptions options;
  options.blocklist = Set({"8.8.8.0/24", "2606:4700::/32"});
  AddressPolicy policy(std::move(options));
  ExpectPolicy(policy, {
                           {"8.8.8.8", R::kBlocklist},
                           {"8.8.8.255", R::kBlocklist},
                           {"8.8.9.0", R::kNone},
                           {"8.8.7.255", R::kNone},
                           {"::ffff:8.8.8.8", R::kBlocklist},
                           {"64:ff9b::8.8.8.8", R::kBlocklist},
                           {"2002:808:808::1", R::kBlocklist},
                           {"2001:0:4136:e378:8000:63bf:f7f7:f7f7", R::kBlocklist},  // client
                           {"2001:0:808:808::f7f7:f6f7", R::kBlocklist},  // server 8.8.8.8
                           {"::ffff:8.8.9.8", R::kNone},
                           {"2606:4700::1111", R::kBlocklist},
                           {"2606:4701::1111", R::kNone},
                           {"127.0.0.1", R::kLoopback},  // special reasons still apply
                       });
}

}  // namespace
}  // namespace mxray::engine
