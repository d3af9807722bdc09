// Judgements drawn from a finished domain record: the certificate verdict of every TLS endpoint
// for the exchange name that uses it, and the findings (no STARTTLS, AUTH before TLS, certificate
// problems, legacy TLS, STARTTLS injection), each naming exchange, address and port.
#ifndef MXRAY_ENGINE_FINDINGS_H_
#define MXRAY_ENGINE_FINDINGS_H_

#include "engine/domain_record.h"

namespace mxray::engine {

// Fills AddressRecord::verdicts and DomainRecord::findings (replacing what was there).
void JudgeDomain(DomainRecord* record);

}  // namespace mxray::engine

#endif  // MXRAY_ENGINE_FINDINGS_H_
