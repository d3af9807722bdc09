// The seam between the DNS server (transport, wire format) and what it serves: a Zone answers one
// question into a message writer. The population's zone is the first; DNSBL zones and reverse
// zones can be added next to it without touching the server.
#ifndef MXRAY_TOOLS_FLEET_ZONE_H_
#define MXRAY_TOOLS_FLEET_ZONE_H_

#include <cstdint>
#include <string_view>

#include "tools/fleet/dns_wire.h"

namespace mxray::fleet {

struct ZoneResult {
  enum class Action : uint8_t {
    kAnswer,     // send the message as written, with `rcode`
    kDrop,       // send nothing: the client times out
    kMalformed,  // send a broken message (`malformation`) instead
  };
  Action action = Action::kAnswer;
  uint8_t rcode = kRcodeNoError;
  // Over UDP, reply TC=1 with no records however small the answer: the client must use TCP.
  bool tcp_only = false;
  Malformation malformation = Malformation::kTruncated;
};

class Zone {
 public:
  virtual ~Zone() = default;
  // Names equal to or under the apex go to this zone (the longest matching apex wins).
  virtual std::string_view apex() const = 0;
  // Answers like a recursive resolver: the full CNAME chain and the target's records. `qname` is
  // lowercase presentation text; `writer` holds the header and question and is in the answer
  // section. A zone may write authority records; the server adds OPT and applies TC.
  virtual ZoneResult Answer(std::string_view qname, uint16_t qtype,
                            DnsMessageWriter* writer) const = 0;
};

}  // namespace mxray::fleet

#endif  // MXRAY_TOOLS_FLEET_ZONE_H_
