// Facts of one X.509 certificate, read with BoringSSL's parsers into plain data.
#ifndef MXRAY_TLS_CERTIFICATE_FACTS_H_
#define MXRAY_TLS_CERTIFICATE_FACTS_H_

#include <openssl/x509.h>

#include <string>

#include "tls/tls_facts.h"

namespace mxray::tls {

CertificateFacts ExtractCertificateFacts(X509* cert);
// RFC 2253 text of a name ("CN=a,O=b"), escaped as that RFC says.
std::string NameText(X509_NAME* name);
// PEM of every certificate in `chain`, in order.
std::string ChainPem(STACK_OF(X509) * chain);
// Unix seconds of an ASN.1 time; false when it cannot be read.
bool AsnTimeToUnix(const ASN1_TIME* t, int64_t* out);

}  // namespace mxray::tls

#endif  // MXRAY_TLS_CERTIFICATE_FACTS_H_
