// The closed set of behaviours a fleet domain can have (DNS first, then SMTP), their stable names
// (used in domain names, expectation lines and flags) and default weights in a population.
#ifndef MXRAY_TOOLS_FLEET_DOMAIN_KIND_H_
#define MXRAY_TOOLS_FLEET_DOMAIN_KIND_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace mxray::fleet {

// One value per case mxray must survive; see population.h for the records each one serves and
// the result mxray must produce. Append new kinds at the end: the order feeds the seeded mix.
enum class DomainKind : uint8_t {
  kPlain,                  // MX 10 mx1.provider-N.test (shared), A only
  kMultiMx,                // three provider MX, two with the same preference
  kDualStack,              // own exchange with A and AAAA ::1
  kAaaaOnly,               // own exchange with AAAA ::1 only
  kCnameDomain,            // the domain is a CNAME to a name with the MX
  kExchangeCname,          // the exchange is a CNAME to a provider host
  kCnameChain,             // the domain reaches its MX through 4 CNAME hops
  kCnameTooLong,           // 12 CNAME hops: past mxray's limit of 10
  kCnameLoop,              // domain -> a -> b -> a
  kExchangeCnameLoop,      // exchange -> la -> lb -> la
  kNullMx,                 // "0 ." alone (and an A record that must not be used)
  kNullMxMixed,            // "0 ." next to a real MX
  kImplicitA,              // no MX; A on the domain
  kImplicitDual,           // no MX; A and AAAA on the domain
  kImplicitAaaa,           // no MX; AAAA on the domain
  kNoMailHost,             // the name exists (TXT), no MX, A or AAAA
  kNxdomain,               // the domain does not exist
  kServfail,               // every query under the domain: SERVFAIL
  kRefused,                // every query under the domain: REFUSED
  kTimeout,                // every query under the domain is dropped
  kExchangeNxdomain,       // the exchange does not exist
  kExchangeServfail,       // the exchange's address queries: SERVFAIL
  kExchangeTimeout,        // the exchange's address queries are dropped
  kExchangeNodata,         // the exchange exists with neither A nor AAAA
  kOversizedMx,            // 40 MX records: TC over UDP, full over TCP
  kOversizedA,             // exchange with 100 A records: TC over UDP, full over TCP
  kIpLiteral,              // MX "127.0.0.9" and "[127.0.0.9]" as names
  kInvalidName,            // MX "bad_name!.test" and "mail host.<domain>" (raw label bytes)
  kMalformedTruncated,     // answers end in the middle of a record
  kMalformedPointerLoop,   // compression pointers pointing at each other
  kMalformedPointerRange,  // a compression pointer past the end of the message
  kMalformedGarbage,       // the answer section is garbage
  kForeignOwner,           // the MX answer is owned by another name; the domain has an A
  // SMTP kinds: DNS is plain (MX 10 mx.<domain>, one A record 127.4.<kind>.<n>, see population.h)
  // and the server on that address plays the case on 25, 465 and 587 (smtp_plan.h has the
  // details and the outcome mxray must record).
  kSmtpHeloOnly,             // EHLO answered 502, HELO 250
  kSmtpSlowGreeting,         // greeting delayed, within mxray's banner deadline
  kSmtpStalledGreeting,      // greeting delayed beyond mxray's banner deadline
  kSmtpGreeting421,          // 421 greeting
  kSmtpGreeting554,          // 554 greeting
  kSmtpEhlo421,              // 220 greeting, EHLO answered 421
  kSmtpDrip,                 // an endless greeting, one byte per interval
  kSmtpSilent,               // accepts and never says anything
  kSmtpResetMidReply,        // "220-part", then RST
  kSmtpEndlessLine,          // "220 " and bytes without LF until the client leaves
  kSmtpEndlessContinuation,  // EHLO answered with "250-" lines until the client leaves
  kSmtpBadCode,              // greeting "22O ..." (odd hosts) or "2200 ..." (even hosts)
  kSmtpCodeChange,           // greeting "220-..." then "221 ..."
  kSmtpEarlyTalker,          // greeting followed at once by bytes nobody asked for
  kSmtpCloseAfterEhlo,       // closes the connection instead of answering EHLO
  kSmtpClosedPort,           // ordinary on 25 and 465; 587 refuses connections
  kSmtpFilteredPort,         // 25 never answers the SYN; ordinary on 465 and 587
  kSmtpPlain465,             // plaintext SMTP on 465 (ordinary on 25 and 587)
  kSmtpSilentAfterEhlo,      // 220 greeting, then EHLO is never answered
  // TLS kinds: the case is in the server's TLS (SmtpBehaviour of the same name, smtp_plan.h),
  // played on 25 and 587 after STARTTLS and on 465 (implicit TLS). Their MX is the host's own
  // name, "<kind-label>-<n>.fleet.test" (Population::SmtpHostName, with its A record 127.4.K.n),
  // so that every domain on one host probes it for the same name and the certificate verdict
  // is the same for all of them.
  kTlsExpired,         // a trusted chain whose leaf expired
  kTlsNotYetValid,     // a trusted chain whose leaf is not valid yet
  kTlsSelfSigned,      // a self-signed leaf
  kTlsUntrustedCa,     // a chain under a root that is not in the CA file
  kTlsWrongName,       // a trusted chain for another name
  kTlsWildcard,        // a trusted chain for "*.fleet.test", which matches
  kTls12Only,          // TLS 1.2 at most
  kTls10Only,          // TLS 1.0 only
  kTlsRsa,             // an RSA-2048 leaf
  kTlsEcdsa,           // an ECDSA P-256 leaf
  kStarttls454,        // STARTTLS answered 454 (465 ordinary)
  kStarttlsGarbage,    // garbage instead of a ServerHello (after STARTTLS, and on 465)
  kStarttlsInjection,  // a 250 injected after the 220 to STARTTLS (465 ordinary)
  kTlsStall,           // the ClientHello is never answered (after STARTTLS, and on 465)
  kAuthAfterTls,       // AUTH offered only inside TLS
  kAuthBeforeTls,      // AUTH PLAIN LOGIN offered before TLS
  // Reputation kinds: DNS is plain as for the SMTP kinds (MX 10 mx.<domain>, one A record
  // 127.4.<kind>.<n>) and the host is an ordinary Postfix; the case is in what the fleet's DNSBL
  // zones and reverse zones say about that address (reputation_plan.h), or in its SMTP retries.
  kDnsblListed,     // zen lists the address: 127.0.0.2 (SBL) and a TXT record
  kDnsblMulti,      // zen lists it with two codes: 127.0.0.2 (SBL) and 127.0.0.4 (XBL)
  kDnsblPbl,        // zen lists it with 127.0.0.10 (PBL) alone
  kDnsblError252,   // zen answers 127.255.255.252 (typo in the zone name): an error
  kDnsblError254,   // zen answers 127.255.255.254 (query via a public resolver): an error
  kDnsblError255,   // zen answers 127.255.255.255 (too many queries): an error
  kDnsblRewritten,  // rewrite answers 198.51.100.7 (a resolver rewriting NXDOMAIN): unknown
  kPtrUnconfirmed,  // the PTR's name resolves to another address (127.5.<kind>.<n>)
  kPtrNone,         // no PTR: the reverse name is NXDOMAIN
  kSmtp421ThenOk,   // 421 greeting for the first SmtpOptions::greeting_421_connections per
                    // endpoint, an ordinary Postfix from then on
};
inline constexpr size_t kDomainKindCount = size_t(DomainKind::kSmtp421ThenOk) + 1;
inline constexpr DomainKind kFirstSmtpKind = DomainKind::kSmtpHeloOnly;
inline constexpr DomainKind kFirstTlsKind = DomainKind::kTlsExpired;
inline constexpr DomainKind kLastTlsKind = DomainKind::kAuthBeforeTls;
inline constexpr DomainKind kFirstReputationKind = DomainKind::kDnsblListed;

