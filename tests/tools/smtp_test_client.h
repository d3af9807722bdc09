// Blocking loopback clients for the fleet's SMTP tests: SMTP lines in plaintext, and TLS after
// STARTTLS or on 465 with BoringSSL over memory BIOs on the same blocking socket (so that the
// bytes a server sends instead of a ServerHello stay visible, and a server that closes never
// raises SIGPIPE), plus the one-word certificate verdict mxray records, computed independently.
// Read timeouts only guard against a broken server; tests show silence by closing first.
#ifndef MXRAY_TESTS_TOOLS_SMTP_TEST_CLIENT_H_
#define MXRAY_TESTS_TOOLS_SMTP_TEST_CLIENT_H_

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mxray::fleet::testing_client {

inline constexpr int kGuardMs = 10'000;  // only reached when something is broken

inline sockaddr_storage Sockaddr(const std::string& ip, uint16_t port, socklen_t* len) {
  sockaddr_storage addr{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    *len = sizeof(sockaddr_in);
  } else {
    EXPECT_EQ(inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr), 1) << ip;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    *len = sizeof(sockaddr_in6);
  }
  return addr;
}

// What mxray offers: TLS 1.0 to 1.3, the fleet's root as the only trust anchor, and no
// enforcement (an audit records the verdict and goes on).
inline bssl::UniquePtr<SSL_CTX> ClientContext(const std::string& ca_file) {
  bssl::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_method()));
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_VERSION);
  SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION);
  EXPECT_EQ(SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr), 1) << ca_file;
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  return ctx;
}

