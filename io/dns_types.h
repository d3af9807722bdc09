// Typed DNS answers: what the resolver hands to the engine. Plain structs, a closed status set.
#ifndef MXRAY_IO_DNS_TYPES_H_
#define MXRAY_IO_DNS_TYPES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "io/ip_address.h"

namespace mxray::io {

// The outcome of one lookup. Stable names (DnsStatusName) are part of the JSON contract.
enum class DnsStatus : uint8_t {
  kOk,         // at least one record of the asked type
  kNodata,     // the name exists, no record of that type (NOERROR, empty answer)
  kNxdomain,   // the name does not exist
  kServfail,   // the server failed (SERVFAIL, or any other error rcode)
  kRefused,    // the server refused to answer
  kTimeout,    // no answer within the tries
  kMalformed,  // an answer that cannot be parsed, or a CNAME chain that loops or is too long
};
std::string_view DnsStatusName(DnsStatus s);

enum class DnsType : uint16_t { kA = 1, kPtr = 12, kMx = 15, kTxt = 16, kAaaa = 28 };

struct MxRecord {
  uint16_t preference = 0;
  std::string exchange;  // lowercase, no trailing dot; "" for the root (null MX)
};

// Fields common to every answer.
struct DnsAnswerBase {
  DnsStatus status = DnsStatus::kTimeout;
  // CNAME targets followed from the queried name, in order (lowercase, no trailing dot).
  std::vector<std::string> cname_chain;
  bool cname_loop = false;         // the chain looped or exceeded the hop limit (status kMalformed)
  bool truncated_records = false;  // more records than the per-answer cap; the rest were dropped
};

struct MxAnswer : DnsAnswerBase {
  std::vector<MxRecord> records;  // sorted by preference, then exchange
};
struct AddressAnswer : DnsAnswerBase {
  std::vector<IpAddress> addresses;  // in answer order, duplicates removed
};
struct TxtAnswer : DnsAnswerBase {
  std::vector<std::string> texts;  // one string per TXT record, its character-strings joined
};
struct PtrAnswer : DnsAnswerBase {
  std::vector<std::string> names;
};

}  // namespace mxray::io

#endif  // MXRAY_IO_DNS_TYPES_H_
