// Interpretation of a DNS answer message: pure functions over bytes, so that every lie a resolver
// can tell (bad pointers, wrong owners, CNAME loops) is handled in one place and fuzzed.
#ifndef MXRAY_IO_DNS_ANSWER_H_
#define MXRAY_IO_DNS_ANSWER_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "io/dns_types.h"

namespace mxray::io {

struct DnsHeader {
  uint16_t id = 0;
  bool truncated = false;
  bool authenticated = false;  // AD
  uint8_t rcode = 0;
  uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;
};

// Parses the 12-byte header; false if the message is shorter.
bool ParseDnsHeader(std::span<const uint8_t> msg, DnsHeader* out);

// Reads a possibly compressed name at *offset (advanced past it). The name comes out lowercase,
// dotted, without the trailing dot ("" for the root); bytes that cannot appear in presentation
// form unescaped ('.', '\\', non-printables, spaces) come out as \DDD so that a hostile label can
// never pass for a valid host name. False on a bad pointer, a pointer loop or overlong name.
bool ReadDnsName(std::span<const uint8_t> msg, size_t* offset, std::string* out);

struct AnswerLimits {
  size_t max_records = 64;  // records of the asked type kept; more sets truncated_records
  int max_cname_hops = 10;  // across the whole chain, re-queries included
};

// What one answer message says about `qname`. `next_name` is set when the answer ends in a CNAME
// whose target it does not cover: the caller asks again for that name, carrying the chain.
struct Interpretation {
  DnsStatus status = DnsStatus::kMalformed;
  std::string next_name;
};

// Fills the typed answer from a NOERROR answer with records (the caller maps other rcodes).
// `answer->cname_chain` may already hold hops from earlier queries of the same lookup.
Interpretation InterpretMx(std::span<const uint8_t> msg, std::string_view qname,
                           const AnswerLimits& limits, MxAnswer* answer);
Interpretation InterpretAddress(std::span<const uint8_t> msg, std::string_view qname, DnsType type,
                                const AnswerLimits& limits, AddressAnswer* answer);
Interpretation InterpretTxt(std::span<const uint8_t> msg, std::string_view qname,
                            const AnswerLimits& limits, TxtAnswer* answer);
Interpretation InterpretPtr(std::span<const uint8_t> msg, std::string_view qname,
                            const AnswerLimits& limits, PtrAnswer* answer);

}  // namespace mxray::io

#endif  // MXRAY_IO_DNS_ANSWER_H_