// TLS on a connected blocking socket, through memory BIOs.
class TlsChannel {
 public:
  TlsChannel(SSL_CTX* ctx, int fd, const std::string& sni) : fd_(fd), ssl_(SSL_new(ctx)) {
    SSL_set_bio(ssl_.get(), BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
    SSL_set_connect_state(ssl_.get());
    if (!sni.empty()) SSL_set_tlsext_host_name(ssl_.get(), sni.c_str());
  }

  // Runs the handshake; false when it failed (error() says why). `received` gets every byte the
  // server sent meanwhile, as sent.
  bool Handshake(std::string* received = nullptr) {
    for (;;) {
      const int r = SSL_do_handshake(ssl_.get());
      if (!FlushOut()) return Fail("send failed");
      if (r == 1) return true;
      if (SSL_get_error(ssl_.get(), r) != SSL_ERROR_WANT_READ) return Fail("");
      char buf[4096];
      const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return Fail(n == 0 ? "closed" : strerror(errno));
      if (received) received->append(buf, size_t(n));
      BIO_write(SSL_get_rbio(ssl_.get()), buf, int(n));
    }
  }

  bool Write(std::string_view text) {
    return SSL_write(ssl_.get(), text.data(), int(text.size())) == int(text.size()) && FlushOut();
  }

  // Plaintext bytes into `buf`; 0 at the end of the stream (close_notify or FIN), -1 on an error.
  ssize_t Read(char* buf, size_t len) {
    for (;;) {
      const int n = SSL_read(ssl_.get(), buf, int(len));
      if (n > 0) return n;
      const int error = SSL_get_error(ssl_.get(), n);
      ERR_clear_error();
      if (error == SSL_ERROR_ZERO_RETURN) return 0;
      if (error != SSL_ERROR_WANT_READ) return -1;
      char raw[4096];
      const ssize_t got = recv(fd_, raw, sizeof(raw), 0);
      if (got <= 0) return got;
      BIO_write(SSL_get_rbio(ssl_.get()), raw, int(got));
    }
  }

  SSL* ssl() const { return ssl_.get(); }
  const std::string& error() const { return error_; }

 private:
  bool FlushOut() {
    BIO* out = SSL_get_wbio(ssl_.get());
    const uint8_t* data;
    size_t len;
    if (!BIO_mem_contents(out, &data, &len) || len == 0) return true;
    const bool sent = send(fd_, data, len, MSG_NOSIGNAL) == ssize_t(len);
    BIO_reset(out);
    return sent;
  }
  bool Fail(const std::string& why) {
    char reason[256] = "";
    if (uint32_t e = ERR_get_error()) ERR_error_string_n(e, reason, sizeof(reason));
    ERR_clear_error();
    error_ = why.empty() ? reason : why;
    return false;
  }

  int fd_;
  bssl::UniquePtr<SSL> ssl_;
  std::string error_;
};

// A blocking SMTP client: connect, read replies, send lines; TLS once StartTls() succeeded.
class Client {
 public:
  Client(const std::string& ip, uint16_t port) {
    socklen_t len;
    sockaddr_storage addr = Sockaddr(ip, port, &len);
    fd_ = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval guard{.tv_sec = kGuardMs / 1000, .tv_usec = 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof(guard));
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &guard, sizeof(guard));
    // TLS writes small records back to back (Finished, then the first command): without this
    // each waits for the server's delayed ACK.
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0) connect_errno_ = errno;
  }
  ~Client() { Close(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connect_errno_ == 0; }
  int connect_errno() const { return connect_errno_; }
  int fd() const { return fd_; }
  // 0 after a clean end of stream, the errno of the failed read otherwise.
  int read_errno() const { return read_errno_; }

  void Close() {
    tls_.reset();
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  void Send(std::string_view text) {
    if (tls_) {
      ASSERT_TRUE(tls_->Write(text));
    } else {
      ASSERT_EQ(send(fd_, text.data(), text.size(), MSG_NOSIGNAL), ssize_t(text.size()));
    }
  }

  // The handshake, with `sni` (none when empty). Bytes already read and not yet taken are what
  // a client must throw away after STARTTLS (an injection): kept in discarded(). `received`
  // as TlsChannel::Handshake.
  bool StartTls(SSL_CTX* ctx, const std::string& sni, std::string* received = nullptr) {
    discarded_ = std::move(buffer_);
    buffer_.clear();
    tls_ = std::make_unique<TlsChannel>(ctx, fd_, sni);
    if (tls_->Handshake(received)) return true;
    error_ = tls_->error();
    return false;
  }
  TlsChannel* tls() const { return tls_.get(); }
  SSL* ssl() const { return tls_ ? tls_->ssl() : nullptr; }
  const std::string& discarded() const { return discarded_; }
  const std::string& tls_error() const { return error_; }

  // One complete reply (through its line without '-' after the code), or what came before the
  // end of the stream.
  std::string ReadReply() {
    std::string reply;
    for (;;) {
      size_t lf;
      while ((lf = buffer_.find('\n')) == std::string::npos) {
        if (!Fill()) {
          reply += buffer_;
          buffer_.clear();
          return reply;
        }
      }
      std::string line = buffer_.substr(0, lf + 1);
      buffer_.erase(0, lf + 1);
      reply += line;
      if (line.size() < 4 || line[3] != '-') return reply;
    }
  }

  // Everything until the end of the stream (or `max` bytes).
  std::string ReadAll(size_t max = 1 << 20) {
    while (buffer_.size() < max && Fill()) {
    }
    std::string all = std::move(buffer_);
    buffer_.clear();
    return all;
  }

  // Exactly `n` bytes unless the stream ends first.
  std::string ReadBytes(size_t n) {
    while (buffer_.size() < n && Fill()) {
    }
    std::string head = buffer_.substr(0, n);
    buffer_.erase(0, head.size());
    return head;
  }

  // One read as it comes.
  std::string ReadOnce() {
    Fill();
    std::string got = std::move(buffer_);
    buffer_.clear();
    return got;
  }

 private:
  bool Fill() {
    char buf[16384];
    const ssize_t n = tls_ ? tls_->Read(buf, sizeof(buf)) : recv(fd_, buf, sizeof(buf), 0);
    if (n > 0) {
      buffer_.append(buf, size_t(n));
      return true;
    }
    read_errno_ = n == 0 ? 0 : errno;
    EXPECT_NE(read_errno_, EAGAIN) << "no data within the guard time";
    return false;
  }

  int fd_ = -1;
  int connect_errno_ = 0;
  int read_errno_ = -1;
  std::string buffer_;
  std::unique_ptr<TlsChannel> tls_;
  std::string discarded_;
  std::string error_;
};

// "TLSv1.3"...: SSL_get_version's names are mxray's.
inline std::string VersionOf(SSL* ssl) { return SSL_get_version(ssl); }

// The leaf's key as mxray records it: "RSA" or "EC", and its size in bits.
inline std::pair<std::string, uint32_t> LeafKey(SSL* ssl) {
  bssl::UniquePtr<X509> leaf(SSL_get_peer_certificate(ssl));
  if (!leaf) return {"", 0};
  bssl::UniquePtr<EVP_PKEY> key(X509_get_pubkey(leaf.get()));
  const int id = EVP_PKEY_id(key.get());
  return {id == EVP_PKEY_RSA  ? "RSA"
          : id == EVP_PKEY_EC ? "EC"
                              : "other",
          uint32_t(EVP_PKEY_bits(key.get()))};
}

// The DNS names of the leaf's subjectAltName.
inline std::vector<std::string> LeafDnsNames(X509* leaf) {
  std::vector<std::string> out;
  bssl::UniquePtr<GENERAL_NAMES> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr)));
  for (size_t i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(names.get(), i);
    if (g->type != GEN_DNS) continue;
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(g->d.dNSName)),
                     size_t(ASN1_STRING_length(g->d.dNSName)));
  }
  return out;
}

