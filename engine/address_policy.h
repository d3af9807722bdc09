// Which addresses found in DNS the auditor may connect to: the IANA special-purpose registries
// (loopback, private, link-local, ...), including IPv4 hidden in IPv6 forms, plus a user
// blocklist in zmap's format. This keeps a hostile MX record (e.g. "mx IN A 10.0.0.5") from
// turning the scanner into a probe of the network it runs in.
#ifndef MXRAY_ENGINE_ADDRESS_POLICY_H_
#define MXRAY_ENGINE_ADDRESS_POLICY_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "io/ip_address.h"

namespace mxray::engine {

// Why an address must not be contacted. A closed set; BlockReasonName() gives the stable JSON
// name of each. Add new reasons, never rename.
enum class BlockReason : uint8_t {
  kNone,                // may be contacted
  kLoopback,            // 127.0.0.0/8, ::1
  kPrivate,             // RFC 1918; 64:ff9b:1::/48 (local-use NAT64, RFC 8215)
  kLinkLocal,           // 169.254.0.0/16, fe80::/10
  kCgnat,               // 100.64.0.0/10 (shared address space, RFC 6598)
  kMulticast,           // 224.0.0.0/4, ff00::/8
  kReserved,            // 240.0.0.0/4, 192.88.99.0/24, IPv6 outside 2000::/3 not named otherwise,
                        // IPv4-compatible/SIIT IPv6 forms even of a global IPv4 address
  kUnspecified,         // 0.0.0.0, ::
  kBroadcast,           // 255.255.255.255
  kDocumentation,       // TEST-NET-1/2/3, 2001:db8::/32, 3fff::/20
  kBenchmarking,        // 198.18.0.0/15, 2001:2::/48
  kUniqueLocal,         // fc00::/7
  kBlocklist,           // the user's blocklist
  kThisNetwork,         // 0.0.0.0/8 other than 0.0.0.0 (RFC 791 "this network")
  kProtocolAssignment,  // 192.0.0.0/24, 2001::/23 (IETF protocol assignments)
  kDiscardOnly,         // 100::/64 (RFC 6666)
  kSiteLocal,           // fec0::/10 (deprecated, RFC 3879)
};

// Stable snake_case name: "none", "loopback", "private", "link_local", "cgnat", "multicast",
// "reserved", "unspecified", "broadcast", "documentation", "benchmarking", "unique_local",
// "blocklist", "this_network", "protocol_assignment", "discard_only", "site_local".
std::string_view BlockReasonName(BlockReason reason);

// The special-purpose reason for `ip`, or kNone for a globally reachable unicast address. Never
// returns kBlocklist. Pure, thread-safe, allocation-free. The table and the decisions behind it
// are documented next to the implementation in address_policy.cc. In short: every range the IANA
// registries mark "not globally reachable" is blocked; IPv6 forms that carry an IPv4 address
// (IPv4-mapped, IPv4-compatible, SIIT, NAT64 64:ff9b::/96, 6to4, Teredo) are judged by the IPv4
// address inside, so "::ffff:10.0.0.5" or "2002:0a00:0005::" is kPrivate.
BlockReason SpecialPurposeReason(const io::IpAddress& ip);

// The IPv4 addresses that traffic to `ip` ends up at, for IPv6 forms that embed one (mapped,
// IPv4-compatible, SIIT, NAT64 well-known prefix, 6to4, Teredo server and client). Returns how many
// were written to `out` (0, 1 or 2). Used to apply the blocklist's IPv4 entries to such forms.
int EmbeddedIpv4(const io::IpAddress& ip, io::IpAddress out[2]);

// A network prefix: `network` has all bits past `prefix_len` cleared.
struct Cidr {
  io::IpAddress network;
  int prefix_len = 0;  // 0..32 for IPv4, 0..128 for IPv6

