// mxray-fleet: runs the simulated fleet as its own process for tests, benchmarks and manual runs.
// Once the lists (and the CA file, --ca-out) are written and the servers answer, prints the bound
// DNS address on the first line of stdout and, when SMTP is on, the SMTP port map for mxray's
// --port-map on the second; then serves until SIGINT or SIGTERM. The same DNS address answers the
// fleet's DNSBL zones (--list-dnsbl-zones) and the PTR records of its addresses.
#include <signal.h>

#include <array>
#include <charconv>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "CLI/CLI.hpp"
#include "tools/fleet/fleet.h"

namespace {

using mxray::fleet::DomainKind;

bool ParseNumber(std::string_view text, uint32_t* n) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *n);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

// "127.0.0.1:5353", "[::1]:5353", or a bare address (port 0: pick one).
bool ParseHostPort(const std::string& text, std::string* ip, uint16_t* port) {
  std::string_view host = text;
  std::string_view port_text;
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos) return false;
    if (close + 1 < host.size()) {
      if (host[close + 1] != ':') return false;
      port_text = host.substr(close + 2);
    }
    host = host.substr(1, close - 1);
  } else if (size_t colon = host.rfind(':');
             colon != std::string_view::npos && host.find(':') == colon) {
    port_text = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  uint32_t p = 0;
  if (!port_text.empty() && (!ParseNumber(port_text, &p) || p > 65535)) return false;
  *ip = std::string(host);
  *port = uint16_t(p);
  return true;
}

