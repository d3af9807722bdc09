// Address policy: the special-purpose address tables for IPv4 and IPv6, the CIDR interval set,
// the zmap-format blocklist reader, and the combined connect-time check.
#include "engine/address_policy.h"

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace mxray::engine {
namespace {

absl::string_view AbslView(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Quotes untrusted text for an error message: C escapes, and long input cut short.
std::string Quote(std::string_view s) {
  constexpr size_t kMaxQuoted = 80;
  const bool cut = s.size() > kMaxQuoted;
  if (cut) s = s.substr(0, kMaxQuoted);
  return absl::StrCat("\"", absl::CHexEscape(AbslView(s)), cut ? "...\"" : "\"");
}

std::string_view StripAscii(std::string_view s) {
  const absl::string_view stripped = absl::StripAsciiWhitespace(AbslView(s));
  return std::string_view(stripped.data(), stripped.size());
}

uint32_t V4Value(const uint8_t* b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

absl::uint128 V6Value(const uint8_t* b) {
  uint64_t hi = 0;
  uint64_t lo = 0;
  for (int i = 0; i < 8; ++i) hi = (hi << 8) | b[i];
  for (int i = 8; i < 16; ++i) lo = (lo << 8) | b[i];
  return absl::MakeUint128(hi, lo);
}

io::IpAddress V4FromValue(uint32_t v) {
  const uint8_t b[4] = {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
                        static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
  return io::IpAddress::V4(b);
}

io::IpAddress V6FromValue(absl::uint128 v) {
  uint8_t b[16];
  uint64_t hi = absl::Uint128High64(v);
  uint64_t lo = absl::Uint128Low64(v);
  for (int i = 7; i >= 0; --i, hi >>= 8) b[i] = static_cast<uint8_t>(hi);
  for (int i = 15; i >= 8; --i, lo >>= 8) b[i] = static_cast<uint8_t>(lo);
  return io::IpAddress::V6(b);
}

// Network masks; a shift by the full width is undefined, hence the len == 0 cases.
uint32_t V4Mask(int len) { return len == 0 ? 0 : ~uint32_t{0} << (32 - len); }
absl::uint128 V6Mask(int len) { return len == 0 ? 0 : ~absl::uint128(0) << (128 - len); }

// ---------------------------------------------------------------------------------------------
// IPv4 special-purpose table. Sources: the IANA IPv4 Special-Purpose Address Registry (RFC 6890,
// updated by RFC 8190 and later) and the IPv4 Address Space Registry (multicast, class E). First
// match wins, so the more specific rows come first.
//
//   range               registry name                    reachable*  reason
//   0.0.0.0/32          "This host on this network"      no          unspecified
//   0.0.0.0/8           "This network"                   no          this_network
//   10.0.0.0/8          Private-Use (RFC 1918)           no          private
//   100.64.0.0/10       Shared Address Space (RFC 6598)  no          cgnat
//   127.0.0.0/8         Loopback                         no          loopback
//   169.254.0.0/16      Link Local                       no          link_local
//   172.16.0.0/12       Private-Use                      no          private
//   192.0.0.0/24        IETF Protocol Assignments        no (a)      protocol_assignment
//   192.0.2.0/24        Documentation (TEST-NET-1)       no          documentation
//   192.88.99.0/24      6to4 Relay Anycast (deprecated)  n/a (b)     reserved
//   192.168.0.0/16      Private-Use                      no          private
//   198.18.0.0/15       Benchmarking (RFC 2544)          no          benchmarking
//   198.51.100.0/24     Documentation (TEST-NET-2)       no          documentation
//   203.0.113.0/24      Documentation (TEST-NET-3)       no          documentation
//   224.0.0.0/4         Multicast (address space reg.)   -           multicast
//   255.255.255.255/32  Limited Broadcast                no          broadcast
//   240.0.0.0/4         Reserved (class E)               no          reserved
//
//   * the registry's "Globally Reachable" column.
//   (a) The registry marks 192.0.0.9/32 (PCP anycast) and 192.0.0.10/32 (TURN anycast) globally
//       reachable. We block the whole /24 anyway: those are protocol anycast services, never a
//       mail server, and a whole block is simpler to reason about. Stricter, never looser.
//   (b) RFC 7526 deprecated 6to4 relay anycast; no mail server lives there.
//   Left allowed because the registry marks them globally reachable: 192.31.196.0/24 (AS112-v4),
//   192.52.193.0/24 (AMT), 192.175.48.0/24 (AS112 direct delegation).
struct V4Rule {
  uint32_t prefix;
  int len;
  BlockReason reason;
};

constexpr V4Rule kV4Rules[] = {
    {0x00000000, 32, BlockReason::kUnspecified},
    {0x00000000, 8, BlockReason::kThisNetwork},
    {0x0A000000, 8, BlockReason::kPrivate},
    {0x64400000, 10, BlockReason::kCgnat},
    {0x7F000000, 8, BlockReason::kLoopback},
    {0xA9FE0000, 16, BlockReason::kLinkLocal},
    {0xAC100000, 12, BlockReason::kPrivate},
    {0xC0000000, 24, BlockReason::kProtocolAssignment},
    {0xC0000200, 24, BlockReason::kDocumentation},
    {0xC0586300, 24, BlockReason::kReserved},
    {0xC0A80000, 16, BlockReason::kPrivate},
    {0xC6120000, 15, BlockReason::kBenchmarking},
    {0xC6336400, 24, BlockReason::kDocumentation},
    {0xCB007100, 24, BlockReason::kDocumentation},
    {0xE0000000, 4, BlockReason::kMulticast},
    {0xFFFFFFFF, 32, BlockReason::kBroadcast},
    {0xF0000000, 4, BlockReason::kReserved},
};

BlockReason V4Reason(uint32_t v) {
  for (const V4Rule& rule : kV4Rules) {
    if ((v & V4Mask(rule.len)) == rule.prefix) return rule.reason;
  }
  return BlockReason::kNone;
}

// ---------------------------------------------------------------------------------------------
// IPv6 special-purpose table. Sources: the IANA IPv6 Special-Purpose Address Registry and the
// IPv6 Address Space Registry. First match wins.
//
// Only 2000::/3 is allocated as global unicast; everything else is special or "Reserved by
// IETF", so the last row blocks whatever the rows above do not name. Forms that carry an IPv4
// address are judged by that address (the "embedded" column): if the IPv4 address has a
// special-purpose reason, that reason is returned (so "::ffff:10.0.0.5" is "private"); if not,
// the row's own reason applies.
//
//   range              registry name                   embedded IPv4        reason otherwise
//   ::/128             Unspecified                     -                    unspecified
//   ::1/128            Loopback                        -                    loopback
//   ::ffff:0:0/96      IPv4-mapped                     last 32 bits         none (c)
//   ::ffff:0:0:0/96    SIIT IPv4-translated (RFC 2765) last 32 bits         reserved
//   ::/96              IPv4-compatible (deprecated)    last 32 bits         reserved
//   64:ff9b::/96       NAT64 well-known (RFC 6052)     last 32 bits         none (d)
//   64:ff9b:1::/48     NAT64 local-use (RFC 8215)      RFC 6052 /48 layout  private
//   ::/8               Reserved by IETF                -                    reserved
//   100::/64           Discard-Only (RFC 6666)         -                    discard_only
//   2001::/32          Teredo (RFC 4380)               server, ~client      none (e)
//   2001:2::/48        Benchmarking (RFC 5180)         -                    benchmarking
//   2001::/23          IETF Protocol Assignments       -                    protocol_assignment (f)
//   2001:db8::/32      Documentation (RFC 3849)        -                    documentation
//   2002::/16          6to4 (RFC 3056)                 bits 16-47           none (g)
//   3fff::/20          Documentation (RFC 9637)        -                    documentation
//   2000::/3           Global unicast                  -                    none
//   fc00::/7           Unique-Local (RFC 4193)         -                    unique_local
//   fe80::/10          Link-Local Unicast              -                    link_local
//   fec0::/10          Site-Local (deprecated)         -                    site_local
//   ff00::/8           Multicast                       -                    multicast
//   ::/0               Reserved by IETF (the rest: 100::/8, 4000::/3, 5f00::/16 SRv6 SIDs,
//                      100:0:0:1::/64 dummy prefix, ...)                    reserved
//
//   (c) A dual-stack socket sends ::ffff:a.b.c.d to a.b.c.d over IPv4: exactly as safe as a.b.c.d.
//   (d) RFC 6052 forbids this prefix for non-global IPv4; a NAT64 gateway would still translate
//       it, so a special IPv4 inside is blocked with the IPv4 reason.
//   (e) Packets reach the client's NAT at the de-obfuscated client address (last 32 bits XOR
//       0xffffffff); the server address is bits 32-63. Both are judged.
//   (f) Stricter than the registry, which marks a few sub-ranges globally reachable (PCP, TURN and
//       DNS-SD SRP anycast, AMT 2001:3::/32, AS112-v6 2001:4:112::/48, ORCHIDv2 2001:20::/28,
//       DRIP 2001:30::/28): protocol services and identifiers, never mail servers.
//   (g) A 6to4 relay forwards to the embedded IPv4 address.
enum class Embed : uint8_t {
  kNone,
  kLast32,     // bytes 12..15
  kNat64Use,   // 64:ff9b:1::/48: bytes 6, 7, 9, 10 (byte 8 is the RFC 6052 "u" octet)
  kSixToFour,  // bytes 2..5
  kTeredo,     // server bytes 4..7, client ~bytes 12..15
};

struct V6Rule {
  uint64_t prefix_hi;
  uint64_t prefix_lo;
  int len;
  BlockReason reason;
  Embed embed;
};

constexpr V6Rule kV6Rules[] = {
    {0, 0, 128, BlockReason::kUnspecified, Embed::kNone},
    {0, 1, 128, BlockReason::kLoopback, Embed::kNone},
    {0, 0x0000FFFF00000000, 96, BlockReason::kNone, Embed::kLast32},
    {0, 0xFFFF000000000000, 96, BlockReason::kReserved, Embed::kLast32},
    {0, 0, 96, BlockReason::kReserved, Embed::kLast32},
    {0x0064FF9B00000000, 0, 96, BlockReason::kNone, Embed::kLast32},
    {0x0064FF9B00010000, 0, 48, BlockReason::kPrivate, Embed::kNat64Use},
    {0, 0, 8, BlockReason::kReserved, Embed::kNone},
    {0x0100000000000000, 0, 64, BlockReason::kDiscardOnly, Embed::kNone},
    {0x2001000000000000, 0, 32, BlockReason::kNone, Embed::kTeredo},
    {0x2001000200000000, 0, 48, BlockReason::kBenchmarking, Embed::kNone},
    {0x2001000000000000, 0, 23, BlockReason::kProtocolAssignment, Embed::kNone},
    {0x20010DB800000000, 0, 32, BlockReason::kDocumentation, Embed::kNone},
    {0x2002000000000000, 0, 16, BlockReason::kNone, Embed::kSixToFour},
    {0x3FFF000000000000, 0, 20, BlockReason::kDocumentation, Embed::kNone},
    {0x2000000000000000, 0, 3, BlockReason::kNone, Embed::kNone},
    {0xFC00000000000000, 0, 7, BlockReason::kUniqueLocal, Embed::kNone},
    {0xFE80000000000000, 0, 10, BlockReason::kLinkLocal, Embed::kNone},
    {0xFEC0000000000000, 0, 10, BlockReason::kSiteLocal, Embed::kNone},
    {0xFF00000000000000, 0, 8, BlockReason::kMulticast, Embed::kNone},
    {0, 0, 0, BlockReason::kReserved, Embed::kNone},
};

const V6Rule& MatchV6(absl::uint128 v) {
  for (const V6Rule& rule : kV6Rules) {
    if ((v & V6Mask(rule.len)) == absl::MakeUint128(rule.prefix_hi, rule.prefix_lo)) return rule;
  }
  return kV6Rules[std::size(kV6Rules) - 1];  // unreachable: ::/0 matches everything
}

// The IPv4 addresses (as integers) embedded in `b` according to `embed`; returns the count.
int ExtractV4(Embed embed, const uint8_t* b, uint32_t out[2]) {
  switch (embed) {
    case Embed::kNone:
      return 0;
    case Embed::kLast32:
      out[0] = V4Value(b + 12);
      return 1;
    case Embed::kNat64Use: {
      const uint8_t v4[4] = {b[6], b[7], b[9], b[10]};
      out[0] = V4Value(v4);
      return 1;
    }
    case Embed::kSixToFour:
      out[0] = V4Value(b + 2);
      return 1;
    case Embed::kTeredo:
      out[0] = ~V4Value(b + 12);  // client, obfuscated on the wire
      out[1] = V4Value(b + 4);    // server
      return 2;
  }
  return 0;
}

}  // namespace

std::string_view BlockReasonName(BlockReason reason) {
  switch (reason) {
    case BlockReason::kNone:
      return "none";
    case BlockReason::kLoopback:
      return "loopback";
    case BlockReason::kPrivate:
      return "private";
    case BlockReason::kLinkLocal:
      return "link_local";
    case BlockReason::kCgnat:
      return "cgnat";
    case BlockReason::kMulticast:
      return "multicast";
    case BlockReason::kReserved:
      return "reserved";
    case BlockReason::kUnspecified:
      return "unspecified";
    case BlockReason::kBroadcast:
      return "broadcast";
    case BlockReason::kDocumentation:
      return "documentation";
    case BlockReason::kBenchmarking:
      return "benchmarking";
    case BlockReason::kUniqueLocal:
      return "unique_local";
    case BlockReason::kBlocklist:
      return "blocklist";
    case BlockReason::kThisNetwork:
      return "this_network";
    case BlockReason::kProtocolAssignment:
      return "protocol_assignment";
    case BlockReason::kDiscardOnly:
      return "discard_only";
    case BlockReason::kSiteLocal:
      return "site_local";
  }
  return "unknown";
}

BlockReason SpecialPurposeReason(const io::IpAddress& ip) {
  if (ip.is_v4()) return V4Reason(V4Value(ip.bytes()));
  const V6Rule& rule = MatchV6(V6Value(ip.bytes()));
  uint32_t embedded[2];
  const int n = ExtractV4(rule.embed, ip.bytes(), embedded);
  for (int i = 0; i < n; ++i) {
    const BlockReason reason = V4Reason(embedded[i]);
    if (reason != BlockReason::kNone) return reason;
  }
  return rule.reason;
}

int EmbeddedIpv4(const io::IpAddress& ip, io::IpAddress out[2]) {
  if (ip.is_v4()) return 0;
  uint32_t embedded[2];
  const int n = ExtractV4(MatchV6(V6Value(ip.bytes())).embed, ip.bytes(), embedded);
  for (int i = 0; i < n; ++i) out[i] = V4FromValue(embedded[i]);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Cidr, CidrSet

std::string Cidr::ToString() const { return absl::StrCat(network.ToString(), "/", prefix_len); }

absl::StatusOr<Cidr> ParseCidr(std::string_view text) {
  const std::string_view s = StripAscii(text);
  if (s.empty()) return absl::InvalidArgumentError("empty address");
  // IpAddress::Parse hands the text to inet_pton as a C string: an embedded NUL would cut it.
  if (s.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("NUL byte in address ", Quote(s)));
  }
  const size_t slash = s.find('/');
  const std::string_view addr_text = s.substr(0, slash);
  const std::optional<io::IpAddress> addr = io::IpAddress::Parse(addr_text);
  if (!addr.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not an IPv4 or IPv6 address: ", Quote(addr_text)));
  }
  const int max_len = addr->is_v4() ? 32 : 128;
  int len = max_len;
  if (slash != std::string_view::npos) {
    const std::string_view len_text = s.substr(slash + 1);
    const bool digits =
        !len_text.empty() && len_text.size() <= 3 &&
        std::all_of(len_text.begin(), len_text.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad prefix length ", Quote(len_text), " (expected decimal digits)"));
    }
    len = 0;
    for (char c : len_text) len = len * 10 + (c - '0');
    if (len > max_len) {
      return absl::InvalidArgumentError(
          absl::StrCat("prefix length ", len, " is out of range for ",
                       addr->is_v4() ? "IPv4 (0-32)" : "IPv6 (0-128)"));
    }
  }
  Cidr cidr;
  cidr.prefix_len = len;
  if (addr->is_v4()) {
    cidr.network = V4FromValue(V4Value(addr->bytes()) & V4Mask(len));
  } else {
    cidr.network = V6FromValue(V6Value(addr->bytes()) & V6Mask(len));
  }
  return cidr;
}

namespace {

// True if the interval ending at `a_hi` lies strictly before `b_lo` with a gap between them
// (neither overlapping nor touching). a_hi < b_lo rules out overflow in a_hi + 1.
template <typename T>
bool StrictlyBefore(T a_hi, T b_lo) {
  return a_hi < b_lo && a_hi + 1 != b_lo;
}

}  // namespace

template <typename T>
void CidrSet::Insert(std::vector<Interval<T>>* v, T lo, T hi) {
  // Fast path: ascending input with a gap appends; touching or overlapping input merges into the
  // last interval below, also without shifting the vector.
  if (v->empty() || StrictlyBefore(v->back().hi, lo)) {
    v->push_back({lo, hi});
    return;
  }
  // [first, last) are the intervals that overlap or touch [lo, hi]; they merge into one.
  auto first = std::partition_point(
      v->begin(), v->end(), [&](const Interval<T>& iv) { return StrictlyBefore(iv.hi, lo); });
  auto last = std::partition_point(
      first, v->end(), [&](const Interval<T>& iv) { return !StrictlyBefore(hi, iv.lo); });
  if (first == last) {
    v->insert(first, Interval<T>{lo, hi});
    return;
  }
  first->lo = std::min(first->lo, lo);
  first->hi = std::max((last - 1)->hi, hi);
  v->erase(first + 1, last);
}

template <typename T>
bool CidrSet::Find(const std::vector<Interval<T>>& v, T x) {
  // The last interval starting at or below x is the only candidate.
  auto it = std::upper_bound(v.begin(), v.end(), x,
                             [](T value, const Interval<T>& iv) { return value < iv.lo; });
  return it != v.begin() && x <= (it - 1)->hi;
}

absl::Status CidrSet::Add(std::string_view cidr) {
  absl::StatusOr<Cidr> parsed = ParseCidr(cidr);
  if (!parsed.ok()) return parsed.status();
  Add(*parsed);
  return absl::OkStatus();
}

void CidrSet::Add(const Cidr& cidr) {
  if (cidr.network.is_v4()) {
    const uint32_t mask = V4Mask(cidr.prefix_len);
    const uint32_t lo = V4Value(cidr.network.bytes()) & mask;
    Insert<uint32_t>(&v4_, lo, lo | ~mask);
  } else {
    const absl::uint128 mask = V6Mask(cidr.prefix_len);
    const absl::uint128 lo = V6Value(cidr.network.bytes()) & mask;
    Insert<absl::uint128>(&v6_, lo, lo | ~mask);
  }
  ++entries_;
}

bool CidrSet::Contains(const io::IpAddress& ip) const {
  if (ip.is_v4()) return Find<uint32_t>(v4_, V4Value(ip.bytes()));
  return Find<absl::uint128>(v6_, V6Value(ip.bytes()));
}

// ---------------------------------------------------------------------------------------------
// Blocklist file

absl::StatusOr<CidrSet> LoadBlocklist(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return absl::InvalidArgumentError(absl::StrCat("blocklist ", path, " is a directory"));
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) {
    const int err = errno;
    return absl::ErrnoToStatus(err != 0 ? err : ENOENT,
                               absl::StrCat("cannot open blocklist ", path));
  }
  // Parse everything first so that errors carry line numbers, then insert in ascending order so
  // every insertion takes CidrSet's append fast path.
  std::vector<Cidr> cidrs;
  std::string line;
  size_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    std::string_view entry = line;
    const size_t hash = entry.find('#');
    if (hash != std::string_view::npos) entry = entry.substr(0, hash);
    entry = StripAscii(entry);
    if (entry.empty()) continue;
    absl::StatusOr<Cidr> cidr = ParseCidr(entry);
    if (!cidr.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", line_number, ": ", cidr.status().message()));
    }
    cidrs.push_back(*cidr);
  }
  if (in.bad()) {
    return absl::DataLossError(absl::StrCat(path, ":", line_number, ": read error"));
  }
  std::sort(cidrs.begin(), cidrs.end(), [](const Cidr& a, const Cidr& b) {
    if (a.network == b.network) return a.prefix_len < b.prefix_len;
    return a.network < b.network;
  });
  CidrSet set;
  for (const Cidr& cidr : cidrs) set.Add(cidr);
  return set;
}

// ---------------------------------------------------------------------------------------------
// AddressPolicy

AddressPolicy::AddressPolicy(AddressPolicyOptions options) : options_(std::move(options)) {}

BlockReason AddressPolicy::Check(const io::IpAddress& ip) const {
  const CidrSet& blocklist = options_.blocklist;
  if (!blocklist.empty()) {
    if (blocklist.Contains(ip)) return BlockReason::kBlocklist;
    io::IpAddress embedded[2];
    const int n = EmbeddedIpv4(ip, embedded);
    for (int i = 0; i < n; ++i) {
      if (blocklist.Contains(embedded[i])) return BlockReason::kBlocklist;
    }
  }
  const BlockReason reason = SpecialPurposeReason(ip);
  if (options_.allow_private && reason != BlockReason::kUnspecified &&
      reason != BlockReason::kMulticast && reason != BlockReason::kBroadcast) {
    return BlockReason::kNone;
  }
  return reason;
}

}  // namespace mxray::engine