// What verifying the server's chain found, hostname aside: every error of the path, in the
// words mxray uses, so that the verdict for any exchange name follows (Verdict()).
struct ChainFacts {
  bool self_signed = false;
  bool untrusted = false;
  bool expired = false;
  bool not_yet_valid = false;
  bssl::UniquePtr<X509> leaf;
};

inline int ChainFactsIndex() {
  static const int index = X509_STORE_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

inline int CollectErrors(int ok, X509_STORE_CTX* ctx) {
  auto* facts = static_cast<ChainFacts*>(X509_STORE_CTX_get_ex_data(ctx, ChainFactsIndex()));
  switch (X509_STORE_CTX_get_error(ctx)) {
    case X509_V_OK:
      break;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      facts->self_signed = true;
      break;
    case X509_V_ERR_CERT_HAS_EXPIRED:
      facts->expired = true;
      break;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      facts->not_yet_valid = true;
      break;
    default:
      facts->untrusted = true;
      break;
  }
  return 1;  // go on: every error is wanted, not just the first
}

// The chain the server sent, verified against the CA file `store` holds.
inline ChainFacts JudgeChain(SSL* ssl, X509_STORE* store) {
  ChainFacts facts;
  STACK_OF(X509)* chain = SSL_get_peer_full_cert_chain(ssl);
  if (chain == nullptr || sk_X509_num(chain) == 0) {
    facts.untrusted = true;
    return facts;
  }
  X509* leaf = sk_X509_value(chain, 0);
  X509_up_ref(leaf);
  facts.leaf.reset(leaf);
  bssl::UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store, leaf, chain);
  X509_STORE_CTX_set_ex_data(ctx.get(), ChainFactsIndex(), &facts);
  X509_STORE_CTX_set_verify_cb(ctx.get(), CollectErrors);
  X509_verify_cert(ctx.get());
  ERR_clear_error();
  return facts;
}

// The one word, in mxray's precedence; the name checked by BoringSSL's own RFC 6125 matcher,
// not the fleet's.
inline std::string Verdict(const ChainFacts& facts, std::string_view exchange) {
  if (facts.self_signed) return "self_signed";
  if (facts.untrusted) return "untrusted";
  if (facts.expired) return "expired";
  if (facts.not_yet_valid) return "not_yet_valid";
  const bool match =
      facts.leaf && X509_check_host(facts.leaf.get(), exchange.data(), exchange.size(),
                                    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, nullptr) == 1;
  return match ? "ok" : "hostname_mismatch";
}

}  // namespace mxray::fleet::testing_client

#endif  // MXRAY_TESTS_TOOLS_SMTP_TEST_CLIENT_H_
