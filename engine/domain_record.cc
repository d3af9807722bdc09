// Stable JSON names of the record enums.
#include "engine/domain_record.h"

namespace mxray::engine {

std::string_view DomainStatusName(DomainStatus s) {
  switch (s) {
    case DomainStatus::kOk:
      return "ok";
    case DomainStatus::kInvalidInput:
      return "invalid_input";
    case DomainStatus::kNxdomain:
      return "nxdomain";
    case DomainStatus::kNullMx:
      return "null_mx";
    case DomainStatus::kNoMailHost:
      return "no_mail_host";
    case DomainStatus::kDnsError:
      return "dns_error";
    case DomainStatus::kDnsTimeout:
      return "dns_timeout";
  }
  return "?";
}

std::string_view MxSourceName(MxSource s) {
  switch (s) {
    case MxSource::kMx:
      return "mx";
    case MxSource::kImplicit:
      return "implicit";
    case MxSource::kNullMx:
      return "null_mx";
    case MxSource::kNone:
      return "none";
  }
  return "?";
}

std::string_view ExchangeStatusName(ExchangeStatus s) {
  switch (s) {
    case ExchangeStatus::kOk:
      return "ok";
    case ExchangeStatus::kNoAddress:
      return "no_address";
    case ExchangeStatus::kNxdomain:
      return "nxdomain";
    case ExchangeStatus::kDnsError:
      return "dns_error";
    case ExchangeStatus::kDnsTimeout:
      return "dns_timeout";
    case ExchangeStatus::kCnameLoop:
      return "cname_loop";
    case ExchangeStatus::kIpLiteral:
      return "ip_literal";
    case ExchangeStatus::kInvalidName:
      return "invalid_name";
    case ExchangeStatus::kNullMxMixed:
      return "null_mx_mixed";
    case ExchangeStatus::kSkipped:
      return "skipped";
  }
  return "?";
}

}  // namespace mxray::engine
