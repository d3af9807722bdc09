// Answers for the population's names (see population.h for the naming and population.cc for the
// records mxray must derive from these answers: the two are kept in step by tests).
#include "tools/fleet/population_zone.h"

#include <charconv>
#include <cstring>

namespace mxray::fleet {
namespace {

constexpr uint32_t kTtl = Population::kTtl;
constexpr uint32_t kNegativeTtl = 60;

// `s` is `prefix` followed by a decimal in [1, max] without leading zeros; returns it, else 0.
int ParseNumbered(std::string_view s, std::string_view prefix, int max) {
  if (!s.starts_with(prefix)) return 0;
  std::string_view digits = s.substr(prefix.size());
  if (digits.empty() || digits[0] == '0') return 0;
  int n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size() || n > max) return 0;
  return n;
}

// What a recursive resolver relays with a negative answer: the SOA of the enclosing zone.
void AddNegativeSoa(DnsMessageWriter* w) {
  w->BeginSection(DnsMessageWriter::Section::kAuthority);
  w->AddSoa("test", "ns.test", "hostmaster.test", 1, 3600, 600, 86400, kNegativeTtl, kNegativeTtl);
}

}  // namespace

NameBuf& NameBuf::Add(std::string_view s) {
  size_t n = std::min(s.size(), sizeof(buf_) - len_);
  std::memcpy(buf_ + len_, s.data(), n);
  len_ += n;
  return *this;
}

NameBuf& NameBuf::Add(size_t n) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), n);
  return Add(std::string_view(digits, size_t(end - digits)));
}

ZoneResult PopulationZone::Answer(std::string_view qname, uint16_t qtype,
                                  DnsMessageWriter* w) const {
  ZoneResult result;
  // Deeper than any kind goes and than resolvers follow; a longer chain is cut, NOERROR.
  constexpr int kMaxHops = 16;
  NameBuf chain[kMaxHops];  // chain[k]: the target of hop k
  std::string_view name = qname;
  for (int hop = 0; hop < kMaxHops; ++hop) {
    switch (Node(name, qtype, w, &chain[hop], &result)) {
      case Step::kRecords:
        return result;
      case Step::kNodata:
        AddNegativeSoa(w);
        return result;
      case Step::kNxdomain:
        result.rcode = kRcodeNxDomain;
        AddNegativeSoa(w);
        return result;
      case Step::kServfail:
        w->ResetToQuestion();
        result.rcode = kRcodeServFail;
        return result;
      case Step::kRefused:
        w->ResetToQuestion();
        result.rcode = kRcodeRefused;
        return result;
      case Step::kDrop:
        result.action = ZoneResult::Action::kDrop;
        return result;
      case Step::kMalformed:
        result.action = ZoneResult::Action::kMalformed;
        return result;
      case Step::kCname:
        break;
    }
    if (qtype == kTypeCname) return result;
    std::string_view next = chain[hop].view();
    bool seen = next == qname;
    for (int k = 0; k < hop && !seen; ++k) seen = chain[k].view() == next;
    // A loop: the records so far show it, and the resolver stops as real ones do.
    if (seen) return result;
    name = next;
  }
  return result;
}

