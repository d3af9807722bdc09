// One client TLS connection over memory buffers: ciphertext in from the socket, ciphertext out to
// it, plaintext in between. No descriptor, no blocking, no thread: the probe moves the bytes on
// the io_uring loop, and unit tests connect two of these (or a server SSL) in memory.
#ifndef MXRAY_TLS_TLS_CLIENT_H_
#define MXRAY_TLS_TLS_CLIENT_H_

#include <openssl/base.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "tls/client_context.h"
#include "tls/tls_facts.h"

namespace mxray::tls {

class TlsClient {
 public:
  enum class Step : uint8_t {
    kWant,    // needs more bytes from the peer (send the output first)
    kDone,    // handshake complete / data read
    kClosed,  // the peer sent close_notify
    kFailed,  // see error()
  };

  // `sni` is sent as the server name when it is a hostname (empty: none).
  static std::unique_ptr<TlsClient> Create(const ClientContext* context, std::string_view sni);
  ~TlsClient();
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  // Ciphertext received from the peer.
  void Feed(std::string_view ciphertext);
  // Moves the ciphertext waiting to be sent to the end of *out; false when there is none.
  bool TakeOutput(std::string* out);

  Step Handshake();
  bool handshake_done() const { return handshake_done_; }
  // Appends the plaintext decrypted so far to *out: kDone when some was appended, kWant when
  // more ciphertext is needed.
  Step Read(std::string* out);
  // Encrypts `plaintext` into the output.
  bool Write(std::string_view plaintext);
  // Sends close_notify (into the output).
  void Shutdown();

  // BoringSSL's reason for the failure ("WRONG_VERSION_NUMBER", "TLSV1_ALERT_PROTOCOL_VERSION").
  // Static text: no allocation on the failure path.
  std::string_view error() const { return error_; }

  // TlsClients alive in the process: each holds an SSL, and the engine frees them as soon as a
  // probe no longer needs TLS. Tests check it comes back to zero.
  static size_t live();

  // Facts of the completed handshake; the chain judged at `now_unix`.
  TlsFacts Facts(int64_t now_unix, bool with_chain_pem) const;

 private:
  TlsClient(const ClientContext* context, SSL* ssl, BIO* in, BIO* out)
      : context_(context), ssl_(ssl), in_(in), out_(out) {}
  Step Fail(int ret);

  const ClientContext* context_;
  SSL* ssl_;
  BIO* in_;   // owned by ssl_
  BIO* out_;  // owned by ssl_
  std::string sni_;
  bool handshake_done_ = false;
  std::string_view error_;
};

}  // namespace mxray::tls

#endif  // MXRAY_TLS_TLS_CLIENT_H_
