// Which TCP ports to audit (--ports 25,465,587) and where to dial them (--port-map 25=10025):
// labs, port forwarding and the simulated fleet serve SMTP on other ports, while the JSON keeps
// reporting the logical port (25, 465, 587) that the record is about.
#ifndef MXRAY_ENGINE_PORT_MAP_H_
#define MXRAY_ENGINE_PORT_MAP_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mxray::engine {

// The --ports default: SMTP relay, SMTPS (implicit TLS) and submission.
inline constexpr std::string_view kDefaultPortsSpec = "25,465,587";

// Parses a comma-separated list of ports, e.g. "25,465,587". Whitespace around an item is
// ignored; an item is 1-5 decimal digits (no sign, no hex) in 1..65535. Duplicates are dropped,
// keeping the first occurrence, so the order given is the order probed. InvalidArgument, naming the
// item, for an empty list, an empty item ("25,,587", "25,"), a non-number or a port out of range.
absl::StatusOr<std::vector<uint16_t>> ParsePortList(std::string_view spec);

// Logical port -> port actually dialed. A handful of entries at most, so a small vector with a
// linear lookup. Ports without an entry are dialed as they are.
class PortMap {
 public:
  PortMap() = default;

  // Adds logical -> dial. InvalidArgument for port 0 or a logical port already mapped. Two logical
  // ports may share a dial port (both probes then reach the same listener), and "25=25" is allowed.
  absl::Status Add(uint16_t logical, uint16_t dial);

  // The port to connect to for `logical`; `logical` itself when unmapped.
  uint16_t Dial(uint16_t logical) const;

  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  // (logical, dial) pairs in the order added.
  const std::vector<std::pair<uint16_t, uint16_t>>& entries() const { return entries_; }
  // "25=10025,465=10465"; "" when empty. ParsePortMap(ToString()) gives the same map.
  std::string ToString() const;

 private:
  std::vector<std::pair<uint16_t, uint16_t>> entries_;
};

// Parses "25=10025,465=10465,587=10587". "" (or only whitespace) is an empty map. Whitespace
// around items and around '=' is ignored. InvalidArgument, naming the item, for an empty item,
// a missing or repeated '=', a non-number, port 0 or > 65535, or a logical port given twice.
absl::StatusOr<PortMap> ParsePortMap(std::string_view spec);

}  // namespace mxray::engine

#endif  // MXRAY_ENGINE_PORT_MAP_H_
