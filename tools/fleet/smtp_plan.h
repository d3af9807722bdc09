// The SMTP side of the population in one table: what each server plays (SmtpBehaviour), the
// texts of the ordinary ESMTP servers, their TLS (certificate, versions, how STARTTLS is
// answered), and the record mxray must make of each (ExpectedPort).
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
  // The servers speak TLS: STARTTLS on 25 and 587 where the behaviour offers it, implicit TLS on
  // 465 (TlsPlanOf). false: a fleet from before TLS, for plaintext-only runs and benchmarks:
  // no EHLO offers STARTTLS (the command is answered 502), and 465 speaks plaintext SMTP like
  // 25, which mxray records as plaintext_on_tls_port.
  bool tls = true;
  // Every ordinary flavour presents an ECDSA P-256 leaf: Postfix and Microsoft too, whose leaves
  // are RSA-2048 otherwise (TlsPlanOf). For throughput benchmarks, where the fleet's RSA signing
  // (~0.6 ms a handshake with a BoringSSL built without assembly) would dominate the machine.
  // The TLS cases keep their own keys (tls_rsa stays RSA); the expectations follow.
  bool ecdsa_leaves = false;
  // kGreeting421ThenOk: the first N connections to each of its endpoints (since the start or the
  // last ResetSmtpStats) are greeted with 421; mxray must retry N times (attempts = N + 1).
  uint32_t greeting_421_connections = 2;
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
  // The TLS cases; each is one TLS DomainKind and plays the same on 25, 465 and 587. They talk
  // like Postfix (the auth ones add AUTH); what differs is their TlsPlan (TlsPlanOf below).
  kTlsExpired,         // the trusted chain, the leaf's not_after 30 days ago
  kTlsNotYetValid,     // the trusted chain, the leaf's not_before 30 days ahead
  kTlsSelfSigned,      // a self-signed leaf
  kTlsUntrustedCa,     // leaf + intermediate under a root that is not in the CA file
  kTlsWrongName,       // the trusted chain, for kWrongCertName instead of the host's name
  kTlsWildcard,        // the trusted chain, for "*.<parent of the host name>" (it matches)
  kTls12Only,          // at most TLS 1.2
  kTls10Only,          // TLS 1.0 and nothing else
  kTlsRsa,             // an RSA-2048 leaf
  kTlsEcdsa,           // an ECDSA P-256 leaf
  kStarttls454,        // STARTTLS -> "454 4.7.0 TLS not available due to local problem"
  kStarttlsGarbage,    // STARTTLS -> 220, then plaintext garbage in answer to the ClientHello
  kStarttlsInjection,  // STARTTLS -> "220 ...\r\n250 injected\r\n" in one write, then TLS
  kTlsStall,           // STARTTLS -> 220, then the ClientHello is never answered
  kAuthAfterTls,       // EHLO offers no AUTH before TLS, "AUTH PLAIN LOGIN" inside it
  kAuthBeforeTls,      // "AUTH PLAIN LOGIN" before TLS already (and inside it)
  // The retry case (DomainKind kSmtp421ThenOk), on 25 and 587: "421 4.7.0 try again later" as
  // the greeting of the first SmtpPlan::greeting_421_connections connections to the endpoint
  // (then as kGreeting421: QUIT -> 221, anything else -> 421 and close), Postfix from then on.
  kGreeting421ThenOk,
};
std::string_view SmtpBehaviourName(SmtpBehaviour b);

// The socket accepts connections and talks (everything but kNone, kClosed, kFiltered).
inline constexpr bool SmtpAccepts(SmtpBehaviour b) { return b >= SmtpBehaviour::kPostfix; }
inline constexpr size_t kSmtpBehaviourCount = size_t(SmtpBehaviour::kGreeting421ThenOk) + 1;
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
  // The EHLO lines after the first inside TLS (after STARTTLS, or on 465): never STARTTLS.
  std::vector<std::string_view> tls_extensions;
  // What mxray's EHLO parser makes of them (engine/ehlo_capabilities.h).
  bool starttls = false;
  std::vector<std::string_view> auth;  // SASL mechanisms, uppercase, in order, each once
  std::optional<uint64_t> size;
  std::vector<std::string_view> auth_after_tls;  // from tls_extensions, as `auth`
};
// The profile a talking behaviour uses for its greeting and EHLO (Postfix for the cases, the
// auth kinds' own for them).
const EsmtpProfile& ProfileOf(SmtpBehaviour b);

