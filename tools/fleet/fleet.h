// The simulated fleet in one object: a population of .test domains and the servers that play it
// on loopback (DNS, and SMTP with TLS on every mail host address), on one background thread.
// Used by `mxray-fleet`, by `mxray demo` (in process) and by tests and benchmarks. The one DNS
// server is also the resolver for the reputation data: the DNSBL zones under dnsbl.fleet.test
// (dnsbl_zones(), reputation_plan.h) and the PTR records of in-addr.arpa and ip6.arpa
// (population.h); the expectations say what mxray must record of them.
//
// Probing it with mxray: `--port-map <smtp_port_map()> --allow-private`, the fleet's root
// certificate as the CA file (ca_file()), and deadlines that sit between the fleet's delays
// (smtp_plan.h, ExpectPort): the expectations assume them.
//
// Descriptor budget (the demo runs the fleet inside mxray, one 20,000 open-files limit for
// both). The SMTP side holds one descriptor per (address, port) socket for its whole life, plus
// one per open connection (as many as mxray holds towards it) and one per filtered port:
//   provider hosts  3 x min(3 x providers, smtp.provider_hosts = 768)  <= 2304
//   own pool        3 x smtp.own_addresses = 250                           750
//   bulk            3 x 100                                                300
//   ::1             3                                                        3
//   SMTP kinds      3 x 45 kinds x smtp.hosts_per_kind = 4, + 4 fillers    544
// that is at most ~3,900 sockets (about 1,650 for populations under 2,000 domains), and as many
// connections as mxray opens (its --max-connections, 4,096 by default). TLS adds none: memory
// BIOs over the connection's own socket, and the CA file is closed once written. Start() raises
// the soft RLIMIT_NOFILE to the hard limit when the plan needs more than the soft one leaves
// (plan plus 1,024) and fails with FailedPrecondition when even the hard one is too small.
#ifndef MXRAY_TOOLS_FLEET_FLEET_H_
#define MXRAY_TOOLS_FLEET_FLEET_H_

#include <array>
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
#include "tools/fleet/reputation_plan.h"
#include "tools/fleet/reputation_zone.h"
#include "tools/fleet/smtp_plan.h"
#include "tools/fleet/smtp_server.h"
#include "tools/fleet/test_ca.h"

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
  // SMTP on every mail host address: ports, wide-area latency, the slow behaviours' delays,
  // TLS (smtp.tls) and the plan of which addresses serve (its hosts_per_kind shapes DNS answers
  // too).
  SmtpOptions smtp;
  // The test CA's trusted root and intermediate have RSA-2048 keys instead of ECDSA P-256 ones
  // (TestCa::Create): what most public CAs' intermediates are, and 10x cheaper for mxray to
  // verify with this BoringSSL; the TLS benchmark uses it. Adds ~0.2 s to Start().
  bool rsa_ca = false;
};

// Streams of the population, one line each. The expectation lines take about 2 s per million
// (1 s without SMTP) on the development machine; the domain list a fraction of that.
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
  // The DNSBL zones the DNS server answers (kDnsblZones: zen, rewrite, broken, slow, servfail
  // .dnsbl.fleet.test), for mxray's --dnsbl; their self-tests and profiles (ExpectDnsblZones) and
  // per-address verdicts (ExpectedExchange::reputation) are in the expectations.
  static std::vector<std::string> dnsbl_zones();

  // SMTP. The number dialled for logical port 25, 465 or 587 (0 when SMTP is disabled or for
  // another port), the three in that order, and "25=A,465=B,587=C" for mxray's --port-map ("" when
  // disabled).
  uint16_t smtp_port(uint16_t logical_port) const;
  std::array<uint16_t, kSmtpPortCount> smtp_ports() const;
  std::string smtp_port_map() const;
  // Every SMTP socket: address, logical and dialled port, behaviour.
  std::vector<SmtpEndpoint> smtp_endpoints() const;
  // Descriptors the SMTP side holds while no connection is open.
  size_t smtp_idle_descriptors() const;
  // Counters, safe from any thread: connections per (address, port), the most ever open at once
  // per address, totals. ResetSmtpStats() zeroes them (best called while nothing connects).
  SmtpStats smtp_stats() const;
  void ResetSmtpStats();
  // The fleet's trusted root certificate (PEM) in a temporary file the Fleet owns and removes
  // when it is destroyed: mxray's CA file. Written whether or not SMTP or TLS is on.
  const std::string& ca_file() const { return ca_file_; }
  const TestCa& ca() const { return *ca_; }
  // Blocks until every SMTP connection made before the call (even one still in the kernel's
  // accept queue) has been accepted and closed by the fleet, e.g. after mxray finished: true, or
  // false after `timeout_ms` (or when the fleet is stopped). A test's synchronisation point
  // before counting descriptors or reading the counters, not a sleep.
  bool WaitForSmtpIdle(int64_t timeout_ms) const;

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
  DnsblDnsZone dnsbl_zone_;
  ReverseDnsZone reverse_v4_zone_;
  ReverseDnsZone reverse_v6_zone_;
  std::unique_ptr<TestCa> ca_;
  std::string ca_file_;
  std::unique_ptr<EpollLoop> loop_;
  std::unique_ptr<DnsServer> dns_;
  std::unique_ptr<SmtpServer> smtp_;  // null when SMTP is disabled
};

}  // namespace mxray::fleet

#endif  // MXRAY_TOOLS_FLEET_FLEET_H_
