// DNS blocklists (RFC 5782): the query names, what each zone's answer codes mean, and the verdict
// for one answer. Pure functions and tables; the lookups themselves run on the loop (reputation).
// A false "listed" is as bad as a missed one, so only codes a zone documents count as listed.
#ifndef MXRAY_ENGINE_DNSBL_H_
#define MXRAY_ENGINE_DNSBL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "io/dns_types.h"
#include "io/ip_address.h"

namespace mxray::engine {

// "4.3.2.1.<zone>" for 1.2.3.4; 32 reversed nibbles for IPv6 (RFC 5782 §2.4).
std::string DnsblQueryName(const io::IpAddress& ip, std::string_view zone);
// "4.3.2.1.in-addr.arpa" / "<nibbles>.ip6.arpa".
std::string PtrQueryName(const io::IpAddress& ip);

enum class DnsblStatus : uint8_t {
  kListed,      // an A answer in 127/8 with codes the zone documents
  kNotListed,   // NXDOMAIN (or NODATA) from a zone that passed its self-test
  kError,       // the zone's own error codes, SERVFAIL, REFUSED, timeout, malformed
  kUnknown,     // an answer outside 127/8 (a resolver rewriting NXDOMAIN) or an undocumented code
  kUnreliable,  // the zone failed its self-test: nothing it says is trusted this run
};
std::string_view DnsblStatusName(DnsblStatus s);

// One documented return code of a zone.
struct DnsblCode {
  uint8_t last_octet;        // 127.0.0.<last_octet>
  std::string_view list;     // "SBL", "XBL", "PBL", "CSS"...
  std::string_view meaning;  // what the listing says about the address
  // Severity of the dnsbl_listed finding: "high" for spam sources and exploited hosts, "info"
  // for policy lists (PBL: an end-user range that should not send mail directly).
  std::string_view severity;
};

// How a zone's answers are read. Known zones are recognised by name; `--dnsbl ZONE=PROFILE`
// names one for mirrors, DQS zones and test zones.
struct DnsblProfile {
  std::string_view name;  // "spamhaus-zen", "spamcop", "barracuda", "generic"
  std::vector<DnsblCode> codes;
  // Answers meaning "your query was refused or malformed", never "listed".
  bool spamhaus_errors = false;
  bool any_127_listed = false;  // generic zones: every 127/8 answer (but 127.0.0.1) is a listing
};
const DnsblProfile* FindDnsblProfile(std::string_view name);
// The profile of a zone by its name: Spamhaus ZEN (also *.zen.dq.spamhaus.net), SpamCop,
// Barracuda; generic otherwise.
const DnsblProfile& ProfileForZone(std::string_view zone);

struct DnsblVerdict {
  DnsblStatus status = DnsblStatus::kError;
  std::vector<std::string> codes;          // the A records, as text, sorted
  std::vector<std::string_view> lists;     // the documented lists of those codes
  std::vector<std::string_view> meanings;  // and their meanings
  std::string_view severity;               // the worst severity of the codes (listed only)
  std::string reason;                      // for error and unknown
};

// The verdict for one A answer of `zone_profile`. `zone_trusted`: the zone passed its self-test.
DnsblVerdict ClassifyDnsblAnswer(const DnsblProfile& profile, const io::AddressAnswer& answer,
                                 bool zone_trusted);

// RFC 5782 §5: 127.0.0.2 must be listed and 127.0.0.1 must not.
bool DnsblSelfTestPassed(const DnsblProfile& profile, const io::AddressAnswer& listed_probe,
                         const io::AddressAnswer& unlisted_probe);

}  // namespace mxray::engine

#endif  // MXRAY_ENGINE_DNSBL_H_
