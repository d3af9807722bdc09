// The population model and its expectations (see population.h). The expected records here and the
// answers in population_zone.cc describe the same facts; tests resolve every kind against the
// served zone and compare with these lines.
#include "tools/fleet/population.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

#include "absl/strings/str_cat.h"

namespace mxray::fleet {
namespace {

enum Salt : uint64_t { kSaltTag = 1, kSaltKind, kSaltProvider, kSaltOwn, kSaltSmtpHost = 1000 };

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

constexpr std::string_view kBase36 = "0123456789abcdefghijklmnopqrstuvwxyz";
constexpr size_t kTagChars = 4;

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  size_t run = 0;  // start of the characters that need no escape, appended in one go
  for (size_t k = 0; k < s.size(); ++k) {
    const char c = s[k];
    if (c != '"' && c != '\\' && uint8_t(c) >= 0x20) continue;
    out->append(s.data() + run, k - run);
    run = k + 1;
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out->append("\\u00");
      out->push_back(kHex[uint8_t(c) >> 4]);
      out->push_back(kHex[c & 0xF]);
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

void AppendJsonStrings(const std::vector<std::string>& v, std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out->push_back(',');
    AppendJsonString(v[i], out);
  }
  out->push_back(']');
}

void AppendJsonPorts(const std::vector<ExpectedPort>& ports, std::string* out) {
  out->push_back('[');
  for (size_t k = 0; k < ports.size(); ++k) {
    const ExpectedPort& p = ports[k];
    if (k) out->push_back(',');
    absl::StrAppend(out, "{\"port\":", p.port, ",\"state\":");
    AppendJsonString(p.state, out);
    out->append(",\"outcome\":");
    AppendJsonString(p.outcome, out);
    if (p.banner_code >= 0) absl::StrAppend(out, ",\"banner_code\":", p.banner_code);
    out->append(p.starttls ? ",\"starttls\":true" : ",\"starttls\":false");
    out->append(",\"auth\":");
    AppendJsonStrings(p.auth, out);
    if (p.size) absl::StrAppend(out, ",\"size\":", *p.size);
    if (p.starttls_code >= 0) absl::StrAppend(out, ",\"starttls_code\":", p.starttls_code);
    if (!p.tls_version.empty()) {
      out->append(",\"tls_version\":");
      AppendJsonString(p.tls_version, out);
      out->append(",\"verify_status\":");
      AppendJsonString(p.verify_status, out);
      out->append(",\"key_type\":");
      AppendJsonString(p.key_type, out);
      absl::StrAppend(out, ",\"key_bits\":", p.key_bits);
    }
    out->append(p.ehlo_tls ? ",\"ehlo_tls\":true" : ",\"ehlo_tls\":false");
    out->append(",\"auth_after_tls\":");
    AppendJsonStrings(p.auth_after_tls, out);
    out->append(p.injected ? ",\"injected\":true" : ",\"injected\":false");
    if (p.attempts != 1) absl::StrAppend(out, ",\"attempts\":", p.attempts);
    out->push_back('}');
  }
  out->push_back(']');
}

// A word of a fixed vocabulary (zone names, statuses): nothing to escape.
void AppendJsonWord(std::string_view s, std::string* out) {
  out->push_back('"');
  out->append(s);
  out->push_back('"');
}

void AppendJsonReputation(const ExpectedReputation& r, std::string* out) {
  out->append("{\"ptr_status\":");
  AppendJsonWord(r.ptr_status, out);
  out->append(",\"ptr\":");
  AppendJsonString(r.ptr, out);
  out->append(r.fcrdns ? ",\"fcrdns\":true" : ",\"fcrdns\":false");
  out->append(",\"dnsbl\":[");
  for (size_t z = 0; z < r.dnsbl.size(); ++z) {
    const ExpectedDnsbl& d = r.dnsbl[z];
    if (z) out->push_back(',');
    out->append("{\"zone\":");
    AppendJsonWord(d.zone, out);
    out->append(",\"status\":");
    AppendJsonWord(d.status, out);
    if (!d.codes.empty()) {
      out->append(",\"codes\":");
      AppendJsonStrings(d.codes, out);
    }
    if (!d.txt.empty()) {
      out->append(",\"txt\":");
      AppendJsonString(d.txt, out);
    }
    out->push_back('}');
  }
  out->append("]}");
}

// A decimal in [1, max] without leading zeros, else 0.
size_t ParseHostNumber(std::string_view digits, size_t max) {
  size_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (digits.empty() || digits[0] == '0' || ec != std::errc() ||
      end != digits.data() + digits.size() || n > max) {
    return 0;
  }
  return n;
}

}  // namespace

absl::StatusOr<Population> Population::Create(const PopulationOptions& options) {
  if (options.domain_count == 0) return absl::InvalidArgumentError("domain_count must be > 0");
  if (options.domain_count > 1'000'000'000) {
    return absl::InvalidArgumentError("domain_count must be <= 1e9");
  }
  if (options.max_exchanges == 0 || options.max_addresses == 0) {
    return absl::InvalidArgumentError("max_exchanges and max_addresses must be > 0");
  }
  if (options.smtp.hosts_per_kind == 0 || options.smtp.hosts_per_kind > kSmtpHostsPerKindMax) {
    return absl::InvalidArgumentError("smtp.hosts_per_kind must be in [1, 250]");
  }
  Population p;
  p.options_ = options;
  p.provider_count_ = options.provider_count
                          ? options.provider_count
                          : std::clamp<size_t>(options.domain_count / 500, 4, 1024);
  // Addresses stay inside 127.1.0.0/16: 250 hosts per third octet.
  if (p.provider_count_ * kProviderHosts > 250 * 256) {
    return absl::InvalidArgumentError("provider_count must be <= 21333");
  }
  std::array<uint32_t, kDomainKindCount> weights;
  for (size_t k = 0; k < kDomainKindCount; ++k) weights[k] = DefaultKindWeight(DomainKind(k));
  for (const auto& [kind, weight] : options.kind_weights) weights[size_t(kind)] = weight;
  for (size_t k = 0; k < kDomainKindCount; ++k) {
    if (weights[k] == 0) continue;
    p.enabled_.push_back(DomainKind(k));
    p.total_weight_ += weights[k];
    p.cumulative_.push_back(p.total_weight_);
  }
  if (p.enabled_.empty()) return absl::InvalidArgumentError("every kind has weight 0");
  return p;
}

uint64_t Population::Mix(size_t i, uint64_t salt) const {
  return SplitMix64(SplitMix64(options_.seed) ^ (uint64_t(i) * 0x9E3779B97F4A7C15ull) ^
                    (salt * 0xC2B2AE3D27D4EB4Full));
}

DomainKind Population::Kind(size_t i) const {
  if (i < enabled_.size()) return enabled_[i];
  uint64_t r = Mix(i, kSaltKind) % total_weight_;
  size_t k = std::upper_bound(cumulative_.begin(), cumulative_.end(), r) - cumulative_.begin();
  return enabled_[k];
}

void Population::AppendTag(size_t i, std::string* out) const {
  uint64_t h = Mix(i, kSaltTag);
  for (size_t c = 0; c < kTagChars; ++c) {
    out->push_back(kBase36[h % 36]);
    h /= 36;
  }
}

void Population::AppendDomainName(size_t i, std::string* out) const {
  out->append(DomainKindLabel(Kind(i)));
  absl::StrAppend(out, "-", i, "-");
  AppendTag(i, out);
  out->append(".test");
}

std::string Population::DomainName(size_t i) const {
  std::string name;
  AppendDomainName(i, &name);
  return name;
}

std::optional<size_t> Population::FindDomain(std::string_view label) const {
  size_t tag_dash = label.rfind('-');
  if (tag_dash == std::string_view::npos || label.size() - tag_dash - 1 != kTagChars) {
    return std::nullopt;
  }
  size_t index_dash = label.rfind('-', tag_dash - 1);
  if (index_dash == std::string_view::npos || index_dash + 1 == tag_dash) return std::nullopt;
  std::string_view digits = label.substr(index_dash + 1, tag_dash - index_dash - 1);
  if (digits.size() > 1 && digits[0] == '0') return std::nullopt;  // one spelling per index
  size_t i = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), i);
  if (ec != std::errc() || end != digits.data() + digits.size() || i >= size()) {
    return std::nullopt;
  }
  if (label.substr(0, index_dash) != DomainKindLabel(Kind(i))) return std::nullopt;
  char tag[kTagChars];
  uint64_t h = Mix(i, kSaltTag);
  for (size_t c = 0; c < kTagChars; ++c) {
    tag[c] = kBase36[h % 36];
    h /= 36;
  }
  if (label.substr(tag_dash + 1) != std::string_view(tag, kTagChars)) return std::nullopt;
  return i;
}

