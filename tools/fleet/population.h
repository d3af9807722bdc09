// The fleet's population: which domains exist, how each behaves in DNS, and the record mxray must
// produce for each. Everything is a pure function of (seed, index), and the kind and index are
// spelled in the domain name itself, so servers answer from the name alone and memory does not
// grow with the population (runs go to millions of domains).
//
// Names. Domain i is "<kind-label>-<i>-<tag>.test", e.g. "plain-42-k3x9.test", where <tag> is 4
// base-36 characters derived from (seed, i): a name from another seed or index is NXDOMAIN.
// Names under a domain ("mx.<domain>", "c1.<domain>"...) exist only as its kind says. Shared
// provider hosts are "mx1|mx2|mx3.provider-<p>.test".
//
// Addresses (all loopback; the SMTP servers listen on each, see smtp_plan.h and fleet.h):
//   127.1.0.0/16    provider hosts: host h = 3p + (k - 1) of mxk.provider-p is
//                   127.1.(h/250).(1+h%250); SMTP on the first SmtpPlan::provider_hosts of them,
//                   playing an ordinary flavour chosen by p (OrdinarySmtp(p)).
//   127.2.0.0/16    a pool of 1000 addresses for the domains' own hosts: 127.2.{0..3}.{1..250};
//                   SMTP on the first SmtpPlan::own_addresses (OrdinarySmtp(slot)).
//   127.3.0.1-100   the 100 A records of the oversized_a exchange (shared by all such domains);
//                   SMTP on each (OrdinarySmtp(n)).
//   127.4.K.1-N     the SMTP kinds' hosts: K is the DomainKind's value, N SmtpPlan::hosts_per_kind;
//                   what each plays is SmtpKindBehaviours(K, n). The TLS and reputation kinds
//                   are SMTP kinds in this sense.
//   ::1             the only IPv6 address handed out; SMTP (Postfix flavour).
//   127.5.K.n       never handed out as an MX address: what the PTR name of the ptr_unconfirmed
//                   host 127.4.K.n resolves to (nothing listens there).
// Addresses outside the SMTP plan refuse connections, and the expectations say so.
//
// Reputation (reputation_plan.h for the DNSBL zones). Every address the population can hand out
// has a PTR record (in-addr.arpa, and ip6.arpa in nibble form for ::1) naming the host
// (PtrName = SmtpHostName), and that name's A (AAAA for ::1) record is the address: forward-
// confirmed. Exceptions: the ptr_none hosts have no PTR (NXDOMAIN), the ptr_unconfirmed hosts'
// PTR name resolves to 127.5.K.n. Addresses the population never hands out (127.0.0.1, 127.4.0.1,
// providers beyond provider_count, kind hosts beyond hosts_per_kind...) have no PTR. This does not
// depend on the SMTP plan: an address outside it still has its PTR.
//
// Host names and TLS. Every SMTP address has a name (SmtpHostName): the provider hosts' are the
// MX names their domains use; the kinds' hosts are "<kind-label>-<n>.fleet.test"; the own pool,
// bulk and ::1 have names of their own under fleet.test that no MX uses ("mx-127-2-0-5.fleet.test",
// "mx-127-3-0-7.fleet.test", "mx-ipv6.fleet.test"). DNS serves their A (AAAA) records. Each
// server's certificate (smtp_plan.h, TlsPlanOf) is for its own name plus its IP, and mxray judges
// it against the domain's exchange name: plain provider domains verify ok, while mx.<domain> on an
// own-pool, bulk, ::1 or plaintext-case host is a hostname_mismatch (a vanity MX name on a shared
// host). The TLS kinds' MX is the host's own name.
#ifndef MXRAY_TOOLS_FLEET_POPULATION_H_
#define MXRAY_TOOLS_FLEET_POPULATION_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/fleet/domain_kind.h"
#include "tools/fleet/reputation_plan.h"
#include "tools/fleet/smtp_plan.h"

