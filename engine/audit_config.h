// Everything a run can be told: the CLI fills it, the engine reads it.
#ifndef MXRAY_ENGINE_AUDIT_CONFIG_H_
#define MXRAY_ENGINE_AUDIT_CONFIG_H_

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "engine/smtp_session.h"
#include "io/resolver.h"

namespace mxray::engine {

// How endpoints are probed. Deadlines are for a whole step, never per read: a server dripping one
// byte a second still times out (RELIABILITY.md).
struct ProbeConfig {
  std::vector<uint16_t> ports = {25, 465, 587};         // empty: DNS only
  std::vector<std::pair<uint16_t, uint16_t>> port_map;  // logical port -> port dialled
  uint32_t connect_timeout_ms = 10'000;
  uint32_t banner_timeout_ms = 30'000;
  uint32_t command_timeout_ms = 30'000;
  uint32_t quit_timeout_ms = 5'000;
  uint32_t endpoint_timeout_ms = 90'000;
  uint32_t tls_timeout_ms = 30'000;  // the whole handshake
  // A 421 or another 4xx at the greeting or to EHLO is temporary: the endpoint is tried again
  // this many more times, after retry_delay_ms, doubling each time, without holding other work.
  uint32_t retries = 2;
  uint32_t retry_delay_ms = 30'000;
  // Ports that speak TLS from the first byte (RFC 8314); the others use STARTTLS.
  std::vector<uint16_t> implicit_tls_ports = {465};
  std::string ca_file;     // roots that count as trusted; empty: the system bundle
  bool tls_chain = false;  // keep the whole PEM chain in the record
  size_t max_connections = 4096;
  size_t per_address_connections = 1;
  double rate = 0;  // new connections per second; 0: no limit
  bool allow_private = false;
  std::string blocklist_path;
  SmtpSessionOptions session;

  uint16_t DialPort(uint16_t logical) const {
    for (const auto& [from, to] : port_map) {
      if (from == logical) return to;
    }
    return logical;
  }
  bool ImplicitTls(uint16_t logical) const {
    for (uint16_t p : implicit_tls_ports) {
      if (p == logical) return true;
    }
    return false;
  }
};

// Reputation lookups for every MX address (engine/reputation.h).
struct ReputationConfig {
  // --dnsbl: zones, "ZONE=PROFILE" items, or {"none"}; empty means the default list.
  std::vector<std::string> dnsbl;
  std::string spamhaus_key;  // Spamhaus DQS: KEY.zen.dq.spamhaus.net instead of the public zone
  bool dnsbl_txt = false;    // also fetch the TXT reason of a listing
  bool ptr = true;           // PTR and its forward confirmation
};

struct AuditConfig {
  std::vector<std::string> inputs = {"-"};  // files; "-" is stdin
  size_t concurrency = 2000;                // domains in flight
  size_t max_exchanges = 16;                // MX records used per domain; the rest are skipped
  size_t max_addresses = 16;                // addresses used per exchange (A and AAAA together)
  size_t cache_entries = 100000;            // finished DNS answers kept for sharing
  size_t max_line_bytes = 4096;             // longer input lines are invalid_input
  io::ResolverOptions resolver;
  ProbeConfig probe;
  ReputationConfig reputation;
};

}  // namespace mxray::engine

#endif  // MXRAY_ENGINE_AUDIT_CONFIG_H_