std::optional<size_t> Population::FirstOfKind(DomainKind kind) const {
  for (size_t i = 0; i < size(); ++i) {
    if (Kind(i) == kind) return i;
  }
  return std::nullopt;
}

size_t Population::ProviderOf(size_t i) const { return Mix(i, kSaltProvider) % provider_count_; }

Ipv4 Population::OwnAddress(size_t i, size_t n) const {
  size_t slot = Mix(i, kSaltOwn + n) % kOwnAddressPool;
  return {127, 2, uint8_t(slot / 250), uint8_t(1 + slot % 250)};
}

std::string Population::ProviderHost(size_t provider, int host) {
  return absl::StrCat("mx", host, ".provider-", provider, ".test");
}

Ipv4 Population::ProviderAddress(size_t provider, int host) {
  size_t h = provider * kProviderHosts + size_t(host - 1);
  return {127, 1, uint8_t(h / 250), uint8_t(1 + h % 250)};
}

Ipv4 Population::BulkAddress(size_t n) { return {127, 3, 0, uint8_t(1 + n)}; }

std::string Population::AddressText(const Ipv4& ip) {
  return absl::StrCat(ip[0], ".", ip[1], ".", ip[2], ".", ip[3]);
}

Ipv4 Population::SmtpKindAddress(DomainKind kind, size_t n) {
  return {127, 4, uint8_t(kind), uint8_t(n)};
}