namespace mxray::fleet {

using Ipv4 = std::array<uint8_t, 4>;
using Ipv6 = std::array<uint8_t, 16>;
inline constexpr Ipv6 kIpv6Loopback = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

struct PopulationOptions {
  uint64_t seed = 1;
  size_t domain_count = 1000;
  // Hosting providers whose MX hosts the plain domains share; 0 = domain_count / 500 clamped
  // to [4, 1024] (at most 3072 provider addresses: later SMTP servers listen on each).
  size_t provider_count = 0;
  // Overrides of DefaultKindWeight (out of 100,000). Weight 0 removes a kind entirely.
  std::vector<std::pair<DomainKind, uint32_t>> kind_weights;
  // The caps mxray applies (--max-exchanges, --max-addresses): expectations depend on them.
  size_t max_exchanges = 16;
  size_t max_addresses = 16;
  // Which addresses serve SMTP; the SMTP kinds' DNS answers depend on hosts_per_kind.
  SmtpPlan smtp;
};

// The record mxray must produce for one domain; vocabularies of engine/domain_record.h.
struct ExpectedExchange {
  uint16_t preference = 0;
  std::string exchange;                // as mxray prints it: lowercase, \DDD escapes, "" for "."
  std::string_view status;             // ok|no_address|nxdomain|dns_error|dns_timeout|...
  std::vector<std::string> cname;      // asserted only when non-empty
  bool addresses_truncated = false;    // asserted only when true
  std::vector<std::string> addresses;  // IPv4 in answer order, then IPv6
  // Per address (parallel to `addresses`), the record of each logical port 25, 465, 587 in that
  // order; empty when SMTP is disabled.
  std::vector<std::vector<ExpectedPort>> ports;
  // Per address (parallel to `addresses`), its PTR, FCrDNS and DNSBL verdicts (always set: DNS
  // facts, whether SMTP is enabled or not).
  std::vector<ExpectedReputation> reputation;
};
struct Expectation {
  std::string domain;
  DomainKind kind = DomainKind::kPlain;
  std::string_view status;            // ok|nxdomain|null_mx|no_mail_host|dns_error|dns_timeout
  std::string_view mx_source;         // mx|implicit|null_mx|none
  std::vector<std::string> mx_cname;  // asserted only when non-empty
  bool mx_truncated = false;          // asserted only when true
  std::vector<ExpectedExchange> mx;   // ordered by preference, then exchange
};

class Population {
 public:
  // The shape of each kind; the zone serves these and the expectations quote them.
  static constexpr int kProviderHosts = 3;
  static constexpr size_t kOwnAddressPool = 1000;
  static constexpr int kChainHops = 4;
  static constexpr int kLongChainHops = 12;
  static constexpr int kOversizedMxCount = 40;
  static constexpr int kOversizedACount = 100;
  static constexpr uint32_t kTtl = 300;
  static constexpr size_t kSmtpHostsPerKindMax = 250;

  static absl::StatusOr<Population> Create(const PopulationOptions& options);

  size_t size() const { return options_.domain_count; }
  uint64_t seed() const { return options_.seed; }
  size_t provider_count() const { return provider_count_; }
  const PopulationOptions& options() const { return options_; }

  std::string DomainName(size_t i) const;
  void AppendDomainName(size_t i, std::string* out) const;
  // The first `kinds with a non-zero weight` domains take each such kind once, in enum order, so
  // that even a tiny population has every case; later ones draw from the seeded weighted mix.
  DomainKind Kind(size_t i) const;
  // The index of the domain whose name's first label is `label` (lowercase), if it is one of ours.
  std::optional<size_t> FindDomain(std::string_view label) const;
  std::optional<size_t> FirstOfKind(DomainKind kind) const;

  size_t ProviderOf(size_t i) const;
  // The n-th own host address of domain i, from the 127.2 pool.
  Ipv4 OwnAddress(size_t i, size_t n) const;
  // "mx<host>.provider-<p>.test", host in [1, kProviderHosts].
  static std::string ProviderHost(size_t provider, int host);
  static Ipv4 ProviderAddress(size_t provider, int host);
  // 127.3.0.(1 + n), n < kOversizedACount.
  static Ipv4 BulkAddress(size_t n);
  static std::string AddressText(const Ipv4& ip);

