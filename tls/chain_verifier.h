// Verification that audits and never blocks: the chain is judged after the handshake, each
// problem recorded on its own (trust, dates, self-signature), so that an expired certificate from
// a trusted CA is told apart from an untrusted one.
#ifndef MXRAY_TLS_CHAIN_VERIFIER_H_
#define MXRAY_TLS_CHAIN_VERIFIER_H_

#include <openssl/x509.h>

#include <cstdint>
#include <string_view>

#include "tls/tls_facts.h"

namespace mxray::tls {

// `chain` is what the server sent, leaf first. `now` is the unix time the dates are judged at.
VerifyFacts VerifyChain(X509_STORE* store, STACK_OF(X509) * chain, int64_t now);

// One word for the whole judgement, the most fundamental problem first:
// self_signed > untrusted > expired > not_yet_valid > hostname_mismatch > ok.
std::string_view VerifyStatusWord(const VerifyFacts& verify, bool hostname_match);

}  // namespace mxray::tls

#endif  // MXRAY_TLS_CHAIN_VERIFIER_H_
