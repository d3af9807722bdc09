// Query bytes in, response bytes out: the transport-free core of the fleet's DNS server. Picks the
// zone, applies the resolver's header conventions (RD echoed, RA set), EDNS, UDP truncation and
// deliberate malformations. Pure and synchronous, so tests and fuzzers can drive it without
// sockets.
#ifndef MXRAY_TOOLS_FLEET_DNS_RESPONDER_H_
#define MXRAY_TOOLS_FLEET_DNS_RESPONDER_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tools/fleet/dns_wire.h"
#include "tools/fleet/zone.h"

namespace mxray::fleet {

enum class Transport : uint8_t { kUdp, kTcp };

// What happened to one query, for the server's counters.
struct ResponseInfo {
  bool dropped = false;    // nothing to send: unparseable, or a never-answering name
  bool truncated = false;  // TC=1 sent over UDP
  bool malformed = false;  // a deliberately broken message
  uint8_t rcode = 0;
};

class DnsResponder {
 public:
  // The UDP payload we advertise in OPT and the most we send over UDP.
  static constexpr uint16_t kEdnsUdpBytes = 1232;
  static constexpr size_t kMaxUdpResponseBytes = 4096;

  // Zones must outlive the responder; the longest matching apex answers.
  explicit DnsResponder(std::vector<const Zone*> zones);

  // Writes the response into `out` (at least kMaxUdpResponseBytes for UDP, kMaxDnsMessageBytes
  // for TCP) and returns its length; 0 means send nothing.
  size_t Respond(std::span<const uint8_t> query, Transport transport, std::span<uint8_t> out,
                 ResponseInfo* info);

 private:
  const Zone* FindZone(std::string_view qname) const;

  std::vector<const Zone*> zones_;
  DnsQuery query_;  // reused: its strings keep their capacity
};

}  // namespace mxray::fleet

#endif  // MXRAY_TOOLS_FLEET_DNS_RESPONDER_H_
