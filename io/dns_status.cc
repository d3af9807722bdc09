// Stable JSON names of DnsStatus.
#include "io/dns_types.h"

namespace mxray::io {

std::string_view DnsStatusName(DnsStatus s) {
  switch (s) {
    case DnsStatus::kOk:
      return "ok";
    case DnsStatus::kNodata:
      return "nodata";
    case DnsStatus::kNxdomain:
      return "nxdomain";
    case DnsStatus::kServfail:
      return "servfail";
    case DnsStatus::kRefused:
      return "refused";
    case DnsStatus::kTimeout:
      return "timeout";
    case DnsStatus::kMalformed:
      return "malformed";
  }
  return "?";
}

}  // namespace mxray::io
