// The SMTP behaviours' names, the ordinary servers' texts, their TLS and the outcome table (see
// smtp_plan.h). The outcomes follow engine/smtp_session.cc: keep the two in step.
#include "tools/fleet/smtp_plan.h"

namespace mxray::fleet {
namespace {

using B = SmtpBehaviour;

struct BehaviourInfo {
  std::string_view name;
  std::string_view outcome;  // on 25 and 587, for the behaviours that accept
  int banner_code;
};

constexpr BehaviourInfo kBehaviours[] = {
    {"none", "connect_refused", -1},
    {"closed", "connect_refused", -1},
    {"filtered", "connect_timeout", -1},
    {"postfix", "ok", 220},
    {"exim", "ok", 220},
    {"microsoft", "ok", 220},
    {"minimal", "ok", 220},
    {"plain_465", "ok", 220},
    {"helo_only", "ehlo_rejected", 220},
    {"slow_greeting", "ok", 220},
    {"stalled_greeting", "banner_timeout", -1},
    {"greeting_421", "rate_limited", 421},
    {"greeting_554", "banner_rejected", 554},
    {"ehlo_421", "rate_limited", 220},
    {"drip", "banner_timeout", -1},
    {"silent", "banner_timeout", -1},
    {"reset_mid_reply", "connection_reset", 220},  // "220-part" kept, truncated
    {"endless_line", "line_too_long", 220},        // "220 xxx..." kept, truncated
    {"endless_continuation", "reply_too_large", 220},
    {"bad_code", "protocol_error", -1},        // "22O": no code was ever read
    {"bad_separator", "protocol_error", 220},  // "2200": the code, then a bad separator
    {"code_change", "protocol_error", 220},    // "220-" kept, truncated
    {"early_talker", "protocol_error", 220},
    {"close_after_ehlo", "closed_early", 220},
    {"silent_after_ehlo", "command_timeout", 220},
    // The TLS cases: ordinary in plaintext, their case is in TLS (ExpectPort, TlsPlanOf).
    {"tls_expired", "ok", 220},
    {"tls_not_yet_valid", "ok", 220},
    {"tls_self_signed", "ok", 220},
    {"tls_untrusted_ca", "ok", 220},
    {"tls_wrong_name", "ok", 220},
    {"tls_wildcard", "ok", 220},
    {"tls12_only", "ok", 220},
    {"tls10_only", "ok", 220},
    {"tls_rsa", "ok", 220},
    {"tls_ecdsa", "ok", 220},
    {"starttls_454", "ok", 220},
    {"starttls_garbage", "ok", 220},
    {"starttls_injection", "ok", 220},
    {"tls_stall", "ok", 220},
    {"auth_after_tls", "ok", 220},
    {"auth_before_tls", "ok", 220},
    {"greeting_421_then_ok", "ok", 220},
};
static_assert(std::size(kBehaviours) == kSmtpBehaviourCount);

const EsmtpProfile& Postfix() {
  static const EsmtpProfile* const p = new EsmtpProfile{
      .banner_text = "ESMTP Postfix",
      .hello = EsmtpProfile::Hello::kName,
      .extensions = {"PIPELINING", "SIZE 10240000", "ETRN", "STARTTLS", "ENHANCEDSTATUSCODES",
                     "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING"},
      .tls_extensions = {"PIPELINING", "SIZE 10240000", "ETRN", "ENHANCEDSTATUSCODES", "8BITMIME",
                         "DSN", "SMTPUTF8", "CHUNKING"},
      .starttls = true,
      .auth = {},
      .size = 10240000,
  };
  return *p;
}

// Postfix with smtpd_tls_auth_only = yes: AUTH is offered only once the session is encrypted.
const EsmtpProfile& PostfixAuthAfterTls() {
  static const EsmtpProfile* const p = new EsmtpProfile{
      .banner_text = "ESMTP Postfix",
      .hello = EsmtpProfile::Hello::kName,
      .extensions = {"PIPELINING", "SIZE 10240000", "ETRN", "STARTTLS", "ENHANCEDSTATUSCODES",
                     "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING"},
      .tls_extensions = {"PIPELINING", "SIZE 10240000", "ETRN", "AUTH PLAIN LOGIN",
                         "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING"},
      .starttls = true,
      .auth = {},
      .size = 10240000,
      .auth_after_tls = {"PLAIN", "LOGIN"},
  };
  return *p;
}

// The same with smtpd_tls_auth_only = no: passwords may cross in the clear.
const EsmtpProfile& PostfixAuthBeforeTls() {
  static const EsmtpProfile* const p = new EsmtpProfile{
      .banner_text = "ESMTP Postfix",
      .hello = EsmtpProfile::Hello::kName,
      .extensions = {"PIPELINING", "SIZE 10240000", "ETRN", "STARTTLS", "AUTH PLAIN LOGIN",
                     "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING"},
      .tls_extensions = {"PIPELINING", "SIZE 10240000", "ETRN", "AUTH PLAIN LOGIN",
                         "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING"},
      .starttls = true,
      .auth = {"PLAIN", "LOGIN"},
      .size = 10240000,
      .auth_after_tls = {"PLAIN", "LOGIN"},
  };
  return *p;
}

const EsmtpProfile& Exim() {
  // PIPE_CONNECT is what Exim sends; its '_' makes it no ehlo-keyword, so parsers skip it.
  static const EsmtpProfile* const p = new EsmtpProfile{
      .banner_text = "ESMTP Exim 4.97 Mon, 01 Jan 2024 00:00:00 +0000",
      .hello = EsmtpProfile::Hello::kHelloArgPeer,
      .extensions = {"SIZE 52428800", "LIMITS MAILMAX=1000 RCPTMAX=50000", "8BITMIME", "PIPELINING",
                     "PIPE_CONNECT", "AUTH PLAIN LOGIN", "CHUNKING", "STARTTLS", "HELP"},
      .tls_extensions = {"SIZE 52428800", "LIMITS MAILMAX=1000 RCPTMAX=50000", "8BITMIME",
                         "PIPELINING", "PIPE_CONNECT", "AUTH PLAIN LOGIN", "CHUNKING", "HELP"},
      .starttls = true,
      .auth = {"PLAIN", "LOGIN"},
      .size = 52428800,
      .auth_after_tls = {"PLAIN", "LOGIN"},
  };
  return *p;
}

const EsmtpProfile& Microsoft() {
  // Exchange with basic authentication: the RFC 4954 line and the old "AUTH=" one for Outlook.
  static const EsmtpProfile* const p = new EsmtpProfile{
      .banner_text = "Microsoft ESMTP MAIL Service ready at Mon, 1 Jan 2024 00:00:00 +0000",
      .hello = EsmtpProfile::Hello::kHelloPeer,
      .extensions = {"SIZE 157286400", "PIPELINING", "DSN", "ENHANCEDSTATUSCODES", "STARTTLS",
                     "AUTH GSSAPI NTLM", "AUTH=LOGIN", "8BITMIME", "BINARYMIME", "CHUNKING",
                     "SMTPUTF8"},
      .tls_extensions = {"SIZE 157286400", "PIPELINING", "DSN", "ENHANCEDSTATUSCODES",
                         "AUTH GSSAPI NTLM", "AUTH=LOGIN", "8BITMIME", "BINARYMIME", "CHUNKING",
                         "SMTPUTF8"},
      .starttls = true,
      .auth = {"GSSAPI", "NTLM", "LOGIN"},
      .size = 157286400,
      .auth_after_tls = {"GSSAPI", "NTLM", "LOGIN"},
  };
  return *p;
}

const EsmtpProfile& Minimal() {
  static const EsmtpProfile* const p = new EsmtpProfile{};
  return *p;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// The verdict on `cert` of the server `host_name` for the MX name `exchange`, in mxray's
// precedence.
std::string_view VerifyStatus(TlsCert cert, const PortContext& where) {
  switch (cert) {
    case TlsCert::kSelfSigned:
      return "self_signed";
    case TlsCert::kUntrustedCa:
      return "untrusted";
    case TlsCert::kExpired:
      return "expired";
    case TlsCert::kNotYetValid:
      return "not_yet_valid";
    default:
      break;
  }
  const std::string_view reference = where.exchange.empty() ? where.host_name : where.exchange;
  if (reference.empty()) return cert == TlsCert::kWrongName ? "hostname_mismatch" : "ok";
  for (const std::string& name : CertDnsNames(cert, where.host_name)) {
    if (DnsNameMatches(reference, name)) return "ok";
  }
  return "hostname_mismatch";
}

// The behaviours whose greeting is one complete 220 line sent at once: what a plaintext 465
// shows mxray in answer to its ClientHello.
bool GreetsAtOnce(SmtpBehaviour b) {
  switch (b) {
    case B::kSlowGreeting:
    case B::kStalledGreeting:
    case B::kGreeting421:
    case B::kGreeting554:
    case B::kDrip:
    case B::kSilent:
    case B::kResetMidReply:
    case B::kEndlessLine:
    case B::kBadCode:
    case B::kBadSeparator:
    case B::kCodeChange:
      return false;
    default:
      return SmtpAccepts(b);
  }
}

}  // namespace

std::string_view SmtpBehaviourName(SmtpBehaviour b) { return kBehaviours[size_t(b)].name; }

std::string_view TlsVersionName(uint16_t version) {
  switch (version) {
    case kTls10:
      return "TLSv1";
    case kTls11:
      return "TLSv1.1";
    case kTls12:
      return "TLSv1.2";
    case kTls13:
      return "TLSv1.3";
    default:
      return "";
  }
}

TlsPlan TlsPlanOf(SmtpBehaviour b, bool ecdsa_leaves) {
  TlsPlan p;
  switch (b) {
    case B::kPostfix:
    case B::kMicrosoft:
      p.rsa = !ecdsa_leaves;
      break;
    case B::kExim:
    case B::kMinimal:
    case B::kTlsNotYetValid:
    case B::kTlsUntrustedCa:
    case B::kTlsWildcard:
    case B::kTlsEcdsa:
    case B::kStarttlsInjection:
    case B::kAuthBeforeTls:
      p.rsa = false;
      break;
    default:
      break;
  }
  switch (b) {
    case B::kTlsExpired:
      p.cert = TlsCert::kExpired;
      break;
    case B::kTlsNotYetValid:
      p.cert = TlsCert::kNotYetValid;
      break;
    case B::kTlsSelfSigned:
      p.cert = TlsCert::kSelfSigned;
      break;
    case B::kTlsUntrustedCa:
      p.cert = TlsCert::kUntrustedCa;
      break;
    case B::kTlsWrongName:
      p.cert = TlsCert::kWrongName;
      break;
    case B::kTlsWildcard:
      p.cert = TlsCert::kWildcard;
      break;
    case B::kTls12Only:
      p.max_version = kTls12;
      break;
    case B::kTls10Only:
      p.min_version = p.max_version = kTls10;
      break;
    case B::kStarttls454:
      p.answer = TlsAnswer::kRejected;
      break;
    case B::kStarttlsGarbage:
      p.answer = TlsAnswer::kGarbage;
      break;
    case B::kStarttlsInjection:
      p.answer = TlsAnswer::kInjection;
      break;
    case B::kTlsStall:
      p.answer = TlsAnswer::kStall;
      break;
    default:
      break;
  }
  return p;
}

std::vector<std::string> CertDnsNames(TlsCert cert, std::string_view host_name) {
  switch (cert) {
    case TlsCert::kWrongName:
      return {std::string(kWrongCertName)};
    case TlsCert::kWildcard: {
      const size_t dot = host_name.find('.');
      return {"*." +
              std::string(dot == std::string_view::npos ? host_name : host_name.substr(dot + 1))};
    }
    default:
      return {std::string(host_name)};
  }
}

bool DnsNameMatches(std::string_view reference, std::string_view presented) {
  if (reference.ends_with('.')) reference.remove_suffix(1);
  if (presented.ends_with('.')) presented.remove_suffix(1);
  if (reference.empty() || presented.empty()) return false;
  if (!presented.starts_with("*.")) return EqualsIgnoreCase(reference, presented);
  const std::string_view parent = presented.substr(2);
  if (parent.find('.') == std::string_view::npos) return false;  // "*.test": too wide
  const size_t dot = reference.find('.');
  return dot != std::string_view::npos && dot > 0 &&
         EqualsIgnoreCase(reference.substr(dot + 1), parent);
}

SmtpBehaviour OrdinarySmtp(size_t n) {
  static constexpr SmtpBehaviour kFlavours[] = {B::kPostfix, B::kExim, B::kMicrosoft, B::kMinimal};
  return kFlavours[n % 4];
}

std::array<SmtpBehaviour, kSmtpPortCount> SmtpKindBehaviours(DomainKind kind, size_t n) {
  auto all = [](B b) { return std::array<B, kSmtpPortCount>{b, b, b}; };
  // The plaintext cases keep their case on 25 and 587; 465 is an ordinary implicit-TLS Postfix
  // (a case that fails before STARTTLS could not fail differently there).
  auto plain = [](B b) { return std::array<B, kSmtpPortCount>{b, B::kPostfix, b}; };
  switch (kind) {
    case DomainKind::kSmtpHeloOnly:
      return plain(B::kHeloOnly);
    case DomainKind::kSmtpSlowGreeting:
      return plain(B::kSlowGreeting);
    case DomainKind::kSmtpStalledGreeting:
      return plain(B::kStalledGreeting);
    case DomainKind::kSmtpGreeting421:
      return plain(B::kGreeting421);
    case DomainKind::kSmtpGreeting554:
      return plain(B::kGreeting554);
    case DomainKind::kSmtpEhlo421:
      return plain(B::kEhlo421);
    case DomainKind::kSmtpDrip:
      return plain(B::kDrip);
    case DomainKind::kSmtpSilent:
      return plain(B::kSilent);
    case DomainKind::kSmtpResetMidReply:
      return plain(B::kResetMidReply);
    case DomainKind::kSmtpEndlessLine:
      return plain(B::kEndlessLine);
    case DomainKind::kSmtpEndlessContinuation:
      return plain(B::kEndlessContinuation);
    case DomainKind::kSmtpBadCode:
      return plain(n % 2 == 1 ? B::kBadCode : B::kBadSeparator);
    case DomainKind::kSmtpCodeChange:
      return plain(B::kCodeChange);
    case DomainKind::kSmtpEarlyTalker:
      return plain(B::kEarlyTalker);
    case DomainKind::kSmtpCloseAfterEhlo:
      return plain(B::kCloseAfterEhlo);
    case DomainKind::kSmtpClosedPort:
      return {B::kPostfix, B::kPostfix, B::kClosed};
    case DomainKind::kSmtpFilteredPort:
      return {B::kFiltered, B::kPostfix, B::kPostfix};
    case DomainKind::kSmtpPlain465:
      return {B::kPostfix, B::kPlain465, B::kPostfix};
    case DomainKind::kSmtpSilentAfterEhlo:
      return plain(B::kSilentAfterEhlo);
    case DomainKind::kTlsExpired:
      return all(B::kTlsExpired);
    case DomainKind::kTlsNotYetValid:
      return all(B::kTlsNotYetValid);
    case DomainKind::kTlsSelfSigned:
      return all(B::kTlsSelfSigned);
    case DomainKind::kTlsUntrustedCa:
      return all(B::kTlsUntrustedCa);
    case DomainKind::kTlsWrongName:
      return all(B::kTlsWrongName);
    case DomainKind::kTlsWildcard:
      return all(B::kTlsWildcard);
    case DomainKind::kTls12Only:
      return all(B::kTls12Only);
    case DomainKind::kTls10Only:
      return all(B::kTls10Only);
    case DomainKind::kTlsRsa:
      return all(B::kTlsRsa);
    case DomainKind::kTlsEcdsa:
      return all(B::kTlsEcdsa);
    case DomainKind::kStarttls454:
      return all(B::kStarttls454);
    case DomainKind::kStarttlsGarbage:
      return all(B::kStarttlsGarbage);
    case DomainKind::kStarttlsInjection:
      return all(B::kStarttlsInjection);
    case DomainKind::kTlsStall:
      return all(B::kTlsStall);
    case DomainKind::kAuthAfterTls:
      return all(B::kAuthAfterTls);
    case DomainKind::kAuthBeforeTls:
      return all(B::kAuthBeforeTls);
    // The reputation cases are in DNS; their hosts are ordinary.
    case DomainKind::kDnsblListed:
    case DomainKind::kDnsblMulti:
    case DomainKind::kDnsblPbl:
    case DomainKind::kDnsblError252:
    case DomainKind::kDnsblError254:
    case DomainKind::kDnsblError255:
    case DomainKind::kDnsblRewritten:
    case DomainKind::kPtrUnconfirmed:
    case DomainKind::kPtrNone:
      return all(B::kPostfix);
    case DomainKind::kSmtp421ThenOk:
      return plain(B::kGreeting421ThenOk);
    default:
      return all(B::kNone);
  }
}

const EsmtpProfile& ProfileOf(SmtpBehaviour b) {
  switch (b) {
    case B::kExim:
      return Exim();
    case B::kMicrosoft:
      return Microsoft();
    case B::kMinimal:
      return Minimal();
    case B::kAuthAfterTls:
      return PostfixAuthAfterTls();
    case B::kAuthBeforeTls:
      return PostfixAuthBeforeTls();
    default:
      return Postfix();
  }
}

ExpectedPort ExpectPort(SmtpBehaviour behaviour, uint16_t logical_port, const PortContext& where) {
  ExpectedPort e{.port = logical_port};
  const BehaviourInfo& info = kBehaviours[size_t(behaviour)];
  if (behaviour == B::kGreeting421ThenOk) e.attempts = where.greeting_421_connections + 1;
  e.state = behaviour == B::kFiltered ? "filtered" : SmtpAccepts(behaviour) ? "open" : "closed";
  e.outcome = info.outcome;
  if (!SmtpAccepts(behaviour)) return e;
  const EsmtpProfile& profile = ProfileOf(behaviour);
  const TlsPlan tls = TlsPlanOf(behaviour, where.ecdsa_leaves);
  // The handshake completed, and the session inside it went as far as `info` says.
  auto in_tls = [&] {
    e.tls_version = TlsVersionName(tls.max_version);  // mxray offers up to TLS 1.3
    e.verify_status = VerifyStatus(tls.cert, where);
    e.key_type = tls.rsa ? "RSA" : "EC";
    e.key_bits = tls.rsa ? 2048 : 256;
    if (info.outcome == "ok") {
      e.ehlo_tls = true;
      for (std::string_view m : profile.auth_after_tls) e.auth_after_tls.emplace_back(m);
    }
  };

  if (logical_port == 465) {
    if (!where.tls || behaviour == B::kPlain465) {
      // mxray's ClientHello is answered by the greeting, which is all it reads.
      if (GreetsAtOnce(behaviour)) {
        e.outcome = "plaintext_on_tls_port";
        e.banner_code = 220;
      }
      return e;
    }
    if (tls.answer == TlsAnswer::kGarbage) {
      e.outcome = "tls_handshake_failed";
      return e;
    }
    if (tls.answer == TlsAnswer::kStall) {
      e.outcome = "tls_timeout";
      return e;
    }
    e.banner_code = info.banner_code;
    in_tls();
    return e;
  }

  e.banner_code = info.banner_code;
  if (info.outcome != "ok") return e;  // the plaintext cases end before STARTTLS
  e.starttls = profile.starttls && where.tls;
  for (std::string_view m : profile.auth) e.auth.emplace_back(m);
  e.size = profile.size;
  if (!e.starttls) {
    e.outcome = "starttls_not_offered";
    return e;
  }
  e.starttls_code = 220;
  switch (tls.answer) {
    case TlsAnswer::kRejected:
      e.starttls_code = 454;
      e.outcome = "starttls_rejected";
      return e;
    case TlsAnswer::kGarbage:
      e.outcome = "tls_handshake_failed";
      return e;
    case TlsAnswer::kStall:
      e.outcome = "tls_timeout";
      return e;
    case TlsAnswer::kInjection:
      e.outcome = "starttls_injection";
      e.injected = true;
      break;
    case TlsAnswer::kReady:
      break;
  }
  in_tls();
  return e;
}

}  // namespace mxray::fleet