// The kinds with hosts of their own, 127.4.<kind>.<n>: the SMTP, TLS and reputation kinds.
inline constexpr bool IsSmtpKind(DomainKind kind) { return kind >= kFirstSmtpKind; }
// The SMTP kinds whose case is in TLS, and whose MX is their host's own name.
inline constexpr bool IsTlsKind(DomainKind kind) {
  return kind >= kFirstTlsKind && kind <= kLastTlsKind;
}
// The kinds whose case is in the reputation of their host's address (DNSBL, PTR) or in the
// retries it needs (smtp_421_then_ok); their MX is mx.<domain>.
inline constexpr bool IsReputationKind(DomainKind kind) { return kind >= kFirstReputationKind; }

// "plain", "multi_mx", "exchange_cname_loop"... stable: part of the expectation format.
std::string_view DomainKindName(DomainKind kind);
// The same with '-' for '_': the first part of every domain name of that kind.
std::string_view DomainKindLabel(DomainKind kind);
// Accepts the name or the label form.
std::optional<DomainKind> DomainKindFromName(std::string_view name);
// Relative weight (out of 100,000) in the default mix.
uint32_t DefaultKindWeight(DomainKind kind);

}  // namespace mxray::fleet

#endif  // MXRAY_TOOLS_FLEET_DOMAIN_KIND_H_
