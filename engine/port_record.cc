// Stable JSON names of the port enums.
#include "engine/port_record.h"

namespace mxray::engine {

std::string_view PortStateName(PortState s) {
  switch (s) {
    case PortState::kOpen:
      return "open";
    case PortState::kClosed:
      return "closed";
    case PortState::kFiltered:
      return "filtered";
    case PortState::kUnreachable:
      return "unreachable";
    case PortState::kBlocked:
      return "blocked";
    case PortState::kError:
      return "error";
  }
  return "?";
}

std::string_view ProbeOutcomeName(ProbeOutcome o) {
  switch (o) {
    case ProbeOutcome::kOk:
      return "ok";
    case ProbeOutcome::kConnectRefused:
      return "connect_refused";
    case ProbeOutcome::kConnectTimeout:
      return "connect_timeout";
    case ProbeOutcome::kUnreachable:
      return "unreachable";
    case ProbeOutcome::kBannerTimeout:
      return "banner_timeout";
    case ProbeOutcome::kBannerRejected:
      return "banner_rejected";
    case ProbeOutcome::kRateLimited:
      return "rate_limited";
    case ProbeOutcome::kEhloRejected:
      return "ehlo_rejected";
    case ProbeOutcome::kCommandTimeout:
      return "command_timeout";
    case ProbeOutcome::kProtocolError:
      return "protocol_error";
    case ProbeOutcome::kLineTooLong:
      return "line_too_long";
    case ProbeOutcome::kReplyTooLarge:
      return "reply_too_large";
    case ProbeOutcome::kConnectionReset:
      return "connection_reset";
    case ProbeOutcome::kClosedEarly:
      return "closed_early";
    case ProbeOutcome::kBlocked:
      return "blocked";
    case ProbeOutcome::kLocalError:
      return "local_error";
    case ProbeOutcome::kStarttlsNotOffered:
      return "starttls_not_offered";
    case ProbeOutcome::kStarttlsRejected:
      return "starttls_rejected";
    case ProbeOutcome::kTlsHandshakeFailed:
      return "tls_handshake_failed";
    case ProbeOutcome::kTlsTimeout:
      return "tls_timeout";
    case ProbeOutcome::kStarttlsInjection:
      return "starttls_injection";
    case ProbeOutcome::kPlaintextOnTlsPort:
      return "plaintext_on_tls_port";
  }
  return "?";
}

bool IsTemporaryFailure(const PortRecord& r) {
  switch (r.outcome) {
    case ProbeOutcome::kRateLimited:
      return true;
    case ProbeOutcome::kBannerRejected:
      return r.banner && r.banner->code >= 400 && r.banner->code < 500;
    case ProbeOutcome::kEhloRejected:
      return r.ehlo && r.ehlo->code >= 400 && r.ehlo->code < 500;
    default:
      return false;
  }
}

}  // namespace mxray::engine
