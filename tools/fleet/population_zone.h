// The population as DNS: answers for every name under .test, computed from the name on each query
// (population.h explains the naming), so serving two million domains costs no memory.
#ifndef MXRAY_TOOLS_FLEET_POPULATION_ZONE_H_
#define MXRAY_TOOLS_FLEET_POPULATION_ZONE_H_

#include <cstdint>
#include <string_view>

#include "tools/fleet/population.h"
#include "tools/fleet/zone.h"

namespace mxray::fleet {

// A name composed on the stack: the zone builds CNAME targets and exchange names per query
// without allocating.
class NameBuf {
 public:
  NameBuf& Clear() {
    len_ = 0;
    return *this;
  }
  NameBuf& Add(std::string_view s);
  NameBuf& Add(size_t n);
  std::string_view view() const { return {buf_, len_}; }

 private:
  char buf_[320];
  size_t len_ = 0;
};

class PopulationZone : public Zone {
 public:
  // `population` must outlive the zone.
  explicit PopulationZone(const Population* population) : population_(population) {}

  std::string_view apex() const override { return "test"; }
  ZoneResult Answer(std::string_view qname, uint16_t qtype,
                    DnsMessageWriter* writer) const override;

 private:
  enum class Step : uint8_t {
    kRecords,   // records of the asked type were written
    kNodata,    // the name exists, nothing of that type
    kNxdomain,  // no such name
    kCname,     // the name is an alias: its CNAME was written, *target holds where it points
    kServfail,
    kRefused,
    kDrop,
    kMalformed,
  };
  // What one name holds, as its authoritative server would say it.
  Step Node(std::string_view name, uint16_t qtype, DnsMessageWriter* w, NameBuf* target,
            ZoneResult* result) const;
  Step DomainNode(size_t index, std::string_view domain, std::string_view sub,
                  std::string_view name, uint16_t qtype, DnsMessageWriter* w, NameBuf* target,
                  ZoneResult* result) const;

  const Population* population_;
};

}  // namespace mxray::fleet

#endif  // MXRAY_TOOLS_FLEET_POPULATION_ZONE_H_
