// What one TLS handshake showed: protocol, cipher, key exchange, the server's certificate chain
// and what verifying it found. Plain data, extracted as soon as the handshake completes so that
// nothing TLS-sized (the SSL object, the parsed X509s) outlives it.
#ifndef MXRAY_TLS_TLS_FACTS_H_
#define MXRAY_TLS_TLS_FACTS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace mxray::tls {

struct CertificateFacts {
  std::string subject;  // RFC 2253 ("CN=mx.example.test,O=Example")
  std::string issuer;
  std::string common_name;  // the subject's last CN, for the RFC 6125 fallback
  std::string serial;       // lowercase hex, no separators
  std::vector<std::string> san_dns;
  std::vector<std::string> san_ip;  // textual addresses
  int64_t not_before = 0;           // unix seconds
  int64_t not_after = 0;
  int64_t days_left = 0;  // whole days from the check to not_after; negative once expired
  std::string key_type;   // RSA | EC | Ed25519 | DSA | unknown
  uint32_t key_bits = 0;
  std::string key_curve;            // EC only: P-256, P-384, P-521
  std::string signature_algorithm;  // "sha256WithRSAEncryption", "ecdsa-with-SHA256"
  std::string sha256;               // fingerprint of the DER, lowercase hex
  bool self_issued = false;         // subject == issuer
};

// The chain judged without the hostname (that depends on which MX name asked; see hostname.h).
struct VerifyFacts {
  bool trusted = false;  // a path to a root of the CA file, validity dates aside
  bool expired = false;  // some certificate of the path is past its not_after
  bool not_yet_valid = false;
  bool self_signed = false;  // the leaf is self-signed
  std::string error;         // the first verification error other than dates, if any
};

struct TlsFacts {
  std::string sni;      // the server name we sent
  std::string version;  // "TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1"
  std::string cipher;   // IETF name, e.g. "TLS_AES_128_GCM_SHA256"
  std::string group;    // key exchange group ("X25519", "P-256"); empty for RSA key exchange
  uint32_t handshake_ms = 0;
  std::string error;  // why the handshake failed (BoringSSL's reason); empty when it completed
  bool has_certificate = false;
  CertificateFacts leaf;
  struct Intermediate {
    std::string subject;
    std::string issuer;
  };
  std::vector<Intermediate> intermediates;  // the certificates the server sent after the leaf
  std::string chain_pem;                    // only when asked for (--tls-chain)
  VerifyFacts verify;
};

}  // namespace mxray::tls

#endif  // MXRAY_TLS_TLS_FACTS_H_