Ipv4 Population::SmtpHostOf(size_t i) const {
  return SmtpKindAddress(Kind(i), 1 + Mix(i, kSaltSmtpHost) % options_.smtp.hosts_per_kind);
}

std::array<SmtpBehaviour, kSmtpPortCount> Population::SmtpBehavioursAt(const Ipv4& ip) const {
  auto all = [](SmtpBehaviour b) { return std::array<SmtpBehaviour, kSmtpPortCount>{b, b, b}; };
  const SmtpPlan& plan = options_.smtp;
  if (!plan.enabled || ip[0] != 127 || ip[3] == 0) return all(SmtpBehaviour::kNone);
  const size_t host = size_t(ip[2]) * 250 + ip[3] - 1;  // the numbering of 127.1 and 127.2
  switch (ip[1]) {
    case 1:
      if (ip[3] > 250 || host >= provider_count_ * kProviderHosts || host >= plan.provider_hosts) {
        break;
      }
      return all(OrdinarySmtp(host / kProviderHosts));
    case 2:
      if (ip[3] > 250 || host >= std::min(kOwnAddressPool, plan.own_addresses)) break;
      return all(OrdinarySmtp(host));
    case 3:
      if (ip[2] != 0 || ip[3] > kOversizedACount) break;
      return all(OrdinarySmtp(ip[3] - 1u));
    case 4:
      if (ip[2] < uint8_t(kFirstSmtpKind) || ip[2] >= kDomainKindCount ||
          ip[3] > plan.hosts_per_kind) {
        break;
      }
      return SmtpKindBehaviours(DomainKind(ip[2]), ip[3]);
    default:
      break;
  }
  return all(SmtpBehaviour::kNone);
}

std::array<SmtpBehaviour, kSmtpPortCount> Population::SmtpBehavioursAt(std::string_view ip) const {
  char text[INET6_ADDRSTRLEN] = {};
  if (ip.size() >= sizeof(text)) return {};
  ip.copy(text, ip.size());
  Ipv4 v4;
  if (inet_pton(AF_INET, text, v4.data()) == 1) return SmtpBehavioursAt(v4);
  Ipv6 v6;
  if (options_.smtp.enabled && inet_pton(AF_INET6, text, v6.data()) == 1 && v6 == kIpv6Loopback) {
    return {SmtpBehaviour::kPostfix, SmtpBehaviour::kPostfix, SmtpBehaviour::kPostfix};
  }
  return {};  // kNone x 3
}

