#include "tls/client_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "absl/strings/str_cat.h"

namespace mxray::tls {

absl::StatusOr<std::unique_ptr<ClientContext>> ClientContext::Create(const std::string& ca_file) {
  std::string path = ca_file.empty() ? std::string(kSystemCaFile) : ca_file;
  SSL_CTX* ctx = SSL_CTX_new(TLS_method());
  if (ctx == nullptr) return absl::InternalError("SSL_CTX_new failed");
  std::unique_ptr<ClientContext> out(new ClientContext(ctx, path));
  // Old servers are what an audit must be able to record, so nothing is refused up front.
  if (!SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION) ||
      !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
      !SSL_CTX_set_strict_cipher_list(ctx, "ALL")) {
    return absl::InternalError("cannot configure TLS versions or ciphers");
  }
  // The chain is judged once, after the handshake (chain_verifier.h, with the run's cache):
  // BoringSSL's own verification during the handshake would only repeat that work, and with
  // SSL_VERIFY_NONE it would still run. Accept here, judge later.
  SSL_CTX_set_custom_verify(ctx, SSL_VERIFY_PEER,
                            [](SSL*, uint8_t*) -> ssl_verify_result_t { return ssl_verify_ok; });
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_max_cert_list(ctx, kMaxCertificateListBytes);
  ERR_clear_error();
  if (!SSL_CTX_load_verify_locations(ctx, path.c_str(), nullptr)) {
    uint32_t err = ERR_get_error();
    const char* reason = ERR_reason_error_string(err);
    return absl::InvalidArgumentError(
        absl::StrCat("cannot load CA file ", path, ": ", reason ? reason : "unknown error"));
  }
  return out;
}

ClientContext::~ClientContext() { SSL_CTX_free(ctx_); }

X509_STORE* ClientContext::store() const { return SSL_CTX_get_cert_store(ctx_); }

}  // namespace mxray::tls
