// What probing one (address, port) endpoint found: reachability, the SMTP conversation and its
// outcome. One PortRecord per endpoint per run, shared (immutable) by every domain that uses it.
#ifndef MXRAY_ENGINE_PORT_RECORD_H_
#define MXRAY_ENGINE_PORT_RECORD_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/boxed.h"
#include "engine/ehlo_capabilities.h"
#include "engine/reply_parser.h"
#include "tls/tls_facts.h"

namespace mxray::engine {

enum class PortState : uint8_t {
  kOpen,         // the TCP handshake completed
  kClosed,       // refused (RST)
  kFiltered,     // no answer to the SYN within the connect deadline
  kUnreachable,  // ICMP unreachable, no route
  kBlocked,      // not contacted: address policy or blocklist
  kError,        // a local error (no descriptor, no ephemeral port)
};
std::string_view PortStateName(PortState s);

// The closed set of outcomes of one endpoint probe. Stable JSON names (ProbeOutcomeName).
enum class ProbeOutcome : uint8_t {
  kOk,  // the conversation went as far as it should
  kConnectRefused,
  kConnectTimeout,
  kUnreachable,
  kBannerTimeout,   // connected, no complete greeting within the banner deadline
  kBannerRejected,  // 4xx/5xx greeting other than 421
  kRateLimited,     // 421 at any point: the server limits us, not a missing feature
  kEhloRejected,    // EHLO answered with an error (HELO tried when it was a 5xx)
  kCommandTimeout,  // no complete reply to a command within its deadline
  kProtocolError,   // bad reply syntax, codes that change, bytes sent before we asked
  kLineTooLong,
  kReplyTooLarge,  // one reply, or everything read from the endpoint, past its cap
  kConnectionReset,
  kClosedEarly,  // the server closed the connection before the conversation was done
  kBlocked,      // not contacted (see PortRecord::blocked_reason)
  kLocalError,   // mxray could not probe (descriptor limit, no ephemeral port)
  // TLS (STARTTLS on 25/587, implicit on 465).
  kStarttlsNotOffered,  // EHLO did not offer STARTTLS (with --starttls auto)
  kStarttlsRejected,    // STARTTLS answered with an error other than 421 (see `starttls`)
  kTlsHandshakeFailed,  // the handshake failed (see tls.error)
  kTlsTimeout,          // no complete handshake within the TLS deadline
  kStarttlsInjection,   // bytes followed the 220 to STARTTLS; discarded, see `injected`
  kPlaintextOnTlsPort,  // an implicit-TLS port answered in plaintext SMTP
};
std::string_view ProbeOutcomeName(ProbeOutcome o);

struct PortRecord {
  uint16_t port = 0;  // the logical port (25, 465, 587), whatever --port-map dials
  PortState state = PortState::kError;
  ProbeOutcome outcome = ProbeOutcome::kLocalError;
  std::optional<uint32_t> connect_ms;
  std::string blocked_reason;       // BlockReasonName when blocked
  std::string error;                // errno text for connect errors and local errors
  std::optional<SmtpReply> banner;  // also partial (truncated) when the outcome is an error
  std::optional<SmtpReply> ehlo;
  std::optional<EhloCapabilities> capabilities;  // parsed from `ehlo` when it was a 250
  Boxed<SmtpReply> helo;                         // only when EHLO was rejected with a 5xx
  std::string unsolicited;    // bytes the server sent before we asked (first 256)
  Boxed<SmtpReply> starttls;  // the reply to STARTTLS, when it was sent
  // The handshake: facts when it completed, the SNI, time and error when it failed. Held by
  // pointer so that plaintext-only records stay small.
  std::unique_ptr<const tls::TlsFacts> tls;
  Boxed<SmtpReply> ehlo_tls;  // EHLO inside TLS (RFC 3207 §4.2: asked again)
  Boxed<EhloCapabilities> capabilities_tls;
  std::string injected;  // bytes that followed the 220 to STARTTLS (first 256), discarded
  uint32_t bytes_read = 0;
  uint32_t elapsed_ms = 0;
  uint8_t attempts = 1;  // connections made; more than one after temporary failures (retries)
};
using PortRecordPtr = std::shared_ptr<const PortRecord>;

// A temporary failure worth trying again later: a 421 anywhere, or another 4xx to the greeting or
// to EHLO (greylisting, "too many connections").
bool IsTemporaryFailure(const PortRecord& record);

}  // namespace mxray::engine

#endif  // MXRAY_ENGINE_PORT_RECORD_H_
