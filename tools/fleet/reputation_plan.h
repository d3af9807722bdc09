// The fleet's DNS blocklists in one table: the zones it serves (names, self-test, which addresses
// each lists and with which codes), and the record mxray must make of each answer (RFC 5782,
// RELIABILITY.md "DNSBL answers"). The DNSBL zone (reputation_zone.h) answers from
// DnsblReplyFor() and the expectations (population.h, ExpectReputation) classify the same
// replies, so the two cannot drift apart. The PTR side depends on the population's shape and is
// Population::PtrName's business.
//
// The zones, all under dnsbl.fleet.test (the fleet's resolver answers them like any other name):
//
//   zone                       self-test  the listed MX addresses           everything else
//   zen.dnsbl.fleet.test       passes     dnsbl_listed  127.0.0.2 + TXT     NXDOMAIN
//     (Spamhaus ZEN codes:                dnsbl_multi   127.0.0.2, .4 + TXT
//      read it with mxray's               dnsbl_pbl     127.0.0.10 + TXT
//      spamhaus-zen profile)              dnsbl_error_252/254/255 127.255.255.252/254/255
//   rewrite.dnsbl.fleet.test   passes     dnsbl_rewritten 198.51.100.7      NXDOMAIN
//   broken.dnsbl.fleet.test    fails      dnsbl_listed, dnsbl_multi         NXDOMAIN
//                              (2.0.0.127 NXDOMAIN, 1.0.0.127 listed)  127.0.0.2 + TXT
//   slow.dnsbl.fleet.test      fails      nothing: every query, self-test included, is dropped
//   servfail.dnsbl.fleet.test  passes     nothing: SERVFAIL for every name but the self-test's
//
// "The listed MX addresses" are the hosts of those DomainKinds, 127.4.<kind>.<n> (any n >= 1).
// The self-test names are 2.0.0.127.<zone> (must be listed) and 1.0.0.127.<zone> (must be
// NXDOMAIN), and their IPv6 forms ::ffff:127.0.0.2 / ::ffff:127.0.0.1 (32 nibbles, RFC 5782 §5);
// a passing zone answers them like Spamhaus: 127.0.0.2 with a TXT record, and NXDOMAIN. IPv6
// addresses are listed nowhere (::1 is NXDOMAIN in zen and rewrite). Listed names carry one TXT
// record (DnsblTxt); error and rewritten names have A records only (TXT: NODATA).
//
// What mxray must record per (address, zone) (ExpectedDnsbl::status), in this order of
// precedence:
//   unreliable  the zone failed its self-test (broken, slow): for every address
//   error       SERVFAIL, timeout, or an answer with 127.255.255.252/254/255
//   unknown     an answer outside 127/8 (198.51.100.7: a documentation address, only data)
//   listed      an answer within 127.0.0.2-127.0.0.11 (codes and TXT)
//   not_listed  NXDOMAIN
#ifndef MXRAY_TOOLS_FLEET_REPUTATION_PLAN_H_
#define MXRAY_TOOLS_FLEET_REPUTATION_PLAN_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tools/fleet/domain_kind.h"

