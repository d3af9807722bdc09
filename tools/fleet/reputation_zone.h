// The fleet's reputation data as DNS, next to the population's zone on the same server: the DNSBL
// zones under dnsbl.fleet.test (reputation_plan.h says what each lists, and how it fails) and the
// reverse zones in-addr.arpa and ip6.arpa (the PTR records of population.h). Like the population's
// zone, answers are computed from the name on each query; nothing is stored.
#ifndef MXRAY_TOOLS_FLEET_REPUTATION_ZONE_H_
#define MXRAY_TOOLS_FLEET_REPUTATION_ZONE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tools/fleet/population.h"
#include "tools/fleet/zone.h"

namespace mxray::fleet {

// The labels of a reversed address, without the zone: "4.3.2.1" is 1.2.3.4 (4 bytes, decimal
// octets without leading zeros), "1.0.0.[...].0" (32 single-hex-digit labels, lowercase) is an
// IPv6 address (16 bytes). Returns the number of bytes written to `ip`, 0 when `labels` is
// neither form.
size_t ParseReversedAddress(std::string_view labels, std::array<uint8_t, 16>* ip);

// Every DNSBL zone of kDnsblZones: "<reversed address>.<zone>" answers A (and TXT) as
// DnsblReplyFor says; the zone's own name exists (NODATA) unless the zone fails everything;
// other names under dnsbl.fleet.test are NXDOMAIN.
class DnsblDnsZone : public Zone {
 public:
  std::string_view apex() const override { return kDnsblParent; }
  ZoneResult Answer(std::string_view qname, uint16_t qtype,
                    DnsMessageWriter* writer) const override;
};

// in-addr.arpa (IPv4) or ip6.arpa (IPv6): PTR records as Population::PtrName says, NXDOMAIN for
// every address without one (and for names that are not a whole address).
class ReverseDnsZone : public Zone {
 public:
  enum class Family : uint8_t { kIpv4, kIpv6 };
  // `population` must outlive the zone.
  ReverseDnsZone(const Population* population, Family family)
      : population_(population), family_(family) {}

  std::string_view apex() const override {
    return family_ == Family::kIpv4 ? "in-addr.arpa" : "ip6.arpa";
  }
  ZoneResult Answer(std::string_view qname, uint16_t qtype,
                    DnsMessageWriter* writer) const override;

 private:
  const Population* population_;
  Family family_;
};

}  // namespace mxray::fleet

#endif  // MXRAY_TOOLS_FLEET_REPUTATION_ZONE_H_