std::vector<std::string> Population::SmtpAddresses() const {
  std::vector<std::string> out;
  const SmtpPlan& plan = options_.smtp;
  if (!plan.enabled) return out;
  const size_t providers = std::min(provider_count_ * kProviderHosts, plan.provider_hosts);
  for (size_t h = 0; h < providers; ++h) {
    out.push_back(AddressText(ProviderAddress(h / kProviderHosts, int(h % kProviderHosts) + 1)));
  }
  const size_t own = std::min(kOwnAddressPool, plan.own_addresses);
  for (size_t slot = 0; slot < own; ++slot) {
    out.push_back(AddressText({127, 2, uint8_t(slot / 250), uint8_t(1 + slot % 250)}));
  }
  for (size_t n = 0; n < size_t(kOversizedACount); ++n) out.push_back(AddressText(BulkAddress(n)));
  out.push_back("::1");
  for (size_t k = size_t(kFirstSmtpKind); k < kDomainKindCount; ++k) {
    for (size_t n = 1; n <= plan.hosts_per_kind; ++n) {
      out.push_back(AddressText(SmtpKindAddress(DomainKind(k), n)));
    }
  }
  return out;
}

std::string Population::SmtpHostName(std::string_view ip) const {
  Ipv4 v4;
  std::string text(ip);
  if (inet_pton(AF_INET, text.c_str(), v4.data()) != 1) return std::string(kIpv6HostName);
  const size_t host = size_t(v4[2]) * 250 + v4[3] - 1;
  if (v4[1] == 1 && v4[3] >= 1) {
    return ProviderHost(host / kProviderHosts, int(host % kProviderHosts) + 1);
  }
  if (v4[1] == 4 && v4[2] < kDomainKindCount) {
    return absl::StrCat(std::string(DomainKindLabel(DomainKind(v4[2]))), "-", v4[3], ".fleet.test");
  }
  return absl::StrCat("mx-", v4[0], "-", v4[1], "-", v4[2], "-", v4[3], ".fleet.test");
}