  std::string ToString() const;  // "10.0.0.0/8", "2001:db8::/32"
  friend bool operator==(const Cidr& a, const Cidr& b) {
    return a.network == b.network && a.prefix_len == b.prefix_len;
  }
};

// Parses "1.2.3.0/24", "1.2.3.4" (= /32), "2001:db8::/32", "::1" (= /128). Surrounding ASCII
// whitespace is ignored. The address must be strict dotted-quad or RFC 4291 text (no "10.1", no
// octal, no zone index, no host names); the length is 1-3 decimal digits in range.
// Host bits set ("10.1.2.3/8") are accepted and cleared, giving 10.0.0.0/8, as zmap does: a
// blocklist line is read as "block this network", and refusing it would fail a whole run over a
// sloppy line while the cleared form is what the author meant in practice.
absl::StatusOr<Cidr> ParseCidr(std::string_view text);

// A set of IPv4 and IPv6 prefixes with fast membership tests. Kept as two sorted vectors of
// disjoint, non-adjacent closed intervals (overlapping and touching prefixes are merged on
// insertion); Contains() is one binary search, so thousands of entries cost ~10 compares per
// lookup and no allocation. IPv4 and IPv6 entries are separate: "::ffff:1.2.3.4" does not match
// 1.2.3.4 here (AddressPolicy applies IPv4 entries to embedded IPv4 itself).
// Inserting in ascending order is O(1) each; out-of-order inserts shift the vector (fine for
// thousands of entries; LoadBlocklist sorts before inserting, so large files are linear).
// Not thread-safe for writes; const methods may be called concurrently.
class CidrSet {
 public:
  CidrSet() = default;

  // Adds a prefix in ParseCidr's syntax; InvalidArgument (set unchanged) if it does not parse.
  absl::Status Add(std::string_view cidr);
  void Add(const Cidr& cidr);

  bool Contains(const io::IpAddress& ip) const;

  // Number of prefixes added (including ones covered by earlier entries).
  size_t size() const { return entries_; }
  bool empty() const { return entries_ == 0; }
  // Number of disjoint intervals after merging, for tests and memory accounting.
  size_t interval_count() const { return v4_.size() + v6_.size(); }

 private:
  template <typename T>
  struct Interval {
    T lo;
    T hi;  // inclusive
  };

  template <typename T>
  static void Insert(std::vector<Interval<T>>* v, T lo, T hi);
  template <typename T>
  static bool Find(const std::vector<Interval<T>>& v, T x);

  std::vector<Interval<uint32_t>> v4_;
  std::vector<Interval<absl::uint128>> v6_;
  size_t entries_ = 0;
};

// Reads a blocklist in zmap's format: one CIDR or address per line; '#' starts a comment, either a
// whole line or trailing an entry; blank lines and surrounding whitespace (including a CR before
// LF) are ignored. Host names are not accepted (zmap resolves them; an auditor must not depend on
// DNS to decide what it may touch). Any bad line fails the whole load with InvalidArgument
// "<path>:<line>: ..."; a file that cannot be read gives the errno status with the path.
absl::StatusOr<CidrSet> LoadBlocklist(const std::string& path);

struct AddressPolicyOptions {
  // Lift the special-purpose rules (loopback, private, reserved, documentation, ...) for labs and
  // the simulated fleet. Unspecified, multicast and broadcast addresses stay blocked: they never
  // name a single TCP peer.
  bool allow_private = false;
  CidrSet blocklist;
};

// The decision the engine applies before every connect. Immutable after construction; Check()
// may be called from any thread.
class AddressPolicy {
 public:
  explicit AddressPolicy(AddressPolicyOptions options);

  // kNone: may be contacted. The blocklist is checked first and wins even with allow_private; it
  // also applies to the IPv4 address embedded in mapped/NAT64/6to4/Teredo forms. Otherwise the
  // SpecialPurposeReason(), subject to allow_private.
  BlockReason Check(const io::IpAddress& ip) const;

  bool allow_private() const { return options_.allow_private; }
  const CidrSet& blocklist() const { return options_.blocklist; }

 private:
  AddressPolicyOptions options_;
};

}  // namespace mxray::engine

#endif  // MXRAY_ENGINE_ADDRESS_POLICY_H_
