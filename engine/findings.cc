// Findings and their severities. The ids and severities are part of the output contract
// (docs/output.md); the severity says how urgently a mail administrator should act, from the
// point of view of mail delivered to this domain.
#include "engine/findings.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "tls/chain_verifier.h"
#include "tls/hostname.h"

namespace mxray::engine {
namespace {

struct Where {
  DomainRecord* record;
  uint16_t exchange;
  uint16_t address;
  uint16_t port;

  void Add(std::string_view id, std::string_view severity) const {
    record->findings.push_back(
        {.id = id, .severity = severity, .exchange = exchange, .address = address, .port = port});
  }
};

bool OffersCleartextPassword(const EhloCapabilities& caps) {
  return std::any_of(caps.auth.begin(), caps.auth.end(),
                     [](const std::string& m) { return m == "PLAIN" || m == "LOGIN"; });
}

bool LegacyVersion(std::string_view version) {
  return version == "TLSv1" || version == "TLSv1.1" || version == "SSLv3";
}

void JudgePort(const ExchangeRecord& exchange, const PortRecord& port, CertificateVerdict* verdict,
               const Where& where) {
  if (port.outcome == ProbeOutcome::kStarttlsNotOffered) where.Add("no_starttls", "medium");
  // Credentials in the clear: only a plaintext EHLO counts (on 465 everything is inside TLS).
  if (port.capabilities && OffersCleartextPassword(*port.capabilities)) {
    where.Add("auth_before_tls", "high");
  }
  if (!port.injected.empty()) where.Add("starttls_injection", "high");
  const tls::TlsFacts* t = port.tls.get();
  if (t == nullptr || !t->error.empty()) return;
  if (LegacyVersion(t->version)) where.Add("tls_legacy_version", "medium");
  if (!t->has_certificate) return;
  verdict->judged = true;
  verdict->hostname_match = tls::MatchesHostname(exchange.exchange, t->leaf);
  verdict->status = tls::VerifyStatusWord(t->verify, verdict->hostname_match);
  if (t->verify.expired) where.Add("cert_expired", "high");
  if (t->verify.not_yet_valid) where.Add("cert_not_yet_valid", "high");
  if (t->verify.self_signed) {
    where.Add("cert_self_signed", "medium");
  } else if (!t->verify.trusted) {
    where.Add("cert_untrusted", "medium");
  }
  if (!verdict->hostname_match) where.Add("cert_hostname_mismatch", "medium");
}

void JudgeReputation(const ReputationRecord& r, const Where& where) {
  for (const DnsblResult& d : r.dnsbl) {
    if (d.verdict.status == DnsblStatus::kListed) where.Add("dnsbl_listed", d.verdict.severity);
  }
  if (!r.ptr_status) return;
  // Only a definite answer counts: a PTR lookup that failed says nothing about the address.
  if (*r.ptr_status == io::DnsStatus::kNxdomain || *r.ptr_status == io::DnsStatus::kNodata) {
    where.Add("no_ptr", "low");
  } else if (!r.ptr.empty() && !r.fcrdns) {
    where.Add("ptr_not_confirmed", "low");
  }
}

bool SameHost(std::string_view a, std::string_view b) {
  if (!a.empty() && a.back() == '.') a.remove_suffix(1);
  if (!b.empty() && b.back() == '.') b.remove_suffix(1);
  return !a.empty() && absl::EqualsIgnoreCase(absl::string_view(a.data(), a.size()),
                                              absl::string_view(b.data(), b.size()));
}

bool AnyPtrIs(const ReputationRecord& r, std::string_view name) {
  return std::any_of(r.ptr.begin(), r.ptr.end(),
                     [&](const std::string& p) { return SameHost(p, name); });
}

// The name a server gives itself: the first word of its 220 greeting.
std::string_view GreetingName(const AddressRecord& a) {
  for (const PortRecordPtr& p : a.ports) {
    if (!p || !p->banner || p->banner->code != 220 || p->banner->lines.empty()) continue;
    std::string_view line = p->banner->lines.front();
    return line.substr(0, line.find(' '));
  }
  return {};
}

void ComparePtr(const ExchangeRecord& exchange, AddressRecord* a) {
  a->ptr_matches_mx.reset();
  a->ptr_matches_greeting.reset();
  if (!a->reputation || a->reputation->ptr.empty()) return;
  a->ptr_matches_mx = AnyPtrIs(*a->reputation, exchange.exchange);
  std::string_view greeting = GreetingName(*a);
  if (!greeting.empty()) a->ptr_matches_greeting = AnyPtrIs(*a->reputation, greeting);
}

}  // namespace

void JudgeDomain(DomainRecord* record) {
  record->findings.clear();
  for (size_t e = 0; e < record->mx.size(); ++e) {
    ExchangeRecord& exchange = record->mx[e];
    for (size_t a = 0; a < exchange.addresses.size(); ++a) {
      AddressRecord& address = exchange.addresses[a];
      if (address.reputation) {
        JudgeReputation(*address.reputation, Where{record, uint16_t(e), uint16_t(a), 0});
      }
      ComparePtr(exchange, &address);
      address.verdicts.clear();
      // Most records have no certificate at all: no verdicts then, and no allocation.
      bool any_tls = std::any_of(address.ports.begin(), address.ports.end(),
                                 [](const PortRecordPtr& p) { return p && p->tls; });
      CertificateVerdict unused;
      if (any_tls) address.verdicts.assign(address.ports.size(), CertificateVerdict{});
      for (size_t p = 0; p < address.ports.size(); ++p) {
        if (!address.ports[p]) continue;
        Where where{record, uint16_t(e), uint16_t(a), address.ports[p]->port};
        JudgePort(exchange, *address.ports[p], any_tls ? &address.verdicts[p] : &unused, where);
      }
    }
  }
}

}  // namespace mxray::engine
