// The SMTP behaviours' names, the ordinary servers' texts and the outcome table (see
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
};
static_assert(std::size(kBehaviours) == size_t(B::kSilentAfterEhlo) + 1);

const EsmtpProfile& Postfix() {
  static const EsmtpProfile* const p = new EsmtpProfile{
      .banner_text = "ESMTP Postfix",
      .hello = EsmtpProfile::Hello::kName,
      .extensions = {"PIPELINING", "SIZE 10240000", "ETRN", "STARTTLS", "ENHANCEDSTATUSCODES",
                     "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING"},
      .starttls = true,
      .auth = {},
      .size = 10240000,
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
      .starttls = true,
      .auth = {"PLAIN", "LOGIN"},
      .size = 52428800,
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
      .starttls = true,
      .auth = {"GSSAPI", "NTLM", "LOGIN"},
      .size = 157286400,
  };
  return *p;
}

const EsmtpProfile& Minimal() {
  static const EsmtpProfile* const p = new EsmtpProfile{};
  return *p;
}

}  // namespace

std::string_view SmtpBehaviourName(SmtpBehaviour b) { return kBehaviours[size_t(b)].name; }

SmtpBehaviour OrdinarySmtp(size_t n) {
  static constexpr SmtpBehaviour kFlavours[] = {B::kPostfix, B::kExim, B::kMicrosoft, B::kMinimal};
  return kFlavours[n % 4];
}

std::array<SmtpBehaviour, kSmtpPortCount> SmtpKindBehaviours(DomainKind kind, size_t n) {
  auto all = [](B b) { return std::array<B, kSmtpPortCount>{b, b, b}; };
  switch (kind) {
    case DomainKind::kSmtpHeloOnly:
      return all(B::kHeloOnly);
    case DomainKind::kSmtpSlowGreeting:
      return all(B::kSlowGreeting);
    case DomainKind::kSmtpStalledGreeting:
      return all(B::kStalledGreeting);
    case DomainKind::kSmtpGreeting421:
      return all(B::kGreeting421);
    case DomainKind::kSmtpGreeting554:
      return all(B::kGreeting554);
    case DomainKind::kSmtpEhlo421:
      return all(B::kEhlo421);
    case DomainKind::kSmtpDrip:
      return all(B::kDrip);
    case DomainKind::kSmtpSilent:
      return all(B::kSilent);
    case DomainKind::kSmtpResetMidReply:
      return all(B::kResetMidReply);
    case DomainKind::kSmtpEndlessLine:
      return all(B::kEndlessLine);
    case DomainKind::kSmtpEndlessContinuation:
      return all(B::kEndlessContinuation);
    case DomainKind::kSmtpBadCode:
      return all(n % 2 == 1 ? B::kBadCode : B::kBadSeparator);
    case DomainKind::kSmtpCodeChange:
      return all(B::kCodeChange);
    case DomainKind::kSmtpEarlyTalker:
      return all(B::kEarlyTalker);
    case DomainKind::kSmtpCloseAfterEhlo:
      return all(B::kCloseAfterEhlo);
    case DomainKind::kSmtpClosedPort:
      return {B::kPostfix, B::kPostfix, B::kClosed};
    case DomainKind::kSmtpFilteredPort:
      return {B::kFiltered, B::kPostfix, B::kPostfix};
    case DomainKind::kSmtpPlain465:
      return {B::kPostfix, B::kPlain465, B::kPostfix};
    case DomainKind::kSmtpSilentAfterEhlo:
      return all(B::kSilentAfterEhlo);
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
    default:
      return Postfix();
  }
}

ExpectedPort ExpectPort(SmtpBehaviour behaviour, uint16_t logical_port) {
  ExpectedPort e{.port = logical_port};
  const BehaviourInfo& info = kBehaviours[size_t(behaviour)];
  e.state = behaviour == B::kFiltered ? "filtered" : SmtpAccepts(behaviour) ? "open" : "closed";
  if (!SmtpAccepts(behaviour)) {
    e.outcome = info.outcome;
    return e;
  }
  if (logical_port == 465) {
    // mxray checks 465 for reachability only until it speaks implicit TLS.
    e.outcome = "ok";
    return e;
  }
  e.outcome = info.outcome;
  e.banner_code = info.banner_code;
  if (e.outcome == "ok") {
    const EsmtpProfile& profile = ProfileOf(behaviour);
    e.starttls = profile.starttls;
    for (std::string_view m : profile.auth) e.auth.emplace_back(m);
    e.size = profile.size;
  }
  return e;
}

}  // namespace mxray::fleet