namespace mxray::fleet {

enum class DnsblZone : uint8_t { kZen, kRewrite, kBroken, kSlow, kServfail };
inline constexpr size_t kDnsblZoneCount = 5;

// The parent of every zone: the apex of the DNS zone that serves them.
inline constexpr std::string_view kDnsblParent = "dnsbl.fleet.test";
inline constexpr std::string_view kZenZone = "zen.dnsbl.fleet.test";
inline constexpr std::string_view kRewriteZone = "rewrite.dnsbl.fleet.test";
inline constexpr std::string_view kBrokenZone = "broken.dnsbl.fleet.test";
inline constexpr std::string_view kSlowZone = "slow.dnsbl.fleet.test";
inline constexpr std::string_view kServfailZone = "servfail.dnsbl.fleet.test";
// In DnsblZone order; the order of ExpectedReputation::dnsbl.
inline constexpr std::array<std::string_view, kDnsblZoneCount> kDnsblZones = {
    kZenZone, kRewriteZone, kBrokenZone, kSlowZone, kServfailZone};

// What the rewriting resolver answers instead of NXDOMAIN (RFC 5737 TEST-NET-2: never contacted).
inline constexpr std::array<uint8_t, 4> kRewrittenAddress = {198, 51, 100, 7};

std::string_view DnsblZoneName(DnsblZone zone);
std::optional<DnsblZone> DnsblZoneFromName(std::string_view name);

// What a zone's resolver says for one name.
struct DnsblReply {
  enum class Rcode : uint8_t { kNxdomain, kAnswer, kServfail, kDrop };
  Rcode rcode = Rcode::kNxdomain;
  uint8_t count = 0;                             // A records in `a`, ascending
  std::array<std::array<uint8_t, 4>, 2> a = {};  // kAnswer only
  bool txt = false;                              // one TXT record next to them (DnsblTxt)
};

// The reply of `zone` for the name of the address `ip` (4 or 16 bytes in network order, the
// address itself, not reversed); an empty span: a name under the zone that is no address.
DnsblReply DnsblReplyFor(DnsblZone zone, std::span<const uint8_t> ip);
// The text of a listed name's TXT record: "https://www.spamhaus.org/query/ip/<ip>" in zen,
// "https://<zone>/query/ip/<ip>" elsewhere; `ip_text` as inet_ntop writes it.
std::string DnsblTxt(DnsblZone zone, std::string_view ip_text);
// The profile mxray must read the zone with: "spamhaus-zen" for zen, "generic" for the others
// (mxray's --dnsbl ZONE=PROFILE).
std::string_view DnsblProfileName(DnsblZone zone);
// One line on what the zone lists and how it fails (mxray-fleet --help).
std::string_view DnsblZoneSummary(DnsblZone zone);

// What mxray must record for one zone and one address.
struct ExpectedDnsbl {
  std::string_view zone;
  std::string_view status;         // listed|not_listed|error|unknown|unreliable
  std::vector<std::string> codes;  // the A records as text, sorted; listed, error, unknown only
  std::string txt;                 // the TXT record's text; listed only

  friend bool operator==(const ExpectedDnsbl&, const ExpectedDnsbl&) = default;
};

// The reputation of one MX address (ExpectedExchange::reputation, parallel to its addresses).
struct ExpectedReputation {
  std::string_view ptr_status;  // ok|nxdomain: the PTR lookup of the reverse name
  std::string ptr;              // the PTR name, "" when none
  // The PTR name's A (IPv4) or AAAA (IPv6) records contain the address; false without a PTR.
  bool fcrdns = false;
  std::vector<ExpectedDnsbl> dnsbl;  // one per zone, in kDnsblZones order

  friend bool operator==(const ExpectedReputation&, const ExpectedReputation&) = default;
};

// A zone's self-test, as mxray must find it at the start of a run.
struct ExpectedDnsblZone {
  std::string_view zone;
  std::string_view profile;  // DnsblProfileName
  bool passed = false;
  // What 2.0.0.127.<zone> and 1.0.0.127.<zone> answer: listed (A 127.0.0.2) | nxdomain |
  // servfail | timeout.
  std::string_view listed_probe;
  std::string_view unlisted_probe;
};

// The record of `zone` for the address `ip` (text, as in ExpectedExchange::addresses).
ExpectedDnsbl ExpectDnsbl(DnsblZone zone, std::string_view ip);
// The same with `ip` already parsed into `address` (4 or 16 bytes; empty: not an address).
ExpectedDnsbl ExpectDnsbl(DnsblZone zone, std::string_view ip, std::span<const uint8_t> address);
bool DnsblSelfTestPasses(DnsblZone zone);
ExpectedDnsblZone ExpectDnsblZone(DnsblZone zone);
std::vector<ExpectedDnsblZone> ExpectDnsblZones();

}  // namespace mxray::fleet

#endif  // MXRAY_TOOLS_FLEET_REPUTATION_PLAN_H_