PopulationZone::Step PopulationZone::Node(std::string_view name, uint16_t qtype,
                                          DnsMessageWriter* w, NameBuf* target,
                                          ZoneResult* result) const {
  constexpr std::string_view kSuffix = ".test";
  if (name == "test") {
    if (qtype != kTypeSoa) return Step::kNodata;
    w->AddSoa("test", "ns.test", "hostmaster.test", 1, 3600, 600, 86400, kNegativeTtl, kTtl);
    return Step::kRecords;
  }
  if (!name.ends_with(kSuffix)) return Step::kNxdomain;
  std::string_view rest = name.substr(0, name.size() - kSuffix.size());
  size_t dot = rest.rfind('.');
  std::string_view label = dot == std::string_view::npos ? rest : rest.substr(dot + 1);
  std::string_view sub = dot == std::string_view::npos ? std::string_view() : rest.substr(0, dot);
  std::string_view domain = name.substr(name.size() - kSuffix.size() - label.size());

  if (label.starts_with("provider-")) {
    std::string_view digits = label.substr(9);
    size_t p = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), p);
    if (digits.empty() || (digits.size() > 1 && digits[0] == '0') || ec != std::errc() ||
        end != digits.data() + digits.size() || p >= population_->provider_count()) {
      return Step::kNxdomain;
    }
    if (sub.empty()) return Step::kNodata;
    int host = ParseNumbered(sub, "mx", Population::kProviderHosts);
    if (host == 0) return Step::kNxdomain;
    if (qtype != kTypeA) return Step::kNodata;
    w->AddA(name, Population::ProviderAddress(p, host), kTtl);
    return Step::kRecords;
  }
  if (label == "fleet") {
    // The hosts by name: the TLS kinds' exchanges, and every PTR name under fleet.test.
    if (sub.empty()) return Step::kNodata;
    if (name == Population::kIpv6HostName) {
      if (qtype != kTypeAaaa) return Step::kNodata;
      w->AddAaaa(name, kIpv6Loopback, kTtl);
      return Step::kRecords;
    }
    std::optional<Ipv4> host = population_->FleetHostAddress(name);
    if (!host) return Step::kNxdomain;
    if (qtype != kTypeA) return Step::kNodata;
    w->AddA(name, *host, kTtl);
    return Step::kRecords;
  }
  std::optional<size_t> index = population_->FindDomain(label);
  if (!index) return Step::kNxdomain;
  return DomainNode(*index, domain, sub, name, qtype, w, target, result);
}

