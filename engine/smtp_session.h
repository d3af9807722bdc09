// The SMTP conversation of one probe as a pure state machine: bytes and events in, bytes to send
// and a finished PortRecord out. It never touches sockets or clocks, so every hostile transcript
// can be replayed in a unit test or a fuzzer. Never MAIL, RCPT, DATA or credentials; always QUIT.
#ifndef MXRAY_ENGINE_SMTP_SESSION_H_
#define MXRAY_ENGINE_SMTP_SESSION_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/port_record.h"
#include "engine/reply_parser.h"

namespace mxray::engine {

struct SmtpSessionOptions {
  // Sent as "EHLO <name>", never a bare EHLO; empty means "localhost" (the CLI fills in the
  // host's name).
  std::string ehlo_name;
  ReplyLimits limits;
  uint32_t endpoint_bytes_max = 96 * 1024;  // everything read from one endpoint
};

class SmtpSession {
 public:
  enum class Phase : uint8_t { kBanner, kEhlo, kHelo, kQuit, kDone };

  // What the driver does after an event: send `send` (if not empty), then keep reading, or
  // close the connection when `done`.
  struct Next {
    std::string_view send;
    bool done = false;
  };

  SmtpSession(const SmtpSessionOptions* options, PortRecord* record);

  // The TCP connection is up: wait for the greeting (RFC 5321 §4.3.1: never speak first).
  void Start();
  Next OnData(std::string_view bytes);
  Next OnPeerClosed(bool reset);
  // The deadline of the current phase passed.
  Next OnTimeout();
  Phase phase() const { return phase_; }

 private:
  Next HandleReply();
  Next SendQuit(ProbeOutcome outcome);
  Next Finish(ProbeOutcome outcome);
  Next Malformed();
  void KeepPartial();
  void NoteUnsolicited(std::string_view bytes);
  std::string_view EhloName() const;

  const SmtpSessionOptions* options_;
  PortRecord* record_;
  ReplyParser parser_;
  Phase phase_ = Phase::kBanner;
  std::string out_;
};

}  // namespace mxray::engine

#endif  // MXRAY_ENGINE_SMTP_SESSION_H_