// "25=10025,465=10465,587=10587" into the three dialled ports (0: pick one).
bool ParseSmtpPortMap(std::string_view text, std::array<uint16_t, 3>* ports) {
  std::array<bool, 3> seen = {};
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    size_t eq = item.find('=');
    uint32_t logical = 0, port = 0;
    if (eq == std::string_view::npos || !ParseNumber(item.substr(0, eq), &logical) ||
        !ParseNumber(item.substr(eq + 1), &port) || port > 65535) {
      return false;
    }
    size_t k = 0;
    while (k < 3 && mxray::fleet::kSmtpLogicalPorts[k] != logical) ++k;
    if (k == 3 || seen[k]) return false;
    seen[k] = true;
    (*ports)[k] = uint16_t(port);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mxray-fleet: a simulated population of .test mail domains served on loopback"};
  std::string zones_help =
      "DNSBL zones served by the same DNS address (mxray --dnsbl; reputation_plan.h):\n";
  for (size_t z = 0; z < mxray::fleet::kDnsblZoneCount; ++z) {
    const auto zone = mxray::fleet::DnsblZone(z);
    zones_help += "  " + std::string(mxray::fleet::DnsblZoneName(zone)) + "=" +
                  std::string(mxray::fleet::DnsblProfileName(zone)) + ": " +
                  std::string(mxray::fleet::DnsblZoneSummary(zone)) + "\n";
  }
  zones_help +=
      "PTR records for every address handed out (in-addr.arpa, ip6.arpa), forward-confirmed "
      "but for the ptr_unconfirmed and ptr_none kinds.";
  app.footer(zones_help);
  mxray::fleet::FleetOptions options;
  std::string dns = "127.0.0.1:0";
  std::vector<std::string> weights;
  std::string domains_path, expectations_path, ca_out;
  bool no_tls = false;
  bool list_kinds = false;
  bool list_zones = false;
  bool no_smtp = false;
  std::string smtp_ports;
  mxray::fleet::SmtpOptions& smtp = options.smtp;
  app.add_option("--domains", options.domain_count, "number of domains")->capture_default_str();
  app.add_option("--seed", options.seed, "population seed")->capture_default_str();
  app.add_option("--providers", options.provider_count,
                 "hosting providers sharing MX hosts (0: domains/500 in [4, 1024])");
  app.add_option("--dns", dns, "DNS listen address, IP:PORT (loopback; port 0 picks one)")
      ->capture_default_str();
  app.add_option("--weight", weights,
                 "KIND=W overrides a kind's weight (out of 100000); W=0 removes it; repeatable");
  app.add_option("--max-exchanges", options.max_exchanges, "mxray's exchange cap")
      ->capture_default_str();
  app.add_option("--max-addresses", options.max_addresses, "mxray's address cap")
      ->capture_default_str();
  app.add_option("--write-domains", domains_path, "write the domain list, one per line");
  app.add_option("--write-expectations", expectations_path,
                 "write the expected records, one JSON line per domain");
  app.add_flag("--list-kinds", list_kinds, "print the kinds and default weights, then exit");
  app.add_flag("--list-dnsbl-zones", list_zones,
               "print the DNSBL zones (zone, mxray profile, self-test pass|fail, what 2.0.0.127 "
               "and 1.0.0.127 answer), then exit");
  app.add_flag("--no-smtp", no_smtp, "serve DNS only");
  app.add_flag("--no-tls", no_tls,
               "plaintext SMTP only: no STARTTLS offered, 465 speaks plaintext (the expectations "
               "follow)");
  app.add_flag("--ecdsa-leaves", smtp.ecdsa_leaves,
               "Postfix and Microsoft servers present ECDSA P-256 leaves, not RSA-2048 (TLS "
               "benchmarks; the expectations follow)");
  app.add_flag("--rsa-ca", options.rsa_ca,
               "RSA-2048 keys for the test CA's trusted root and intermediate, not ECDSA P-256");
  app.add_option("--ca-out", ca_out,
                 "write the fleet's root certificate (PEM) here: mxray's CA file for this fleet");
  app.add_option("--smtp-ports", smtp_ports,
                 "25=A,465=B,587=C: the ports served for mxray's logical ports (0 picks one; "
                 "default 10025, 10465, 10587, or free ones when taken)");
  app.add_flag("--smtp-exact-ports", smtp.exact_ports, "fail rather than pick other SMTP ports");
  app.add_option("--smtp-latency-ms", smtp.latency_ms, "wide-area mode: delay of every reply")
      ->capture_default_str();
  app.add_option("--smtp-greeting-delay-ms", smtp.greeting_delay_ms,
                 "the slow greeting (within mxray's banner deadline)")
      ->capture_default_str();
  app.add_option("--smtp-greeting-stall-ms", smtp.greeting_stall_ms,
                 "the stalled greeting (beyond mxray's banner deadline)")
      ->capture_default_str();
  app.add_option("--smtp-drip-interval-ms", smtp.drip_interval_ms,
                 "the drip's pace, one byte per interval")
      ->capture_default_str();
  app.add_option("--smtp-reset-delay-ms", smtp.reset_delay_ms,
                 "the reset mid-reply: time between the partial greeting and the RST")
      ->capture_default_str();
  app.add_option("--smtp-provider-hosts", smtp.provider_hosts,
                 "provider host addresses with SMTP (3 descriptors each)")
      ->capture_default_str();
  app.add_option("--smtp-own-addresses", smtp.own_addresses,
                 "own-pool addresses (of 1000) with SMTP (3 descriptors each)")
      ->capture_default_str();
  app.add_option("--smtp-421-connections", smtp.greeting_421_connections,
                 "the retry case (smtp_421_then_ok): connections per endpoint greeted with 421 "
                 "before it serves; mxray's record carries attempts = this + 1")
      ->capture_default_str();
  app.add_option("--smtp-hosts-per-kind", smtp.hosts_per_kind,
                 "addresses per SMTP kind, 127.4.<kind>.1-N (1-250)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (list_kinds) {
    for (size_t k = 0; k < mxray::fleet::kDomainKindCount; ++k) {
      std::printf("%s %u\n", std::string(DomainKindName(DomainKind(k))).c_str(),
                  mxray::fleet::DefaultKindWeight(DomainKind(k)));
    }
    return 0;
  }
  if (list_zones) {
    for (const mxray::fleet::ExpectedDnsblZone& z : mxray::fleet::ExpectDnsblZones()) {
      std::printf("%s %s %s %s %s\n", std::string(z.zone).c_str(), std::string(z.profile).c_str(),
                  z.passed ? "pass" : "fail", std::string(z.listed_probe).c_str(),
                  std::string(z.unlisted_probe).c_str());
    }
    return 0;
  }
  if (!ParseHostPort(dns, &options.dns_ip, &options.dns_port)) {
    std::fprintf(stderr, "mxray-fleet: bad --dns %s\n", dns.c_str());
    return 2;
  }
  smtp.enabled = !no_smtp;
  smtp.tls = !no_tls;
  if (!smtp_ports.empty() && !ParseSmtpPortMap(smtp_ports, &smtp.ports)) {
    std::fprintf(stderr, "mxray-fleet: bad --smtp-ports %s\n", smtp_ports.c_str());
    return 2;
  }
  for (const std::string& w : weights) {
    size_t eq = w.find('=');
    std::optional<DomainKind> kind = mxray::fleet::DomainKindFromName(w.substr(0, eq));
    uint32_t weight = 0;
    if (eq == std::string::npos || !kind ||
        !ParseNumber(std::string_view(w).substr(eq + 1), &weight)) {
      std::fprintf(stderr, "mxray-fleet: bad --weight %s (see --list-kinds)\n", w.c_str());
      return 2;
    }
    options.kind_weights.emplace_back(*kind, weight);
  }

  // Blocked before any thread starts, so that only sigwait below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<std::unique_ptr<mxray::fleet::Fleet>> fleet = mxray::fleet::Fleet::Start(options);
  if (!fleet.ok()) {
    std::fprintf(stderr, "mxray-fleet: %s\n", fleet.status().ToString().c_str());
    return 1;
  }
  absl::Status status;
  if (!ca_out.empty()) status = (*fleet)->ca().WriteRootPem(ca_out);
  if (status.ok() && !domains_path.empty()) status = (*fleet)->WriteDomainList(domains_path);
  if (status.ok() && !expectations_path.empty()) {
    status = (*fleet)->WriteExpectations(expectations_path);
  }
  if (!status.ok()) {
    std::fprintf(stderr, "mxray-fleet: %s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("%s\n", (*fleet)->dns_server().c_str());
  if (smtp.enabled) std::printf("%s\n", (*fleet)->smtp_port_map().c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  (*fleet)->Stop();
  mxray::fleet::DnsServerStats s = (*fleet)->dns_stats();
  std::fprintf(stderr,
               "mxray-fleet: udp=%llu tcp=%llu noerror=%llu nxdomain=%llu servfail=%llu "
               "refused=%llu other=%llu dropped=%llu truncated=%llu malformed=%llu "
               "udp_send_failed=%llu tcp_accepted=%llu tcp_rejected=%llu\n",
               (unsigned long long)s.queries_udp, (unsigned long long)s.queries_tcp,
               (unsigned long long)s.rcode_noerror, (unsigned long long)s.rcode_nxdomain,
               (unsigned long long)s.rcode_servfail, (unsigned long long)s.rcode_refused,
               (unsigned long long)s.rcode_other, (unsigned long long)s.dropped,
               (unsigned long long)s.truncated, (unsigned long long)s.malformed,
               (unsigned long long)s.udp_send_failed, (unsigned long long)s.tcp_accepted,
               (unsigned long long)s.tcp_rejected);
  if (smtp.enabled) {
    mxray::fleet::SmtpStats m = (*fleet)->smtp_stats();
    std::fprintf(stderr,
                 "mxray-fleet: smtp connections=%llu max_per_address=%llu rejected=%llu "
                 "dropped=%llu tls_handshakes=%llu\n",
                 (unsigned long long)m.TotalConnections(),
                 (unsigned long long)m.MaxConcurrentPerAddress(), (unsigned long long)m.rejected,
                 (unsigned long long)m.dropped, (unsigned long long)m.tls_handshakes);
    for (const auto& [ip, n] : m.max_concurrent) {
      if (n > 1)
        std::fprintf(stderr, "mxray-fleet: %llu at once to %s\n", (unsigned long long)n,
                     ip.c_str());
    }
  }
  return 0;
}
