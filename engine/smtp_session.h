// The SMTP conversation of one probe as a pure state machine: bytes and events in, bytes to send
// and a finished PortRecord out. It never touches sockets, clocks or TLS, so every hostile
// transcript can be replayed in a unit test or a fuzzer: the driver runs the handshake when told
// (Next::start_tls) and feeds decrypted bytes afterwards. Never MAIL, RCPT, DATA or credentials;
// QUIT whenever the server can still understand it.
#ifndef MXRAY_ENGINE_SMTP_SESSION_H_
#define MXRAY_ENGINE_SMTP_SESSION_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/port_record.h"
#include "engine/reply_parser.h"

namespace mxray::engine {

enum class StarttlsMode : uint8_t {
  kAuto,    // STARTTLS when the EHLO reply offers it
  kAlways,  // STARTTLS after any 250 EHLO reply (servers that hide the keyword)
  kNever,   // plaintext only
};

struct SmtpSessionOptions {
  // Sent as "EHLO <name>", never a bare EHLO; empty means "localhost" (the CLI fills in the
  // host's name).
  std::string ehlo_name;
  ReplyLimits limits;
  uint32_t endpoint_bytes_max = 96 * 1024;  // everything read from one endpoint
  StarttlsMode starttls = StarttlsMode::kAuto;
};

class SmtpSession {
 public:
  enum class Phase : uint8_t { kBanner, kEhlo, kHelo, kStarttls, kTlsHandshake, kQuit, kDone };

  // What the driver does after an event: send `send` (if not empty), then keep reading; or
  // start the TLS handshake when `start_tls` (the bytes received so far are spent); or close the
  // connection when `done`.
  struct Next {
    std::string_view send;
    bool done = false;
    bool start_tls = false;
  };

  SmtpSession(const SmtpSessionOptions* options, PortRecord* record);

  // The TCP connection is up: wait for the greeting (RFC 5321 §4.3.1: never speak first).
  void Start();
  // The TCP connection is up on an implicit-TLS port (465, RFC 8314): handshake first.
  Next StartImplicitTls();
  // The handshake completed: from now on OnData gets plaintext from inside TLS.
  Next OnTlsEstablished();
  // The handshake failed, or did not complete in time. `received` is what the server sent
  // during it: on an implicit-TLS port, an SMTP reply there means the port speaks plaintext.
  Next OnTlsFailed(std::string_view received, bool timed_out);
  Next OnData(std::string_view bytes);
  Next OnPeerClosed(bool reset);
  // The deadline of the current phase passed.
  Next OnTimeout();
  Phase phase() const { return phase_; }
  bool in_tls() const { return in_tls_; }

 private:
  Next HandleReply();
  Next AfterEhlo();
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
  bool in_tls_ = false;
  bool implicit_tls_ = false;
  std::string out_;
};

}  // namespace mxray::engine

#endif  // MXRAY_ENGINE_SMTP_SESSION_H_
