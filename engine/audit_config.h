// Everything a run can be told: the CLI fills it, the engine reads it.
#ifndef MXRAY_ENGINE_AUDIT_CONFIG_H_
#define MXRAY_ENGINE_AUDIT_CONFIG_H_

#include <cstddef>
#include <string>
#include <vector>

#include "io/resolver.h"

namespace mxray::engine {

struct AuditConfig {
  std::vector<std::string> inputs = {"-"};  // files; "-" is stdin
  size_t concurrency = 2000;                // domains in flight
  size_t max_exchanges = 16;                // MX records used per domain; the rest are skipped
  size_t max_addresses = 16;                // addresses used per exchange (A and AAAA together)
  size_t cache_entries = 100000;            // finished DNS answers kept for sharing
  size_t max_line_bytes = 4096;             // longer input lines are invalid_input
  io::ResolverOptions resolver;
};

}  // namespace mxray::engine

#endif  // MXRAY_ENGINE_AUDIT_CONFIG_H_