  // SMTP. The host n (1-based) of an SMTP kind: 127.4.<kind>.<n>.
  static Ipv4 SmtpKindAddress(DomainKind kind, size_t n);
  // The SMTP kind host that domain i (of an SMTP kind) points at.
  Ipv4 SmtpHostOf(size_t i) const;
  // What `ip` plays on 25, 465 and 587: kNone for each when it has no SMTP (or is not ours).
  std::array<SmtpBehaviour, kSmtpPortCount> SmtpBehavioursAt(std::string_view ip) const;
  std::array<SmtpBehaviour, kSmtpPortCount> SmtpBehavioursAt(const Ipv4& ip) const;
  // Every address with at least one SMTP socket: provider hosts, own pool, bulk, ::1, then the
  // SMTP kinds' hosts. Empty when SMTP is disabled.
  std::vector<std::string> SmtpAddresses() const;
  // The name the server on `ip` gives itself and its certificate is for:
  // "mx1.provider-3.test", "smtp-drip-2.fleet.test", "mx-127-2-0-5.fleet.test".
  std::string SmtpHostName(std::string_view ip) const;
  // The address "<kind-label>-<n>.fleet.test" names (the SMTP kinds' hosts), if it is one of
  // ours and in the plan: 127.4.K.n, but 127.5.K.n for the ptr_unconfirmed kind.
  std::optional<Ipv4> SmtpKindHostAddress(std::string_view host_name) const;
  // The IPv4 address of a host name under fleet.test: the kinds' hosts (SmtpKindHostAddress),
  // "mx-127-2-C-D.fleet.test" (the own pool, C <= 3, D in 1-250) and "mx-127-3-0-D.fleet.test"
  // (bulk, D in 1-100). kIpv6HostName has the AAAA ::1 instead.
  std::optional<Ipv4> FleetHostAddress(std::string_view host_name) const;
  static constexpr std::string_view kIpv6HostName = "mx-ipv6.fleet.test";

  // Reputation. The PTR name of `ip` ("" when its reverse name is NXDOMAIN; see the top).
  std::string PtrName(const Ipv4& ip) const;
  std::string PtrName(const Ipv6& ip) const;
  std::string PtrName(std::string_view ip) const;
  // The addresses DNS gives a host name (A records as text, then AAAA), as PTR names are
  // forward-confirmed: provider hosts and the host names under fleet.test; empty for others.
  std::vector<std::string> ForwardAddresses(std::string_view host_name) const;
  // The reputation of `ip` that mxray must record (ExpectedReputation).
  ExpectedReputation ExpectReputation(std::string_view ip) const;
  // The DNSBL zones the fleet serves (kDnsblZones) and their self-tests.
  static std::vector<ExpectedDnsblZone> ExpectDnsblZones() { return fleet::ExpectDnsblZones(); }
  // The records mxray must make of `ip` on 25, 465 and 587 when it probes the address for the
  // MX name `exchange` (TLS is judged against it); without one, for the server's own name.
  std::vector<ExpectedPort> ExpectPorts(std::string_view ip, std::string_view exchange = {}) const;

  Expectation Expect(size_t i) const;
  // One JSON line, no trailing newline (replaces *json_line):
  // {"domain","kind","status","mx_source",["mx_cname"],["mx_truncated"],"mx":[{"preference",
  //  "exchange","status",["cname"],["addresses_truncated"],"addresses",["ports"]}]}
  // where "ports" (when SMTP is enabled and the exchange has addresses) holds, per address, the
  // list for 25, 465, 587 of [{"port","state","outcome",["banner_code"],"starttls","auth",
  // ["size"],["starttls_code"],["tls_version","verify_status","key_type","key_bits"],"ehlo_tls",
  // "auth_after_tls","injected",["attempts"]}] (ExpectedPort's fields, optional ones when set;
  // attempts when not 1), and "reputation" (when the exchange has addresses) holds, per address,
  // {"ptr_status","ptr","fcrdns","dnsbl":[{"zone","status",["codes"],["txt"]}]}
  // (ExpectedReputation's fields; codes and txt when not empty).
  void WriteExpectation(size_t i, std::string* json_line) const;
  static void ExpectationToJson(const Expectation& e, std::string* json_line);
  static std::string_view KindName(DomainKind kind) { return DomainKindName(kind); }

 private:
  Population() = default;
  Expectation ExpectDns(size_t i) const;
  uint64_t Mix(size_t i, uint64_t salt) const;
  void AppendTag(size_t i, std::string* out) const;

  PopulationOptions options_;
  size_t provider_count_ = 0;
  std::vector<DomainKind> enabled_;   // kinds with a non-zero weight, in enum order
  std::vector<uint64_t> cumulative_;  // running sum of weights over enabled_
  uint64_t total_weight_ = 0;
};

}  // namespace mxray::fleet

#endif  // MXRAY_TOOLS_FLEET_POPULATION_H_
