// SmtpSession: banner → EHLO (HELO only when EHLO gets a 5xx) → QUIT, with every way a server can
// misbehave mapped to one outcome of the closed set and the partial data kept.
#include "engine/smtp_session.h"

#include "engine/ehlo_capabilities.h"

namespace mxray::engine {
namespace {

constexpr size_t kUnsolicitedKept = 256;

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
  parser_.Reset();
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
    if (!bytes.empty()) {
      Next next = HandleReply();
      if (next.done) return next;
      NoteUnsolicited(bytes);
      // A reply that already ended the conversation with an error (421, 554, a rejected EHLO)
      // keeps its outcome: rate limiting must never be relabelled as a protocol error.
      if (phase_ == Phase::kQuit && record_->outcome != ProbeOutcome::kOk) return next;
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
      record_->ehlo = std::move(reply);
      if (code == 250) {
        record_->capabilities = ParseEhlo(*record_->ehlo);
        return SendQuit(ProbeOutcome::kOk);
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
    case Phase::kQuit:
    case Phase::kDone:
      break;
  }
  return Finish(record_->outcome);
}

SmtpSession::Next SmtpSession::SendQuit(ProbeOutcome outcome) {
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
  if (phase_ == Phase::kEhlo && !record_->ehlo) record_->ehlo = partial;
  if (phase_ == Phase::kHelo && !record_->helo) record_->helo = partial;
}

void SmtpSession::NoteUnsolicited(std::string_view bytes) {
  record_->unsolicited.assign(bytes.substr(0, kUnsolicitedKept));
}

SmtpSession::Next SmtpSession::OnPeerClosed(bool reset) {
  if (phase_ == Phase::kQuit || phase_ == Phase::kDone) return Finish(record_->outcome);
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
      KeepPartial();
      return Finish(ProbeOutcome::kCommandTimeout);
    case Phase::kQuit:
    case Phase::kDone:
      break;
  }
  return Finish(record_->outcome);  // no reply to QUIT is not a fault of the conversation
}

}  // namespace mxray::engine
