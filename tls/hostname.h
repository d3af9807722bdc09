// RFC 6125 server identity check on extracted certificate facts, so that one probe's certificate
// can be judged against the MX name of every domain that shares the endpoint.
#ifndef MXRAY_TLS_HOSTNAME_H_
#define MXRAY_TLS_HOSTNAME_H_

#include <string_view>

#include "tls/tls_facts.h"

namespace mxray::tls {

// One reference identity against one presented DNS identifier. Case-insensitive, a trailing dot
// on either side ignored. A wildcard matches only as the whole leftmost label ("*.example.test"),
// exactly one label, never in a pattern of fewer than three labels ("*.test") and never an
// A-label ("xn--...") under it (RFC 6125 §6.4.3, §7.2).
bool MatchesDnsIdentifier(std::string_view reference, std::string_view presented);

// The reference identity against the certificate: its DNS SANs, or its subject CN only when
// there is no DNS SAN at all (RFC 6125 §6.4.4).
bool MatchesHostname(std::string_view reference, const CertificateFacts& cert);

}  // namespace mxray::tls

#endif  // MXRAY_TLS_HOSTNAME_H_