// The TLS of a talking behaviour (only used when SmtpPlan::tls).
inline constexpr uint16_t kTls10 = 0x0301, kTls11 = 0x0302, kTls12 = 0x0303, kTls13 = 0x0304;
enum class TlsCert : uint8_t {
  kValid,        // trusted root -> intermediate -> leaf for the host's name, plus its IP
  kExpired,      // kValid with not_after in the past
  kNotYetValid,  // kValid with not_before in the future
  kSelfSigned,   // a self-signed leaf for the host's name
  kUntrustedCa,  // kValid's shape under the untrusted root
  kWrongName,    // kValid for kWrongCertName
  kWildcard,     // kValid for "*.<parent of the host name>"
};
// What the server does when a client asks for TLS: after STARTTLS on 25 and 587; on 465 only
// kGarbage and kStall act (on the ClientHello), the others do an ordinary handshake.
enum class TlsAnswer : uint8_t {
  kReady,      // "220 2.0.0 Ready to start TLS", then the handshake
  kRejected,   // "454 4.7.0 TLS not available due to local problem", stays in plaintext
  kGarbage,    // 220; reads the ClientHello, answers kTlsGarbage, then reads and discards
  kInjection,  // "220 2.0.0 Ready to start TLS\r\n250 injected\r\n" in one write, then TLS
  kStall,      // 220; reads the ClientHello and everything after it, never writes again
};
struct TlsPlan {
  TlsCert cert = TlsCert::kValid;
  bool rsa = true;  // an RSA-2048 leaf, else ECDSA P-256
  uint16_t min_version = kTls12;
  uint16_t max_version = kTls13;
  TlsAnswer answer = TlsAnswer::kReady;
};
// Postfix and Microsoft RSA, Exim and minimal ECDSA, TLS 1.2-1.3; the TLS cases as named.
// `ecdsa_leaves` (SmtpPlan::ecdsa_leaves): the four ordinary flavours all ECDSA.
TlsPlan TlsPlanOf(SmtpBehaviour b, bool ecdsa_leaves = false);
// The name a kTlsWrongName certificate is for: no domain's exchange.
inline constexpr std::string_view kWrongCertName = "mx.someone-else.fleet.test";
// What kGarbage sends instead of a ServerHello: neither a TLS record nor an SMTP reply.
inline constexpr std::string_view kTlsGarbage = "garbage instead of a ServerHello\r\n";
// The DNS names (subjectAltName, the first also the CN) of `cert` on the server `host_name`.
std::vector<std::string> CertDnsNames(TlsCert cert, std::string_view host_name);
// RFC 6125 §6.4: `reference` (a host name) against one presented DNS identifier, as mxray
// judges it: case-insensitive, a trailing dot ignored, a wildcard only as the whole leftmost
// label of a pattern of at least three labels, standing for exactly one label.
bool DnsNameMatches(std::string_view reference, std::string_view presented);
// "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"; empty for anything else.
std::string_view TlsVersionName(uint16_t version);