std::optional<Ipv4> Population::SmtpKindHostAddress(std::string_view host_name) const {
  constexpr std::string_view kSuffix = ".fleet.test";
  if (!host_name.ends_with(kSuffix)) return std::nullopt;
  const std::string_view label = host_name.substr(0, host_name.size() - kSuffix.size());
  const size_t dash = label.rfind('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const std::string_view digits = label.substr(dash + 1);
  size_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (digits.empty() || digits[0] == '0' || ec != std::errc() ||
      end != digits.data() + digits.size() || n == 0 || n > options_.smtp.hosts_per_kind) {
    return std::nullopt;
  }
  std::optional<DomainKind> kind = DomainKindFromName(label.substr(0, dash));
  if (!kind || !IsSmtpKind(*kind) || DomainKindLabel(*kind) != label.substr(0, dash)) {
    return std::nullopt;
  }
  if (*kind == DomainKind::kPtrUnconfirmed) return Ipv4{127, 5, uint8_t(*kind), uint8_t(n)};
  return SmtpKindAddress(*kind, n);
}

std::optional<Ipv4> Population::FleetHostAddress(std::string_view host_name) const {
  constexpr std::string_view kPrefix = "mx-127-", kSuffix = ".fleet.test";
  if (!host_name.starts_with(kPrefix) || !host_name.ends_with(kSuffix)) {
    return SmtpKindHostAddress(host_name);
  }
  // "mx-127-2-C-D" / "mx-127-3-0-D": one spelling per address.
  std::string_view rest =
      host_name.substr(kPrefix.size(), host_name.size() - kPrefix.size() - kSuffix.size());
  if (rest.size() < 5 || rest[1] != '-' || (rest[0] != '2' && rest[0] != '3') || rest[3] != '-') {
    return std::nullopt;
  }
  const char c = rest[2];
  const size_t d = ParseHostNumber(rest.substr(4), 250);
  if (d == 0) return std::nullopt;
  if (rest[0] == '2' && c >= '0' && c <= '3') return Ipv4{127, 2, uint8_t(c - '0'), uint8_t(d)};
  if (rest[0] == '3' && c == '0' && d <= size_t(kOversizedACount)) {
    return Ipv4{127, 3, 0, uint8_t(d)};
  }
  return std::nullopt;
}

std::string Population::PtrName(const Ipv4& ip) const {
  if (ip[0] != 127 || ip[3] == 0) return {};
  const std::string text = AddressText(ip);
  switch (ip[1]) {
    case 1:
      if (ip[3] > 250 || size_t(ip[2]) * 250 + ip[3] - 1 >= provider_count_ * kProviderHosts) {
        return {};
      }
      break;
    case 2:
      if (ip[2] > 3 || ip[3] > 250) return {};
      break;
    case 3:
      if (ip[2] != 0 || ip[3] > kOversizedACount) return {};
      break;
    case 4:
      if (ip[2] < uint8_t(kFirstSmtpKind) || ip[2] >= kDomainKindCount ||
          ip[3] > options_.smtp.hosts_per_kind || DomainKind(ip[2]) == DomainKind::kPtrNone) {
        return {};
      }
      break;
    default:
      return {};
  }
  return SmtpHostName(text);
}

std::string Population::PtrName(const Ipv6& ip) const {
  return ip == kIpv6Loopback ? std::string(kIpv6HostName) : std::string();
}

std::string Population::PtrName(std::string_view ip) const {
  char text[INET6_ADDRSTRLEN] = {};
  if (ip.size() >= sizeof(text)) return {};
  ip.copy(text, ip.size());
  Ipv4 v4;
  if (inet_pton(AF_INET, text, v4.data()) == 1) return PtrName(v4);
  Ipv6 v6;
  if (inet_pton(AF_INET6, text, v6.data()) == 1) return PtrName(v6);
  return {};
}

std::vector<std::string> Population::ForwardAddresses(std::string_view host_name) const {
  if (host_name == kIpv6HostName) return {"::1"};
  if (std::optional<Ipv4> ip = FleetHostAddress(host_name)) return {AddressText(*ip)};
  // "mx<h>.provider-<p>.test"
  constexpr std::string_view kProvider = ".provider-", kTest = ".test";
  const size_t dot = host_name.find(kProvider);
  if (!host_name.starts_with("mx") || dot == std::string_view::npos ||
      !host_name.ends_with(kTest) || dot + kProvider.size() > host_name.size() - kTest.size()) {
    return {};
  }
  const size_t host = ParseHostNumber(host_name.substr(2, dot - 2), kProviderHosts);
  const std::string_view digits = host_name.substr(
      dot + kProvider.size(), host_name.size() - kTest.size() - dot - kProvider.size());
  size_t p = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), p);
  if (host == 0 || digits.empty() || (digits.size() > 1 && digits[0] == '0') || ec != std::errc() ||
      end != digits.data() + digits.size() || p >= provider_count_) {
    return {};
  }
  return {AddressText(ProviderAddress(p, int(host)))};
}

ExpectedReputation Population::ExpectReputation(std::string_view ip) const {
  // Parsed once: this runs for every address of every expectation line.
  char text[INET6_ADDRSTRLEN] = {};
  std::array<uint8_t, 16> bytes{};
  std::span<const uint8_t> address;
  if (ip.size() < sizeof(text)) {
    ip.copy(text, ip.size());
    if (inet_pton(AF_INET, text, bytes.data()) == 1) {
      address = {bytes.data(), 4};
    } else if (inet_pton(AF_INET6, text, bytes.data()) == 1) {
      address = {bytes.data(), 16};
    }
  }
  ExpectedReputation r;
  if (address.size() == 4) r.ptr = PtrName(Ipv4{bytes[0], bytes[1], bytes[2], bytes[3]});
  if (address.size() == 16) r.ptr = PtrName(bytes);
  r.ptr_status = r.ptr.empty() ? "nxdomain" : "ok";
  if (!r.ptr.empty()) {
    const std::vector<std::string> forward = ForwardAddresses(r.ptr);
    r.fcrdns = std::find(forward.begin(), forward.end(), ip) != forward.end();
  }
  r.dnsbl.reserve(kDnsblZoneCount);
  for (size_t z = 0; z < kDnsblZoneCount; ++z) {
    r.dnsbl.push_back(ExpectDnsbl(DnsblZone(z), ip, address));
  }
  return r;
}

