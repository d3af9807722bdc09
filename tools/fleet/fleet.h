// The simulated fleet in one object: a population of .test domains and the servers that play it
// on loopback, on one background thread. Used by `mxray-fleet`, by `mxray demo` (in process) and
// by tests and benchmarks. SMTP, TLS and DNSBL servers join the same loop later.
#ifndef MXRAY_TOOLS_FLEET_FLEET_H_
#define MXRAY_TOOLS_FLEET_FLEET_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tools/fleet/dns_server.h"
#include "tools/fleet/domain_kind.h"
#include "tools/fleet/epoll_loop.h"
#include "tools/fleet/population.h"
#include "tools/fleet/population_zone.h"

namespace mxray::fleet {

struct FleetOptions {
  uint64_t seed = 1;
  size_t domain_count = 1000;
  size_t provider_count = 0;  // 0: derived from domain_count (see PopulationOptions)
  // Overrides of the default mix, e.g. {{DomainKind::kTimeout, 0}} for a run without timeouts.
  std::vector<std::pair<DomainKind, uint32_t>> kind_weights;
  size_t max_exchanges = 16;  // mxray's caps, reflected in the expectations
  size_t max_addresses = 16;
  std::string dns_ip = "127.0.0.1";  // loopback only
  uint16_t dns_port = 0;             // 0: pick a free port
};

// Streams of the population, one line each; 2 million lines take a few hundred milliseconds.
absl::Status WriteDomainList(const Population& population, int fd);
absl::Status WriteExpectations(const Population& population, int fd);

class Fleet {
 public:
  // Binds every server and starts serving on a background thread.
  static absl::StatusOr<std::unique_ptr<Fleet>> Start(const FleetOptions& options);
  ~Fleet();  // Stop()
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  // "127.0.0.1:PORT" ("[::1]:PORT"): the resolver to give mxray (--dns-server).
  std::string dns_server() const { return dns_->address(); }
  uint16_t dns_port() const { return dns_->port(); }
  const Population& population() const { return population_; }
  DnsServerStats dns_stats() const { return dns_->stats(); }

  absl::Status WriteDomainList(int fd) const;
  absl::Status WriteDomainList(const std::string& path) const;
  absl::Status WriteExpectations(int fd) const;
  absl::Status WriteExpectations(const std::string& path) const;

  // Stops serving and joins the thread; sockets close with the Fleet. Idempotent.
  void Stop();

 private:
  explicit Fleet(Population population);

  Population population_;
  PopulationZone zone_;
  std::unique_ptr<EpollLoop> loop_;
  std::unique_ptr<DnsServer> dns_;
};

}  // namespace mxray::fleet

#endif  // MXRAY_TOOLS_FLEET_FLEET_H_