// One port of one address as mxray must record it. Names are those of engine/port_record.h.
//
// The conversation mxray has (--starttls auto): on 25 and 587 greeting, EHLO, then, when the
// EHLO reply offers STARTTLS, STARTTLS, the handshake (SNI: the exchange name), EHLO again inside
// TLS and QUIT inside TLS; on 465 the handshake first (implicit TLS, RFC 8314), then greeting,
// EHLO and QUIT inside TLS.
struct ExpectedPort {
  uint16_t port = 0;       // the logical port: 25, 465, 587
  std::string_view state;  // open|closed|filtered
  // ok, connect_refused, connect_timeout, banner_timeout, banner_rejected, rate_limited,
  // ehlo_rejected, command_timeout, protocol_error, line_too_long, reply_too_large,
  // connection_reset, closed_early, and for TLS:
  //   starttls_not_offered   the plaintext EHLO reply did not offer STARTTLS
  //   starttls_rejected      STARTTLS answered 4xx/5xx other than 421 (starttls_code)
  //   tls_handshake_failed   the handshake failed (garbage instead of a ServerHello)
  //   tls_timeout            no handshake progress within mxray's TLS deadline
  //   starttls_injection     bytes followed the 220 to STARTTLS in the same read; discarded,
  //                          and the session went on in TLS (injected, TLS facts, ehlo_tls)
  //   plaintext_on_tls_port  465 answered the ClientHello with a plaintext SMTP greeting
  std::string_view outcome;
  // The code of the greeting mxray records, complete or partial (after a reset, a malformed or
  // an endless reply the partial greeting is kept); -1: none. On 465 the greeting read inside
  // TLS, or the plaintext one that failed the handshake (plaintext_on_tls_port); none when the
  // handshake failed otherwise. Not asserted for the drip, whose partial greeting depends on
  // timing.
  int banner_code = -1;
  // From the plaintext 250 EHLO reply on 25 and 587, whatever happened after it; false, empty
  // and empty when there was none (an earlier failure, and always on 465).
  bool starttls = false;
  std::vector<std::string> auth;  // before TLS, uppercase, in order
  std::optional<uint64_t> size;
  // The code of the reply to STARTTLS when mxray sent it (220, 454); -1: not sent.
  int starttls_code = -1;
  // Facts of a completed handshake; empty, empty, empty and 0 when none completed.
  std::string_view tls_version;  // TLSv1, TLSv1.1, TLSv1.2, TLSv1.3 (mxray offers up to 1.3)
  // One word, judged against the exchange name with the fleet's CA file (Fleet::ca_file()), the
  // first that applies of: self_signed, untrusted, expired, not_yet_valid, hostname_mismatch
  // (RFC 6125 on the DNS SANs), ok.
  std::string_view verify_status;
  std::string_view key_type;                // the leaf's key: RSA | EC
  uint32_t key_bits = 0;                    // 2048 | 256
  bool ehlo_tls = false;                    // a 250 EHLO reply inside TLS
  std::vector<std::string> auth_after_tls;  // from it, as `auth`
  bool injected = false;  // bytes followed the 220 to STARTTLS (outcome starttls_injection)
  // Connections mxray makes to the endpoint for this record: 1, but greeting_421_connections + 1
  // for kGreeting421ThenOk, whose record is the last connection's (mxray retries a 421 greeting
  // with backoff, at least that many times).
  uint32_t attempts = 1;

  friend bool operator==(const ExpectedPort&, const ExpectedPort&) = default;
};

// Where a behaviour is probed: what its certificate names and what mxray checks it against.
struct PortContext {
  std::string_view host_name;             // the server's own name (Population::SmtpHostName)
  std::string_view exchange;              // the MX name mxray probes it for (SNI); empty: host_name
  bool tls = true;                        // SmtpPlan::tls
  bool ecdsa_leaves = false;              // SmtpPlan::ecdsa_leaves
  uint32_t greeting_421_connections = 2;  // SmtpPlan::greeting_421_connections
};

// The record of `behaviour` on `logical_port`. It assumes mxray's deadlines sit between the
// fleet's delays: connect and banner deadlines longer than latency_ms + greeting_delay_ms and
// shorter than greeting_stall_ms, command and TLS deadlines longer than latency_ms. On 465 the
// table covers the behaviours the plan puts there (the ordinary flavours, kPlain465 and the TLS
// cases); a plaintext case there is modelled as that case inside TLS, as the server plays it.
// Without a host name or exchange, every certificate but kWrongName's is taken to match.
ExpectedPort ExpectPort(SmtpBehaviour behaviour, uint16_t logical_port,
                        const PortContext& where = {});

}  // namespace mxray::fleet

#endif  // MXRAY_TOOLS_FLEET_SMTP_PLAN_H_