std::vector<ExpectedPort> Population::ExpectPorts(std::string_view ip,
                                                  std::string_view exchange) const {
  std::array<SmtpBehaviour, kSmtpPortCount> behaviours = SmtpBehavioursAt(ip);
  const std::string host_name = SmtpHostName(ip);
  const PortContext where{.host_name = host_name,
                          .exchange = exchange.empty() ? std::string_view(host_name) : exchange,
                          .tls = options_.smtp.tls,
                          .ecdsa_leaves = options_.smtp.ecdsa_leaves,
                          .greeting_421_connections = options_.smtp.greeting_421_connections};
  std::vector<ExpectedPort> ports;
  ports.reserve(kSmtpPortCount);
  for (size_t k = 0; k < kSmtpPortCount; ++k) {
    ports.push_back(ExpectPort(behaviours[k], kSmtpLogicalPorts[k], where));
  }
  return ports;
}

Expectation Population::Expect(size_t i) const {
  Expectation e = ExpectDns(i);
  for (ExpectedExchange& x : e.mx) {
    x.reputation.reserve(x.addresses.size());
    for (const std::string& address : x.addresses) {
      x.reputation.push_back(ExpectReputation(address));
    }
    if (!options_.smtp.enabled) continue;
    x.ports.reserve(x.addresses.size());
    for (const std::string& address : x.addresses) {
      x.ports.push_back(ExpectPorts(address, x.exchange));
    }
  }
  return e;
}