PopulationZone::Step PopulationZone::DomainNode(size_t index, std::string_view domain,
                                                std::string_view sub, std::string_view name,
                                                uint16_t qtype, DnsMessageWriter* w,
                                                NameBuf* target, ZoneResult* result) const {
  const DomainKind kind = population_->Kind(index);
  const size_t provider = population_->ProviderOf(index);
  const bool apex = sub.empty();
  NameBuf scratch;

  auto provider_host = [&](int host) {
    return scratch.Clear()
        .Add("mx")
        .Add(size_t(host))
        .Add(".provider-")
        .Add(provider)
        .Add(".test")
        .view();
  };
  auto own_exchange = [&] { return scratch.Clear().Add("mx.").Add(domain).view(); };
  auto alias_to = [&](std::string_view target_name) {
    if (target_name.data() != target->view().data()) target->Clear().Add(target_name);
    w->AddCname(name, target->view(), kTtl);
    return Step::kCname;
  };
  auto alias_under = [&](std::string_view first, size_t n) {
    target->Clear().Add(first);
    if (n) target->Add(n);
    target->Add(".").Add(domain);
    return alias_to(target->view());
  };
  // MX 10 mx.<domain> at the apex: the common shape of the exchange-centred kinds.
  auto own_mx_apex = [&] {
    if (qtype != kTypeMx) return Step::kNodata;
    w->AddMx(name, 10, own_exchange(), kTtl);
    return Step::kRecords;
  };
  auto own_a = [&](size_t n) { w->AddA(name, population_->OwnAddress(index, n), kTtl); };
  auto aaaa = [&] { w->AddAaaa(name, kIpv6Loopback, kTtl); };

  switch (kind) {  // Failures that cover every name under the domain.
    case DomainKind::kNxdomain:
      return Step::kNxdomain;
    case DomainKind::kServfail:
      return Step::kServfail;
    case DomainKind::kRefused:
      return Step::kRefused;
    case DomainKind::kTimeout:
      return Step::kDrop;
    case DomainKind::kMalformedTruncated:
      result->malformation = Malformation::kTruncated;
      return Step::kMalformed;
    case DomainKind::kMalformedPointerLoop:
      result->malformation = Malformation::kPointerLoop;
      return Step::kMalformed;
    case DomainKind::kMalformedPointerRange:
      result->malformation = Malformation::kPointerRange;
      return Step::kMalformed;
    case DomainKind::kMalformedGarbage:
      result->malformation = Malformation::kGarbage;
      return Step::kMalformed;
    default:
      break;
  }

  switch (kind) {
    case DomainKind::kPlain:
      if (!apex) return Step::kNxdomain;
      if (qtype != kTypeMx) return Step::kNodata;
      w->AddMx(name, 10, provider_host(1), kTtl);
      return Step::kRecords;

    case DomainKind::kMultiMx:
      if (!apex) return Step::kNxdomain;
      if (qtype != kTypeMx) return Step::kNodata;
      // Worst preference first: clients must sort, not trust the order.
      w->AddMx(name, 20, provider_host(3), kTtl);
      w->AddMx(name, 10, provider_host(2), kTtl);
      w->AddMx(name, 10, provider_host(1), kTtl);
      return Step::kRecords;

    case DomainKind::kDualStack:
    case DomainKind::kAaaaOnly:
      if (apex) return own_mx_apex();
      if (sub != "mx") return Step::kNxdomain;
      if (qtype == kTypeA && kind == DomainKind::kDualStack) {
        own_a(0);
        return Step::kRecords;
      }
      if (qtype != kTypeAaaa) return Step::kNodata;
      aaaa();
      return Step::kRecords;

    case DomainKind::kCnameDomain:
      if (apex) return alias_under("real", 0);
      if (sub != "real") return Step::kNxdomain;
      if (qtype != kTypeMx) return Step::kNodata;
      w->AddMx(name, 10, provider_host(1), kTtl);
      return Step::kRecords;

    case DomainKind::kExchangeCname:
      if (apex) return own_mx_apex();
      if (sub != "mx") return Step::kNxdomain;
      return alias_to(provider_host(1));

    case DomainKind::kCnameChain:
    case DomainKind::kCnameTooLong: {
      const int hops =
          kind == DomainKind::kCnameChain ? Population::kChainHops : Population::kLongChainHops;
      if (apex) return alias_under("c", 1);
      int k = ParseNumbered(sub, "c", hops);
      if (k == 0) return Step::kNxdomain;
      if (k < hops) return alias_under("c", size_t(k + 1));
      if (qtype != kTypeMx) return Step::kNodata;
      w->AddMx(name, 10, provider_host(1), kTtl);
      return Step::kRecords;
    }

    case DomainKind::kCnameLoop:
      if (apex) return alias_under("a", 0);
      if (sub == "a") return alias_under("b", 0);
      if (sub == "b") return alias_under("a", 0);
      return Step::kNxdomain;

    case DomainKind::kExchangeCnameLoop:
      if (apex) return own_mx_apex();
      if (sub == "mx") return alias_under("la", 0);
      if (sub == "la") return alias_under("lb", 0);
      if (sub == "lb") return alias_under("la", 0);
      return Step::kNxdomain;

    case DomainKind::kNullMx:
      if (!apex) return Step::kNxdomain;
      if (qtype == kTypeMx) {
        w->AddMx(name, 0, "", kTtl);
        return Step::kRecords;
      }
      if (qtype != kTypeA) return Step::kNodata;
      own_a(0);  // RFC 7505: must not be used as an implicit MX
      return Step::kRecords;

    case DomainKind::kNullMxMixed:
      if (!apex) return Step::kNxdomain;
      if (qtype != kTypeMx) return Step::kNodata;
      w->AddMx(name, 10, provider_host(1), kTtl);
      w->AddMx(name, 0, "", kTtl);
      return Step::kRecords;

    case DomainKind::kImplicitA:
    case DomainKind::kImplicitDual:
    case DomainKind::kImplicitAaaa: {
      if (!apex) return Step::kNxdomain;
      const bool has_a = kind != DomainKind::kImplicitAaaa;
      const bool has_aaaa = kind != DomainKind::kImplicitA;
      if (qtype == kTypeA && has_a) {
        own_a(0);
        return Step::kRecords;
      }
      if (qtype == kTypeAaaa && has_aaaa) {
        aaaa();
        return Step::kRecords;
      }
      return Step::kNodata;
    }

    case DomainKind::kForeignOwner:
      if (!apex) return Step::kNxdomain;
      if (qtype == kTypeMx) {
        // NOERROR with an MX record whose owner is not the name asked about.
        NameBuf other;
        other.Add("other.").Add(domain);
        w->AddMx(other.view(), 10, provider_host(1), kTtl);
        return Step::kRecords;
      }
      if (qtype != kTypeA) return Step::kNodata;
      own_a(0);
      return Step::kRecords;

    case DomainKind::kNoMailHost:
      if (!apex) return Step::kNxdomain;
      if (qtype != kTypeTxt) return Step::kNodata;
      w->AddTxt(name, "v=spf1 -all", kTtl);
      return Step::kRecords;

    case DomainKind::kExchangeNxdomain:
      if (apex) return own_mx_apex();
      return Step::kNxdomain;

    case DomainKind::kExchangeServfail:
      if (apex) return own_mx_apex();
      return sub == "mx" ? Step::kServfail : Step::kNxdomain;

    case DomainKind::kExchangeTimeout:
      if (apex) return own_mx_apex();
      return sub == "mx" ? Step::kDrop : Step::kNxdomain;

    case DomainKind::kExchangeNodata:
      if (apex) return own_mx_apex();
      if (sub != "mx") return Step::kNxdomain;
      if (qtype != kTypeTxt) return Step::kNodata;
      w->AddTxt(name, "a host without addresses", kTtl);
      return Step::kRecords;

    case DomainKind::kOversizedMx: {
      if (apex) {
        if (qtype != kTypeMx) return Step::kNodata;
        for (int k = Population::kOversizedMxCount; k >= 1; --k) {
          w->AddMx(name, uint16_t(k),
                   scratch.Clear().Add("mx").Add(size_t(k)).Add(".").Add(domain).view(), kTtl);
        }
        result->tcp_only = true;
        return Step::kRecords;
      }
      int k = ParseNumbered(sub, "mx", Population::kOversizedMxCount);
      if (k == 0) return Step::kNxdomain;
      if (qtype != kTypeA) return Step::kNodata;
      own_a(size_t(k));
      return Step::kRecords;
    }

    case DomainKind::kOversizedA:
      if (apex) return own_mx_apex();
      if (sub != "mx") return Step::kNxdomain;
      if (qtype != kTypeA) return Step::kNodata;
      for (size_t n = 0; n < size_t(Population::kOversizedACount); ++n) {
        w->AddA(name, Population::BulkAddress(n), kTtl);
      }
      result->tcp_only = true;
      return Step::kRecords;

    case DomainKind::kIpLiteral:
      if (!apex) return Step::kNxdomain;
      if (qtype != kTypeMx) return Step::kNodata;
      w->AddMx(name, 10, "127.0.0.9", kTtl);
      w->AddMx(name, 20, "[127.0.0.9]", kTtl);
      return Step::kRecords;

    case DomainKind::kInvalidName:
      if (!apex) return Step::kNxdomain;
      if (qtype != kTypeMx) return Step::kNodata;
      w->AddMx(name, 10, "bad_name!.test", kTtl);
      w->AddMx(name, 20, scratch.Clear().Add("mail host.").Add(domain).view(), kTtl);
      return Step::kRecords;

    default:
      break;
  }
  if (IsTlsKind(kind)) {
    // MX 10 <kind-label>-<n>.fleet.test: the host's own name, whose A record is served above.
    if (!apex) return Step::kNxdomain;
    if (qtype != kTypeMx) return Step::kNodata;
    const Ipv4 host = population_->SmtpHostOf(index);
    w->AddMx(name, 10,
             scratch.Clear()
                 .Add(DomainKindLabel(kind))
                 .Add("-")
                 .Add(size_t(host[3]))
                 .Add(".fleet.test")
                 .view(),
             kTtl);
    return Step::kRecords;
  }
  if (IsSmtpKind(kind)) {
    // MX 10 mx.<domain>, mx.<domain> A 127.4.<kind>.<n>: the case is in the mail server.
    if (apex) return own_mx_apex();
    if (sub != "mx") return Step::kNxdomain;
    if (qtype != kTypeA) return Step::kNodata;
    w->AddA(name, population_->SmtpHostOf(index), kTtl);
    return Step::kRecords;
  }
  return Step::kNxdomain;  // the failure kinds were answered above
}

}  // namespace mxray::fleet
