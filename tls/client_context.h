// The one client SSL_CTX of a run, shared by every TLS probe, and the trust store that
// verification uses. Configured to record, not to refuse: TLS 1.0 to 1.3 and every cipher
// BoringSSL has, no verification during the handshake, no session resumption (each probe must
// see the full handshake and chain).
#ifndef MXRAY_TLS_CLIENT_CONTEXT_H_
#define MXRAY_TLS_CLIENT_CONTEXT_H_

#include <openssl/base.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "tls/verify_cache.h"

namespace mxray::tls {

// Debian's bundle of the system's trusted roots (package ca-certificates).
inline constexpr char kSystemCaFile[] = "/etc/ssl/certs/ca-certificates.crt";

// The largest certificate chain accepted in a handshake; longer ones fail it.
inline constexpr size_t kMaxCertificateListBytes = 64 * 1024;

class ClientContext {
 public:
  // `ca_file`: PEM roots that count as trusted; empty means kSystemCaFile.
  static absl::StatusOr<std::unique_ptr<ClientContext>> Create(const std::string& ca_file);
  ~ClientContext();
  ClientContext(const ClientContext&) = delete;
  ClientContext& operator=(const ClientContext&) = delete;

  SSL_CTX* ctx() const { return ctx_; }
  X509_STORE* store() const;
  const std::string& ca_file() const { return ca_file_; }
  // Shared by the context's probes, all on one loop's thread.
  VerifyCache& verify_cache() const { return verify_cache_; }

 private:
  ClientContext(SSL_CTX* ctx, std::string ca_file) : ctx_(ctx), ca_file_(std::move(ca_file)) {}
  SSL_CTX* ctx_;
  std::string ca_file_;
  mutable VerifyCache verify_cache_;
};

}  // namespace mxray::tls

#endif  // MXRAY_TLS_CLIENT_CONTEXT_H_