Expectation Population::ExpectDns(size_t i) const {
  Expectation e;
  e.domain = DomainName(i);
  e.kind = Kind(i);
  const std::string& d = e.domain;
  const size_t p = ProviderOf(i);
  const std::string own = AddressText(OwnAddress(i, 0));
  const std::string v6 = "::1";

  auto provider_exchange = [&](uint16_t pref, int host) {
    return ExpectedExchange{.preference = pref,
                            .exchange = ProviderHost(p, host),
                            .status = "ok",
                            .addresses = {AddressText(ProviderAddress(p, host))}};
  };
  auto own_exchange = [&](std::string_view status, std::vector<std::string> addresses) {
    return ExpectedExchange{.preference = 10,
                            .exchange = absl::StrCat("mx.", d),
                            .status = status,
                            .addresses = std::move(addresses)};
  };
  auto implicit = [&](std::vector<std::string> addresses) {
    e.status = "ok";
    e.mx_source = "implicit";
    e.mx.push_back({.preference = 0, .exchange = d, .status = "ok", .addresses = addresses});
  };
  auto nothing = [&](std::string_view status) {
    e.status = status;
    e.mx_source = "none";
  };
  // Domain status from its exchanges, as mxray aggregates them.
  auto from_exchanges = [&] {
    e.mx_source = "mx";
    bool any_address = false, any_timeout = false, any_error = false;
    for (const ExpectedExchange& x : e.mx) {
      any_address |= !x.addresses.empty();
      any_timeout |= x.status == "dns_timeout";
      // A CNAME loop is a broken zone, as much a DNS error as SERVFAIL.
      any_error |= x.status == "dns_error" || x.status == "cname_loop";
    }
    e.status = any_address   ? "ok"
               : any_timeout ? "dns_timeout"
               : any_error   ? "dns_error"
                             : "no_mail_host";
  };

  switch (e.kind) {
    case DomainKind::kPlain:
      e.mx.push_back(provider_exchange(10, 1));
      break;
    case DomainKind::kMultiMx:
      e.mx.push_back(provider_exchange(10, 1));
      e.mx.push_back(provider_exchange(10, 2));
      e.mx.push_back(provider_exchange(20, 3));
      break;
    case DomainKind::kDualStack:
      e.mx.push_back(own_exchange("ok", {own, v6}));
      break;
    case DomainKind::kAaaaOnly:
      e.mx.push_back(own_exchange("ok", {v6}));
      break;
    case DomainKind::kCnameDomain:
      e.mx_cname = {absl::StrCat("real.", d)};
      e.mx.push_back(provider_exchange(10, 1));
      break;
    case DomainKind::kExchangeCname: {
      ExpectedExchange x = own_exchange("ok", {AddressText(ProviderAddress(p, 1))});
      x.cname = {ProviderHost(p, 1)};
      e.mx.push_back(std::move(x));
      break;
    }
    case DomainKind::kCnameChain:
      for (int h = 1; h <= kChainHops; ++h) e.mx_cname.push_back(absl::StrCat("c", h, ".", d));
      e.mx.push_back(provider_exchange(10, 1));
      break;
    case DomainKind::kCnameTooLong:
    case DomainKind::kCnameLoop:
      nothing("dns_error");
      return e;
    case DomainKind::kExchangeCnameLoop:
      e.mx.push_back(own_exchange("cname_loop", {}));
      break;
    case DomainKind::kNullMx:
      e.status = "null_mx";
      e.mx_source = "null_mx";
      return e;
    case DomainKind::kNullMxMixed:
      e.mx.push_back({.preference = 0, .exchange = "", .status = "null_mx_mixed"});
      e.mx.push_back(provider_exchange(10, 1));
      break;
    case DomainKind::kImplicitA:
      implicit({own});
      return e;
    case DomainKind::kImplicitDual:
      implicit({own, v6});
      return e;
    case DomainKind::kImplicitAaaa:
      implicit({v6});
      return e;
    case DomainKind::kForeignOwner:
      // The MX records are not for the asked name: ignored, so the domain has no MX.
      implicit({own});
      return e;
    case DomainKind::kNoMailHost:
      nothing("no_mail_host");
      return e;
    case DomainKind::kNxdomain:
      nothing("nxdomain");
      return e;
    case DomainKind::kServfail:
    case DomainKind::kRefused:
    case DomainKind::kMalformedTruncated:
    case DomainKind::kMalformedPointerLoop:
    case DomainKind::kMalformedPointerRange:
    case DomainKind::kMalformedGarbage:
      nothing("dns_error");
      return e;
    case DomainKind::kTimeout:
      nothing("dns_timeout");
      return e;
    case DomainKind::kExchangeNxdomain:
      e.mx.push_back(own_exchange("nxdomain", {}));
      break;
    case DomainKind::kExchangeServfail:
      e.mx.push_back(own_exchange("dns_error", {}));
      break;
    case DomainKind::kExchangeTimeout:
      e.mx.push_back(own_exchange("dns_timeout", {}));
      break;
    case DomainKind::kExchangeNodata:
      e.mx.push_back(own_exchange("no_address", {}));
      break;
    case DomainKind::kOversizedMx:
      // Preferences 1..40 are distinct, so the first max_exchanges by preference are resolved.
      for (int k = 1; k <= kOversizedMxCount; ++k) {
        ExpectedExchange x{.preference = uint16_t(k), .exchange = absl::StrCat("mx", k, ".", d)};
        if (size_t(k) <= options_.max_exchanges) {
          x.status = "ok";
          x.addresses = {AddressText(OwnAddress(i, k))};
        } else {
          x.status = "skipped";
          e.mx_truncated = true;
        }
        e.mx.push_back(std::move(x));
      }
      break;
    case DomainKind::kOversizedA: {
      ExpectedExchange x = own_exchange("ok", {});
      for (size_t n = 0; n < size_t(kOversizedACount); ++n) {
        if (n == options_.max_addresses) {
          x.addresses_truncated = true;
          break;
        }
        x.addresses.push_back(AddressText(BulkAddress(n)));
      }
      e.mx.push_back(std::move(x));
      break;
    }
    case DomainKind::kIpLiteral:
      e.mx.push_back({.preference = 10, .exchange = "127.0.0.9", .status = "ip_literal"});
      e.mx.push_back({.preference = 20, .exchange = "[127.0.0.9]", .status = "ip_literal"});
      break;
    case DomainKind::kInvalidName:
      e.mx.push_back({.preference = 10, .exchange = "bad_name!.test", .status = "invalid_name"});
      e.mx.push_back({.preference = 20,
                      .exchange = absl::StrCat("mail\\032host.", d),
                      .status = "invalid_name"});
      break;
    case DomainKind::kSmtpHeloOnly:
    case DomainKind::kSmtpSlowGreeting:
    case DomainKind::kSmtpStalledGreeting:
    case DomainKind::kSmtpGreeting421:
    case DomainKind::kSmtpGreeting554:
    case DomainKind::kSmtpEhlo421:
    case DomainKind::kSmtpDrip:
    case DomainKind::kSmtpSilent:
    case DomainKind::kSmtpResetMidReply:
    case DomainKind::kSmtpEndlessLine:
    case DomainKind::kSmtpEndlessContinuation:
    case DomainKind::kSmtpBadCode:
    case DomainKind::kSmtpCodeChange:
    case DomainKind::kSmtpEarlyTalker:
    case DomainKind::kSmtpCloseAfterEhlo:
    case DomainKind::kSmtpClosedPort:
    case DomainKind::kSmtpFilteredPort:
    case DomainKind::kSmtpPlain465:
    case DomainKind::kSmtpSilentAfterEhlo:
    case DomainKind::kDnsblListed:
    case DomainKind::kDnsblMulti:
    case DomainKind::kDnsblPbl:
    case DomainKind::kDnsblError252:
    case DomainKind::kDnsblError254:
    case DomainKind::kDnsblError255:
    case DomainKind::kDnsblRewritten:
    case DomainKind::kPtrUnconfirmed:
    case DomainKind::kPtrNone:
    case DomainKind::kSmtp421ThenOk:
      e.mx.push_back(own_exchange("ok", {AddressText(SmtpHostOf(i))}));
      break;
    case DomainKind::kTlsExpired:
    case DomainKind::kTlsNotYetValid:
    case DomainKind::kTlsSelfSigned:
    case DomainKind::kTlsUntrustedCa:
    case DomainKind::kTlsWrongName:
    case DomainKind::kTlsWildcard:
    case DomainKind::kTls12Only:
    case DomainKind::kTls10Only:
    case DomainKind::kTlsRsa:
    case DomainKind::kTlsEcdsa:
    case DomainKind::kStarttls454:
    case DomainKind::kStarttlsGarbage:
    case DomainKind::kStarttlsInjection:
    case DomainKind::kTlsStall:
    case DomainKind::kAuthAfterTls:
    case DomainKind::kAuthBeforeTls: {
      const std::string host = AddressText(SmtpHostOf(i));
      e.mx.push_back(
          {.preference = 10, .exchange = SmtpHostName(host), .status = "ok", .addresses = {host}});
      break;
    }
  }
  from_exchanges();
  return e;
}

