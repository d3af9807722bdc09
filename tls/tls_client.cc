#include "tls/tls_client.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <atomic>

#include "tls/certificate_facts.h"
#include "tls/chain_verifier.h"

namespace mxray::tls {
namespace {

std::atomic<size_t> live_clients{0};

bool LooksLikeHostname(std::string_view name) {
  // RFC 6066 §3: no IP literals, no trailing dot in server_name.
  if (name.empty() || name.size() > 253) return false;
  bool alpha = false;
  for (char c : name) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) alpha = true;
    if (c == ':' || c == ' ' || static_cast<unsigned char>(c) < 0x21) return false;
  }
  return alpha;
}

}  // namespace

std::unique_ptr<TlsClient> TlsClient::Create(const ClientContext* context, std::string_view sni) {
  SSL* ssl = SSL_new(context->ctx());
  if (ssl == nullptr) return nullptr;
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  if (in == nullptr || out == nullptr) {
    BIO_free(in);
    BIO_free(out);
    SSL_free(ssl);
    return nullptr;
  }
  // An empty input buffer means "wait for more", not end of stream.
  BIO_set_mem_eof_return(in, -1);
  BIO_set_mem_eof_return(out, -1);
  SSL_set_bio(ssl, in, out);
  SSL_set_connect_state(ssl);
  std::unique_ptr<TlsClient> client(new TlsClient(context, ssl, in, out));
  live_clients.fetch_add(1, std::memory_order_relaxed);
  if (!sni.empty() && sni.back() == '.') sni.remove_suffix(1);
  client->sni_.assign(sni);
  if (LooksLikeHostname(client->sni_)) SSL_set_tlsext_host_name(ssl, client->sni_.c_str());
  return client;
}

TlsClient::~TlsClient() {
  SSL_free(ssl_);
  live_clients.fetch_sub(1, std::memory_order_relaxed);
}

size_t TlsClient::live() { return live_clients.load(std::memory_order_relaxed); }

void TlsClient::Feed(std::string_view ciphertext) {
  if (!ciphertext.empty()) BIO_write(in_, ciphertext.data(), int(ciphertext.size()));
}

bool TlsClient::TakeOutput(std::string* out) {
  const uint8_t* data = nullptr;
  size_t len = 0;
  if (!BIO_mem_contents(out_, &data, &len) || len == 0) return false;
  out->append(reinterpret_cast<const char*>(data), len);
  BIO_reset(out_);
  return true;
}

TlsClient::Step TlsClient::Fail(int ret) {
  int err = SSL_get_error(ssl_, ret);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return Step::kWant;
  if (err == SSL_ERROR_ZERO_RETURN) return Step::kClosed;
  uint32_t code = ERR_peek_last_error();
  const char* reason = code ? ERR_reason_error_string(code) : nullptr;
  error_ = reason ? reason : "TLS_ERROR";
  ERR_clear_error();
  return Step::kFailed;
}

TlsClient::Step TlsClient::Handshake() {
  if (handshake_done_) return Step::kDone;
  ERR_clear_error();
  int ret = SSL_do_handshake(ssl_);
  if (ret == 1) {
    handshake_done_ = true;
    return Step::kDone;
  }
  return Fail(ret);
}

TlsClient::Step TlsClient::Read(std::string* out) {
  char buf[4096];
  bool any = false;
  while (true) {
    ERR_clear_error();
    int n = SSL_read(ssl_, buf, sizeof(buf));
    if (n > 0) {
      out->append(buf, size_t(n));
      any = true;
      continue;
    }
    Step step = Fail(n);
    if (step == Step::kWant && any) return Step::kDone;
    return step;
  }
}

bool TlsClient::Write(std::string_view plaintext) {
  ERR_clear_error();
  // Memory BIOs never block: a write is taken whole or fails.
  int n = SSL_write(ssl_, plaintext.data(), int(plaintext.size()));
  if (n == int(plaintext.size())) return true;
  Fail(n);
  return false;
}

void TlsClient::Shutdown() {
  ERR_clear_error();
  SSL_shutdown(ssl_);
  ERR_clear_error();
}

TlsFacts TlsClient::Facts(int64_t now_unix, bool with_chain_pem) const {
  TlsFacts facts;
  facts.sni = sni_;
  facts.version = SSL_get_version(ssl_);
  if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_)) {
    facts.cipher = SSL_CIPHER_standard_name(cipher);
  }
  if (uint16_t group = SSL_get_curve_id(ssl_)) {
    const char* name = SSL_get_curve_name(group);
    facts.group = name ? name : "unknown";
  }
  STACK_OF(X509)* chain = SSL_get_peer_full_cert_chain(ssl_);
  if (chain != nullptr && sk_X509_num(chain) > 0) {
    facts.has_certificate = true;
    facts.leaf = ExtractCertificateFacts(sk_X509_value(chain, 0));
    int64_t left = facts.leaf.not_after - now_unix;
    facts.leaf.days_left = left >= 0 ? left / 86400 : -((-left + 86399) / 86400);
    for (size_t i = 1; i < sk_X509_num(chain); ++i) {
      X509* cert = sk_X509_value(chain, i);
      facts.intermediates.push_back({.subject = NameText(X509_get_subject_name(cert)),
                                     .issuer = NameText(X509_get_issuer_name(cert))});
    }
    if (with_chain_pem) facts.chain_pem = ChainPem(chain);
  }
  facts.verify = context_->verify_cache().Verify(context_->store(), chain, now_unix);
  return facts;
}

}  // namespace mxray::tls
