// The SMTP side of the population in one table: what each server plays (SmtpBehaviour), the
// texts of the ordinary ESMTP servers, and the record mxray must make of each (ExpectedPort).
// The server reads it to know what to say and the expectations read it to know what mxray must
// find, so the two cannot drift apart. Which address plays which behaviour is the population's
// business (Population::SmtpBehavioursAt, population.h).
#ifndef MXRAY_TOOLS_FLEET_SMTP_PLAN_H_
#define MXRAY_TOOLS_FLEET_SMTP_PLAN_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tools/fleet/domain_kind.h"

namespace mxray::fleet {

// mxray's port list. The fleet listens on other numbers (Fleet::smtp_port_map) and mxray dials
// them through --port-map; expectations and statistics speak of these logical ports.
inline constexpr size_t kSmtpPortCount = 3;
inline constexpr std::array<uint16_t, kSmtpPortCount> kSmtpLogicalPorts = {25, 465, 587};

// Which addresses get SMTP sockets. Part of the population's options because the expectations
// depend on it; every field has a cost in descriptors (3 per address, see fleet.h).
struct SmtpPlan {
  bool enabled = true;
  // The first N provider host addresses (127.1.0.1 on, 3 per provider in provider order) get
  // SMTP; later providers' hosts refuse connections. 768 = providers 0-255.
  size_t provider_hosts = 768;
  // The first N addresses of the 1000-address own-host pool (127.2.0.1 on) get SMTP; the others
  // refuse connections. 250 = 127.2.0.1-250.
  size_t own_addresses = 250;
  // Hosts per SMTP kind: 127.4.<kind>.1 to .<N>; each domain of the kind uses one of them.
  size_t hosts_per_kind = 4;
};

// What the socket behind one (address, logical port) does. A closed set: names are stable.
enum class SmtpBehaviour : uint8_t {
  kNone,      // no socket: connect refused (an address outside the plan, or SMTP disabled)
  kClosed,    // a bound socket that does not listen: connect refused, and nobody else can listen
  kFiltered,  // listens with backlog 0 and a queue the fleet filled itself: SYNs go unanswered
  // Ordinary ESMTP, four flavours (EsmtpProfile below).
  kPostfix,
  kExim,
  kMicrosoft,
  kMinimal,
  // The cases; each is one SMTP DomainKind (domain_kind.h).
  kPlain465,             // plaintext ESMTP (Postfix) where mxray expects implicit TLS
  kHeloOnly,             // EHLO -> 502, HELO -> 250
  kSlowGreeting,         // Postfix after SmtpOptions::greeting_delay_ms
  kStalledGreeting,      // Postfix after SmtpOptions::greeting_stall_ms
  kGreeting421,          // 421 greeting; QUIT -> 221, anything else -> 421 and close
  kGreeting554,          // 554 greeting; QUIT -> 221, anything else -> 503
  kEhlo421,              // Postfix greeting, EHLO and HELO -> 421
  kDrip,                 // "220-..." continuation lines forever, one byte per drip interval
  kSilent,               // never writes a byte
  kResetMidReply,        // "220-part", then RST (SO_LINGER 0)
  kEndlessLine,          // "220 " then bytes without LF, as fast as the client reads
  kEndlessContinuation,  // Postfix greeting; EHLO -> "250-" lines forever
  kBadCode,              // greeting "22O ..." (a letter in the code)
  kBadSeparator,         // greeting "2200 ..." (four digits)
  kCodeChange,           // greeting "220-..." then "221 ..."
  kEarlyTalker,          // greeting and an unsolicited line in one write, before EHLO
  kCloseAfterEhlo,       // Postfix greeting; closes instead of answering EHLO
  kSilentAfterEhlo,      // Postfix greeting; from EHLO on reads and discards, never writes
};
std::string_view SmtpBehaviourName(SmtpBehaviour b);

// The socket accepts connections and talks (everything but kNone, kClosed, kFiltered).
inline constexpr bool SmtpAccepts(SmtpBehaviour b) { return b >= SmtpBehaviour::kPostfix; }
// The n-th ordinary flavour, n taken modulo 4: Postfix, Exim, Microsoft, minimal.
SmtpBehaviour OrdinarySmtp(size_t n);
// The behaviours of host n (1-based) of an SMTP kind on 25, 465 and 587.
std::array<SmtpBehaviour, kSmtpPortCount> SmtpKindBehaviours(DomainKind kind, size_t n);

// An ordinary ESMTP server's texts and the facts mxray must read from them. Behaviours that
// talk normally apart from their case use the Postfix profile.
struct EsmtpProfile {
  enum class Hello : uint8_t {
    kName,          // "250-<name>"
    kHelloArgPeer,  // "250-<name> Hello <ehlo argument> [<client address>]"  (Exim)
    kHelloPeer,     // "250-<name> Hello [<client address>]"                  (Microsoft)
  };
  std::string_view banner_text;  // after "220 <name> "; empty: "220 <name>"
  Hello hello = Hello::kName;
  std::vector<std::string_view> extensions;  // the EHLO lines after the first, in order
  // What mxray's EHLO parser makes of them (engine/ehlo_capabilities.h).
  bool starttls = false;
  std::vector<std::string_view> auth;  // SASL mechanisms, uppercase, in order, each once
  std::optional<uint64_t> size;
};
// The profile a talking behaviour uses for its greeting and EHLO (Postfix for the cases).
const EsmtpProfile& ProfileOf(SmtpBehaviour b);

// One port of one address as mxray must record it. Names are those of engine/port_record.h.
struct ExpectedPort {
  uint16_t port = 0;       // the logical port: 25, 465, 587
  std::string_view state;  // open|closed|filtered
  // ok, connect_refused, connect_timeout, banner_timeout, banner_rejected, rate_limited,
  // ehlo_rejected, command_timeout, protocol_error, line_too_long, reply_too_large,
  // connection_reset, closed_early
  std::string_view outcome;
  // The code of the greeting mxray records, complete or partial (after a reset, a malformed or
  // an endless reply the partial greeting is kept); -1: none. Never asserted for 465, where
  // mxray reads no greeting, nor for the drip, whose partial greeting depends on timing.
  int banner_code = -1;
  // From a 250 EHLO reply only (outcome ok); false, empty and empty otherwise.
  bool starttls = false;
  std::vector<std::string> auth;  // before TLS, uppercase, in order
  std::optional<uint64_t> size;

  friend bool operator==(const ExpectedPort&, const ExpectedPort&) = default;
};

// The record of `behaviour` on `logical_port`. It assumes mxray's deadlines sit between the
// fleet's delays: connect and banner deadlines longer than latency_ms + greeting_delay_ms and
// shorter than greeting_stall_ms, command deadlines longer than latency_ms.
ExpectedPort ExpectPort(SmtpBehaviour behaviour, uint16_t logical_port);

}  // namespace mxray::fleet

#endif  // MXRAY_TOOLS_FLEET_SMTP_PLAN_H_
