// SmtpSession: banner → EHLO (HELO only when EHLO gets a 5xx) → STARTTLS → handshake → EHLO → QUIT,
// with every way a server can misbehave mapped to one outcome of the closed set and the partial
// data kept.
#include "engine/smtp_session.h"

#include "engine/ehlo_capabilities.h"

namespace mxray::engine {
namespace {

constexpr size_t kUnsolicitedKept = 256;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool LooksLikeReply(std::string_view b) {
  return b.size() >= 4 && IsDigit(b[0]) && IsDigit(b[1]) && IsDigit(b[2]) &&
         (b[3] == ' ' || b[3] == '-' || b[3] == '\r');
}

ProbeOutcome OutcomeFor(ReplyError e) {
  switch (e) {
    case ReplyError::kLineTooLong:
      return ProbeOutcome::kLineTooLong;
    case ReplyError::kReplyTooLarge:
    case ReplyError::kTooManyLines:
      return ProbeOutcome::kReplyTooLarge;
    default:
      return ProbeOutcome::kProtocolError;
  }
}

}  // namespace

SmtpSession::SmtpSession(const SmtpSessionOptions* options, PortRecord* record)
    : options_(options), record_(record), parser_(options->limits) {}

std::string_view SmtpSession::EhloName() const {
  return options_->ehlo_name.empty() ? std::string_view("localhost") : options_->ehlo_name;
}

void SmtpSession::Start() {
  phase_ = Phase::kBanner;
  in_tls_ = implicit_tls_ = false;
  parser_.Reset();
}

SmtpSession::Next SmtpSession::StartImplicitTls() {
  Start();
  implicit_tls_ = true;
  phase_ = Phase::kTlsHandshake;
  return Next{.start_tls = true};
}

SmtpSession::Next SmtpSession::OnTlsEstablished() {
  in_tls_ = true;
  parser_.Reset();
  if (implicit_tls_) {
    phase_ = Phase::kBanner;  // the greeting comes inside TLS
    return Next{};
  }
  // RFC 3207 §4.2: everything learnt before TLS is forgotten and EHLO is asked again.
  phase_ = Phase::kEhlo;
  out_.assign("EHLO ").append(EhloName()).append("\r\n");
  return Next{.send = out_};
}

SmtpSession::Next SmtpSession::OnTlsFailed(std::string_view received, bool timed_out) {
  if (implicit_tls_ && LooksLikeReply(received)) {
    // A TLS record starts with a content type byte (20-23), never an ASCII digit: this is SMTP.
    parser_.Reset();
    size_t consumed = 0;
    if (parser_.Feed(received, &consumed) == ReplyParser::Result::kComplete) {
      record_->banner = parser_.TakeReply();
    } else {
      phase_ = Phase::kBanner;
      KeepPartial();
    }
    return Finish(ProbeOutcome::kPlaintextOnTlsPort);
  }
  return Finish(timed_out ? ProbeOutcome::kTlsTimeout : ProbeOutcome::kTlsHandshakeFailed);
}

SmtpSession::Next SmtpSession::OnData(std::string_view bytes) {
  if (phase_ == Phase::kDone) return Next{.done = true};
  record_->bytes_read += static_cast<uint32_t>(bytes.size());
  if (record_->bytes_read > options_->endpoint_bytes_max) {
    KeepPartial();
    return Finish(phase_ == Phase::kQuit ? record_->outcome : ProbeOutcome::kReplyTooLarge);
  }
  while (!bytes.empty()) {
    size_t consumed = 0;
    ReplyParser::Result r = parser_.Feed(bytes, &consumed);
    bytes.remove_prefix(consumed);
    if (phase_ == Phase::kQuit) {
      // Whatever the server says to QUIT (221, an error, garbage) ends the conversation.
      if (r != ReplyParser::Result::kNeedMore) return Finish(record_->outcome);
      continue;
    }
    if (r == ReplyParser::Result::kNeedMore) break;
    if (r == ReplyParser::Result::kMalformed) return Malformed();
    // A reply is complete. The server must now wait for us: anything after it was sent before
    // we asked (RFC 5321 §4.3.1 forbids talking ahead; RFC 2920 pipelining is ours to start).
    if (!bytes.empty() && phase_ == Phase::kStarttls && parser_.reply().code == 220) {
      // STARTTLS injection (CVE-2011-0411 class): whatever follows the 220 was sent before
      // TLS and must never be read as TLS or as a reply. Kept for the record, then dropped.
      record_->injected.assign(bytes.substr(0, kUnsolicitedKept));
      return HandleReply();
    }
    if (!bytes.empty()) {
      Next next = HandleReply();
      if (next.done) return next;
      NoteUnsolicited(bytes);
      // A reply that already ended the conversation with an error (421, 554, a rejected EHLO)
      // keeps its outcome: rate limiting must never be relabelled as a protocol error.
      if (phase_ == Phase::kQuit && record_->outcome != ProbeOutcome::kOk &&
          record_->outcome != ProbeOutcome::kStarttlsNotOffered) {
        return next;
      }
      return SendQuit(ProbeOutcome::kProtocolError);
    }
    return HandleReply();
  }
  return Next{};
}

SmtpSession::Next SmtpSession::HandleReply() {
  // The record keeps the reply: move it out of the parser rather than copy it.
  SmtpReply reply = parser_.TakeReply();
  const int code = reply.code;
  switch (phase_) {
    case Phase::kBanner:
      record_->banner = std::move(reply);
      if (code == 421) return SendQuit(ProbeOutcome::kRateLimited);
      if (code != 220) {
        return SendQuit(code >= 400 ? ProbeOutcome::kBannerRejected : ProbeOutcome::kProtocolError);
      }
      phase_ = Phase::kEhlo;
      parser_.Reset();
      out_.assign("EHLO ").append(EhloName()).append("\r\n");
      return Next{.send = out_};
    case Phase::kEhlo:
      if (in_tls_) {
        record_->ehlo_tls = std::move(reply);
        if (code == 250) {
          record_->capabilities_tls = ParseEhlo(*record_->ehlo_tls);
          return SendQuit(ProbeOutcome::kOk);
        }
      } else {
        record_->ehlo = std::move(reply);
        if (code == 250) {
          record_->capabilities = ParseEhlo(*record_->ehlo);
          return AfterEhlo();
        }
      }
      if (code == 421) return SendQuit(ProbeOutcome::kRateLimited);
      if (code >= 500 && code < 600) {
        // Not ESMTP: HELO is the one fallback RFC 5321 §3.2 allows.
        phase_ = Phase::kHelo;
        parser_.Reset();
        out_.assign("HELO ").append(EhloName()).append("\r\n");
        return Next{.send = out_};
      }
      return SendQuit(code >= 400 ? ProbeOutcome::kEhloRejected : ProbeOutcome::kProtocolError);
    case Phase::kHelo:
      record_->helo = std::move(reply);
      if (code == 421) return SendQuit(ProbeOutcome::kRateLimited);
      return SendQuit(code >= 200 && code < 600 ? ProbeOutcome::kEhloRejected
                                                : ProbeOutcome::kProtocolError);
    case Phase::kStarttls:
      record_->starttls = std::move(reply);
      if (code == 220) {
        phase_ = Phase::kTlsHandshake;
        parser_.Reset();
        return Next{.start_tls = true};
      }
      if (code == 421) return SendQuit(ProbeOutcome::kRateLimited);
      return SendQuit(code >= 400 ? ProbeOutcome::kStarttlsRejected : ProbeOutcome::kProtocolError);
    case Phase::kTlsHandshake:
    case Phase::kQuit:
    case Phase::kDone:
      break;
  }
  return Finish(record_->outcome);
}

SmtpSession::Next SmtpSession::AfterEhlo() {
  switch (options_->starttls) {
    case StarttlsMode::kNever:
      return SendQuit(ProbeOutcome::kOk);
    case StarttlsMode::kAuto:
      if (!record_->capabilities->starttls) return SendQuit(ProbeOutcome::kStarttlsNotOffered);
      break;
    case StarttlsMode::kAlways:
      break;
  }
  phase_ = Phase::kStarttls;
  parser_.Reset();
  out_.assign("STARTTLS\r\n");
  return Next{.send = out_};
}

SmtpSession::Next SmtpSession::SendQuit(ProbeOutcome outcome) {
  // A conversation that went well after an injection is still marked by it.
  if (outcome == ProbeOutcome::kOk && !record_->injected.empty()) {
    outcome = ProbeOutcome::kStarttlsInjection;
  }
  record_->outcome = outcome;
  phase_ = Phase::kQuit;
  parser_.Reset();
  out_.assign("QUIT\r\n");
  return Next{.send = out_};
}

SmtpSession::Next SmtpSession::Finish(ProbeOutcome outcome) {
  record_->outcome = outcome;
  phase_ = Phase::kDone;
  return Next{.done = true};
}

SmtpSession::Next SmtpSession::Malformed() {
  KeepPartial();
  record_->error = std::string(ReplyErrorName(parser_.error()));
  // A server that cannot frame replies gets no QUIT: it would not understand the answer either.
  return Finish(OutcomeFor(parser_.error()));
}

void SmtpSession::KeepPartial() {
  const SmtpReply& partial = parser_.reply();
  if (partial.code == 0 && partial.lines.empty()) return;
  if (phase_ == Phase::kBanner && !record_->banner) record_->banner = partial;
  if (phase_ == Phase::kEhlo && !in_tls_ && !record_->ehlo) record_->ehlo = partial;
  if (phase_ == Phase::kEhlo && in_tls_ && !record_->ehlo_tls) record_->ehlo_tls = partial;
  if (phase_ == Phase::kStarttls && !record_->starttls) record_->starttls = partial;
  if (phase_ == Phase::kHelo && !record_->helo) record_->helo = partial;
}

void SmtpSession::NoteUnsolicited(std::string_view bytes) {
  record_->unsolicited.assign(bytes.substr(0, kUnsolicitedKept));
}

SmtpSession::Next SmtpSession::OnPeerClosed(bool reset) {
  if (phase_ == Phase::kQuit || phase_ == Phase::kDone) return Finish(record_->outcome);
  // A server that drops the connection instead of finishing the handshake failed it.
  if (phase_ == Phase::kTlsHandshake) return Finish(ProbeOutcome::kTlsHandshakeFailed);
  KeepPartial();
  return Finish(reset ? ProbeOutcome::kConnectionReset : ProbeOutcome::kClosedEarly);
}

SmtpSession::Next SmtpSession::OnTimeout() {
  switch (phase_) {
    case Phase::kBanner:
      KeepPartial();
      return Finish(ProbeOutcome::kBannerTimeout);
    case Phase::kEhlo:
    case Phase::kHelo:
    case Phase::kStarttls:
      KeepPartial();
      return Finish(ProbeOutcome::kCommandTimeout);
    case Phase::kTlsHandshake:
      return Finish(ProbeOutcome::kTlsTimeout);
    case Phase::kQuit:
    case Phase::kDone:
      break;
  }
  return Finish(record_->outcome);  // no reply to QUIT is not a fault of the conversation
}

}  // namespace mxray::engine
