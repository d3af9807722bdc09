// `mxray demo`: starts the simulated fleet on loopback in this process, writes its domain list to
// a private temporary file and audits it with the same code path as `mxray scan`.
#include "tools/mxray/demo.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "tools/fleet/fleet.h"
#include "tools/fleet/reputation_plan.h"
#include "tools/mxray/scan.h"

namespace mxray::cli {

absl::Status RunDemo(const DemoOptions& options) {
  fleet::FleetOptions fleet_options;
  fleet_options.seed = options.seed;
  fleet_options.domain_count = options.domains;
  // The fleet's slow servers are tuned against the demo's short deadlines below: the slow
  // greeting arrives in time, the stalled one does not.
  fleet_options.smtp.greeting_delay_ms = 100;
  fleet_options.smtp.greeting_stall_ms = 3000;
  fleet_options.smtp.drip_interval_ms = 50;
  absl::StatusOr<std::unique_ptr<fleet::Fleet>> fleet = fleet::Fleet::Start(fleet_options);
  if (!fleet.ok()) return fleet.status();

  char path[] = "/tmp/mxray-demo-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return absl::ErrnoToStatus(errno, "mkstemp");
  absl::Status written = (*fleet)->WriteDomainList(fd);
  close(fd);
  if (!written.ok()) {
    unlink(path);
    return written;
  }

  std::fprintf(stderr,
               "mxray demo: a simulated fleet of %zu .test domains answers DNS on %s and SMTP on "
               "127.x.y.z (ports %s), loopback only; auditing it.\n",
               options.domains, (*fleet)->dns_server().c_str(), (*fleet)->smtp_port_map().c_str());
  ScanOptions scan;
  scan.audit.inputs = {path};
  scan.audit.resolver.servers = {(*fleet)->dns_server()};
  // The fleet has names that never answer: short deadlines keep the demo to seconds.
  scan.audit.resolver.timeout_ms = 300;
  scan.audit.resolver.retries = 1;
  scan.port_map_spec = (*fleet)->smtp_port_map();
  scan.audit.probe.allow_private = true;  // the fleet lives on loopback
  scan.audit.probe.connect_timeout_ms = 1000;
  scan.audit.probe.banner_timeout_ms = 1000;
  scan.audit.probe.command_timeout_ms = 1000;
  scan.audit.probe.quit_timeout_ms = 500;
  scan.audit.probe.endpoint_timeout_ms = 4000;
  scan.audit.probe.tls_timeout_ms = 1000;
  scan.audit.probe.retry_delay_ms = 200;  // the 421 servers are retried within the demo
  // The fleet's own DNSBL zones, read with the profile each plays (reputation_plan.h).
  for (const fleet::ExpectedDnsblZone& z : fleet::ExpectDnsblZones()) {
    scan.audit.reputation.dnsbl.push_back(std::string(z.zone) + "=" + std::string(z.profile));
  }
  scan.audit.reputation.dnsbl_txt = true;
  scan.audit.probe.ca_file = (*fleet)->ca_file();  // the fleet's own test root
  if (absl::Status s = ApplyProbeSpecs(&scan); !s.ok()) return s;
  scan.output = options.output;
  scan.summary = true;
  absl::Status s = RunScan(scan);
  unlink(path);
  (*fleet)->Stop();
  return s;
}

}  // namespace mxray::cli
