// The machine's limit for plaintext probes: banner, EHLO, QUIT over the same EventLoop with no
// reply parsing, no records and no JSON. mxray's own figure is read against this one.
#ifndef MXRAY_BENCH_MINIMAL_SMTP_CLIENT_H_
#define MXRAY_BENCH_MINIMAL_SMTP_CLIENT_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "io/ip_address.h"

namespace mxray::bench {

struct MinimalResult {
  uint64_t probes = 0;
  uint64_t failures = 0;
  uint64_t elapsed_ns = 0;
};

// Probes every endpoint once, `in_flight` at a time.
MinimalResult RunMinimalClient(const std::vector<std::pair<io::IpAddress, uint16_t>>& endpoints,
                               size_t in_flight);

}  // namespace mxray::bench

#endif  // MXRAY_BENCH_MINIMAL_SMTP_CLIENT_H_
