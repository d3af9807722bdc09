// The result of auditing one input line: plain structs that report/ turns into one JSON line.
// Later capabilities extend AddressRecord (ports, TLS, DNSBL, PTR); names mirror the JSON.
#ifndef MXRAY_ENGINE_DOMAIN_RECORD_H_
#define MXRAY_ENGINE_DOMAIN_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/port_record.h"
#include "engine/reputation.h"
#include "io/dns_types.h"
#include "io/ip_address.h"

namespace mxray::engine {

enum class DomainStatus : uint8_t {
  kOk,            // at least one usable mail host address
  kInvalidInput,  // the input line is not a valid domain name
  kNxdomain,      // the domain does not exist
  kNullMx,        // RFC 7505 null MX: the domain accepts no mail
  kNoMailHost,    // no MX and no address, or MX hosts none of which has an address
  kDnsError,      // SERVFAIL, REFUSED or a malformed answer kept us from knowing
  kDnsTimeout,    // a lookup that mattered timed out
};
std::string_view DomainStatusName(DomainStatus s);

enum class MxSource : uint8_t {
  kMx,        // from the MX RRset
  kImplicit,  // no MX: the domain's own A/AAAA (RFC 5321 §5.1)
  kNullMx,    // "0 ." (RFC 7505)
  kNone,      // no mail host could be determined
};
std::string_view MxSourceName(MxSource s);

enum class ExchangeStatus : uint8_t {
  kOk,           // at least one address
  kNoAddress,    // the name exists but has neither A nor AAAA
  kNxdomain,     // the exchange name does not exist
  kDnsError,     // SERVFAIL/REFUSED/malformed on its A or AAAA lookup, and no address
  kDnsTimeout,   // its A or AAAA lookup timed out, and no address
  kCnameLoop,    // its address lookup followed a CNAME chain that loops or is too long
  kIpLiteral,    // the exchange is an IP address written as a name: never used (RFC 5321 §5.1)
  kInvalidName,  // not a valid host name: never used
  kNullMxMixed,  // "." alongside other MX records: ignored (RFC 7505 §3)
  kSkipped,      // beyond --max-exchanges: not resolved
};
std::string_view ExchangeStatusName(ExchangeStatus s);

// How an endpoint's certificate stands for one exchange name. The probe is shared by every domain
// using the endpoint, but hostname matching depends on which MX name asks, so this is judged per
// domain from the shared facts (engine/findings.h).
struct CertificateVerdict {
  bool judged = false;  // the endpoint completed a handshake with a certificate
  bool hostname_match = false;
  std::string_view status;  // tls::VerifyStatusWord: ok, expired, self_signed, ...
};

struct AddressRecord {
  io::IpAddress ip;
  // One per probed port, in --ports order; shared with every domain using this endpoint.
  std::vector<PortRecordPtr> ports;
  std::vector<CertificateVerdict> verdicts;  // parallel to ports
  ReputationPtr reputation;                  // DNSBL and PTR; null when not looked up
  // The PTR names compared with this exchange's name and with the name the server gives itself
  // in its greeting (first word of a 220 banner on any port); unset when there is nothing to
  // compare (no PTR, no greeting).
  std::optional<bool> ptr_matches_mx;
  std::optional<bool> ptr_matches_greeting;
};

struct ExchangeRecord {
  uint16_t preference = 0;
  std::string exchange;
  ExchangeStatus status = ExchangeStatus::kOk;
  // Status of each address lookup; unset when it was not made.
  std::optional<io::DnsStatus> a_status;
  std::optional<io::DnsStatus> aaaa_status;
  std::vector<std::string> cname;    // CNAME chain of the exchange name, if any
  bool addresses_truncated = false;  // more addresses than --max-addresses; the rest were dropped
  std::vector<AddressRecord> addresses;
};

// Something a mail administrator should act on, at one endpoint of one exchange.
struct Finding {
  std::string_view id;        // stable name, see docs/output.md
  std::string_view severity;  // info | low | medium | high
  uint16_t exchange = 0;      // index into DomainRecord::mx
  uint16_t address = 0;       // index into that exchange's addresses
  uint16_t port = 0;          // the logical port; 0 for findings about the address itself
};

struct DomainRecord {
  std::string input;   // the raw input line (trimmed), always present
  std::string domain;  // normalized A-label form; empty when invalid
  DomainStatus status = DomainStatus::kOk;
  std::string error;  // a short reason for invalid_input
  MxSource mx_source = MxSource::kNone;
  std::optional<io::DnsStatus> mx_status;  // status of the MX lookup
  // Status of the domain's own A/AAAA lookups, made for the implicit MX when there is no MX.
  std::optional<io::DnsStatus> a_status;
  std::optional<io::DnsStatus> aaaa_status;
  std::vector<std::string> mx_cname;  // CNAME chain followed by the MX lookup
  bool mx_truncated = false;          // more MX records than --max-exchanges
  std::vector<ExchangeRecord> mx;
  std::vector<Finding> findings;
  uint64_t elapsed_ms = 0;
};

}  // namespace mxray::engine

#endif  // MXRAY_ENGINE_DOMAIN_RECORD_H_
