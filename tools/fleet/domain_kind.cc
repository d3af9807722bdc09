// Names, labels and weights of the domain kinds: one table, so that they cannot drift apart.
#include "tools/fleet/domain_kind.h"

namespace mxray::fleet {
namespace {

struct KindInfo {
  std::string_view name;
  std::string_view label;
  uint32_t weight;  // out of 100,000; plain takes what the others leave
};

// Rare kinds get at least 2 per thousand so that a 10k run meets each of them dozens of times.
constexpr KindInfo kKinds[kDomainKindCount] = {
    {"plain", "plain", 0},
    {"multi_mx", "multi-mx", 8000},
    {"dual_stack", "dual-stack", 3000},
    {"aaaa_only", "aaaa-only", 500},
    {"cname_domain", "cname-domain", 2000},
    {"exchange_cname", "exchange-cname", 2000},
    {"cname_chain", "cname-chain", 500},
    {"cname_too_long", "cname-too-long", 300},
    {"cname_loop", "cname-loop", 300},
    {"exchange_cname_loop", "exchange-cname-loop", 300},
    {"null_mx", "null-mx", 2000},
    {"null_mx_mixed", "null-mx-mixed", 300},
    {"implicit_a", "implicit-a", 2000},
    {"implicit_dual", "implicit-dual", 500},
    {"implicit_aaaa", "implicit-aaaa", 300},
    {"no_mail_host", "no-mail-host", 1000},
    {"nxdomain", "nxdomain", 2000},
    {"servfail", "servfail", 500},
    {"refused", "refused", 300},
    {"timeout", "timeout", 300},
    {"exchange_nxdomain", "exchange-nxdomain", 500},
    {"exchange_servfail", "exchange-servfail", 300},
    {"exchange_timeout", "exchange-timeout", 300},
    {"exchange_nodata", "exchange-nodata", 500},
    {"oversized_mx", "oversized-mx", 300},
    {"oversized_a", "oversized-a", 300},
    {"ip_literal", "ip-literal", 300},
    {"invalid_name", "invalid-name", 300},
    {"malformed_truncated", "malformed-truncated", 300},
    {"malformed_pointer_loop", "malformed-pointer-loop", 300},
    {"malformed_pointer_range", "malformed-pointer-range", 300},
    {"malformed_garbage", "malformed-garbage", 300},
    {"foreign_owner", "foreign-owner", 300},
    {"smtp_helo_only", "smtp-helo-only", 300},
    {"smtp_slow_greeting", "smtp-slow-greeting", 300},
    {"smtp_stalled_greeting", "smtp-stalled-greeting", 300},
    {"smtp_greeting_421", "smtp-greeting-421", 300},
    {"smtp_greeting_554", "smtp-greeting-554", 300},
    {"smtp_ehlo_421", "smtp-ehlo-421", 300},
    {"smtp_drip", "smtp-drip", 300},
    {"smtp_silent", "smtp-silent", 300},
    {"smtp_reset_mid_reply", "smtp-reset-mid-reply", 300},
    {"smtp_endless_line", "smtp-endless-line", 300},
    {"smtp_endless_continuation", "smtp-endless-continuation", 300},
    {"smtp_bad_code", "smtp-bad-code", 300},
    {"smtp_code_change", "smtp-code-change", 300},
    {"smtp_early_talker", "smtp-early-talker", 300},
    {"smtp_close_after_ehlo", "smtp-close-after-ehlo", 300},
    {"smtp_closed_port", "smtp-closed-port", 300},
    {"smtp_filtered_port", "smtp-filtered-port", 300},
    {"smtp_plain_465", "smtp-plain-465", 300},
    {"smtp_silent_after_ehlo", "smtp-silent-after-ehlo", 300},
    {"tls_expired", "tls-expired", 200},
    {"tls_not_yet_valid", "tls-not-yet-valid", 200},
    {"tls_self_signed", "tls-self-signed", 200},
    {"tls_untrusted_ca", "tls-untrusted-ca", 200},
    {"tls_wrong_name", "tls-wrong-name", 200},
    {"tls_wildcard", "tls-wildcard", 200},
    {"tls12_only", "tls12-only", 200},
    {"tls10_only", "tls10-only", 200},
    {"tls_rsa", "tls-rsa", 200},
    {"tls_ecdsa", "tls-ecdsa", 200},
    {"starttls_454", "starttls-454", 200},
    {"starttls_garbage", "starttls-garbage", 200},
    {"starttls_injection", "starttls-injection", 200},
    {"tls_stall", "tls-stall", 200},
    {"auth_after_tls", "auth-after-tls", 200},
    {"auth_before_tls", "auth-before-tls", 200},
    {"dnsbl_listed", "dnsbl-listed", 200},
    {"dnsbl_multi", "dnsbl-multi", 200},
    {"dnsbl_pbl", "dnsbl-pbl", 200},
    {"dnsbl_error_252", "dnsbl-error-252", 200},
    {"dnsbl_error_254", "dnsbl-error-254", 200},
    {"dnsbl_error_255", "dnsbl-error-255", 200},
    {"dnsbl_rewritten", "dnsbl-rewritten", 200},
    {"ptr_unconfirmed", "ptr-unconfirmed", 200},
    {"ptr_none", "ptr-none", 200},
    {"smtp_421_then_ok", "smtp-421-then-ok", 200},
};

constexpr uint32_t PlainWeight() {
  uint32_t others = 0;
  for (const KindInfo& k : kKinds) others += k.weight;
  return 100000 - others;
}
static_assert(PlainWeight() > 55000, "plain domains must stay the bulk of a population");

}  // namespace

std::string_view DomainKindName(DomainKind kind) { return kKinds[size_t(kind)].name; }
std::string_view DomainKindLabel(DomainKind kind) { return kKinds[size_t(kind)].label; }

std::optional<DomainKind> DomainKindFromName(std::string_view name) {
  for (size_t i = 0; i < kDomainKindCount; ++i) {
    if (kKinds[i].name == name || kKinds[i].label == name) return DomainKind(i);
  }
  return std::nullopt;
}

uint32_t DefaultKindWeight(DomainKind kind) {
  return kind == DomainKind::kPlain ? PlainWeight() : kKinds[size_t(kind)].weight;
}

}  // namespace mxray::fleet
