// X509_verify_cert with a callback that lets every error through and notes it: dates are
// recorded and ignored for trust, anything else makes the chain untrusted.
#include "tls/chain_verifier.h"

#include <openssl/x509.h>

namespace mxray::tls {
namespace {

struct Notes {
  VerifyFacts* facts;
  bool other_error = false;
};

// Verification is synchronous on the loop's thread; the callback has no user pointer of its own.
thread_local Notes* current_notes = nullptr;

int NoteError(int ok, X509_STORE_CTX* ctx) {
  if (ok) return 1;
  Notes* notes = current_notes;
  int err = X509_STORE_CTX_get_error(ctx);
  switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      notes->facts->expired = true;
      return 1;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      notes->facts->not_yet_valid = true;
      return 1;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      notes->facts->self_signed = true;
      break;
    default:
      break;
  }
  if (!notes->other_error) notes->facts->error = X509_verify_cert_error_string(err);
  notes->other_error = true;
  return 1;
}

}  // namespace

VerifyFacts VerifyChain(X509_STORE* store, STACK_OF(X509) * chain, int64_t now) {
  VerifyFacts facts;
  if (chain == nullptr || sk_X509_num(chain) == 0) {
    facts.error = "no certificate";
    return facts;
  }
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  if (ctx == nullptr || !X509_STORE_CTX_init(ctx, store, sk_X509_value(chain, 0), chain)) {
    X509_STORE_CTX_free(ctx);
    facts.error = "out of memory";
    return facts;
  }
  X509_STORE_CTX_set_default(ctx, "ssl_server");
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), static_cast<time_t>(now));
  X509_STORE_CTX_set_verify_cb(ctx, NoteError);
  Notes notes{.facts = &facts};
  current_notes = &notes;
  int ok = X509_verify_cert(ctx);
  current_notes = nullptr;
  if (ok != 1 && !notes.other_error) {
    notes.other_error = true;
    facts.error = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
  }
  facts.trusted = ok == 1 && !notes.other_error;
  X509_STORE_CTX_free(ctx);
  return facts;
}

std::string_view VerifyStatusWord(const VerifyFacts& verify, bool hostname_match) {
  if (verify.self_signed) return "self_signed";
  if (!verify.trusted) return "untrusted";
  if (verify.expired) return "expired";
  if (verify.not_yet_valid) return "not_yet_valid";
  if (!hostname_match) return "hostname_mismatch";
  return "ok";
}

}  // namespace mxray::tls
