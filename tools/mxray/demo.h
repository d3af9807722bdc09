// `mxray demo`: the simulated fleet in-process on loopback, audited by the real engine.
#ifndef MXRAY_TOOLS_MXRAY_DEMO_H_
#define MXRAY_TOOLS_MXRAY_DEMO_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace mxray::cli {

struct DemoOptions {
  size_t domains = 300;
  uint64_t seed = 1;
  std::string output = "-";
};

absl::Status RunDemo(const DemoOptions& options);

}  // namespace mxray::cli

#endif  // MXRAY_TOOLS_MXRAY_DEMO_H_