void Population::WriteExpectation(size_t i, std::string* json_line) const {
  ExpectationToJson(Expect(i), json_line);
}

void Population::ExpectationToJson(const Expectation& e, std::string* out) {
  out->clear();
  out->append("{\"domain\":");
  AppendJsonString(e.domain, out);
  out->append(",\"kind\":");
  AppendJsonString(DomainKindName(e.kind), out);
  out->append(",\"status\":");
  AppendJsonString(e.status, out);
  out->append(",\"mx_source\":");
  AppendJsonString(e.mx_source, out);
  if (!e.mx_cname.empty()) {
    out->append(",\"mx_cname\":");
    AppendJsonStrings(e.mx_cname, out);
  }
  if (e.mx_truncated) out->append(",\"mx_truncated\":true");
  out->append(",\"mx\":[");
  for (size_t k = 0; k < e.mx.size(); ++k) {
    const ExpectedExchange& x = e.mx[k];
    if (k) out->push_back(',');
    absl::StrAppend(out, "{\"preference\":", x.preference, ",\"exchange\":");
    AppendJsonString(x.exchange, out);
    out->append(",\"status\":");
    AppendJsonString(x.status, out);
    if (!x.cname.empty()) {
      out->append(",\"cname\":");
      AppendJsonStrings(x.cname, out);
    }
    if (x.addresses_truncated) out->append(",\"addresses_truncated\":true");
    out->append(",\"addresses\":");
    AppendJsonStrings(x.addresses, out);
    if (!x.ports.empty()) {
      out->append(",\"ports\":[");
      for (size_t a = 0; a < x.ports.size(); ++a) {
        if (a) out->push_back(',');
        AppendJsonPorts(x.ports[a], out);
      }
      out->push_back(']');
    }
    if (!x.reputation.empty()) {
      out->append(",\"reputation\":[");
      for (size_t a = 0; a < x.reputation.size(); ++a) {
        if (a) out->push_back(',');
        AppendJsonReputation(x.reputation[a], out);
      }
      out->push_back(']');
    }
    out->push_back('}');
  }
  out->append("]}");
}

}  // namespace mxray::fleet
