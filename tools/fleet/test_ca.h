// A throwaway certificate authority for the fleet and for tests: a trusted root with an
// intermediate, a second root nobody trusts, and leaves issued on demand for any name, key type,
// validity window and issuer. mxray's TLS audit must tell a valid chain from an expired, early,
// self-signed, untrusted or misnamed one, so the fleet needs all of them without files on disk or
// a network; everything here is generated in memory at start-up.
#ifndef MXRAY_TOOLS_FLEET_TEST_CA_H_
#define MXRAY_TOOLS_FLEET_TEST_CA_H_

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mxray::fleet {

enum class TestKeyType : uint8_t { kRsa2048, kEcdsaP256 };

struct CertSpec {
  std::vector<std::string> dns_names;     // subjectAltName DNS entries
  std::vector<std::string> ip_addresses;  // subjectAltName IP entries ("127.0.0.1", "::1")
  std::string common_name;  // subject CN; empty: the first dns name (or none if no names)
  TestKeyType key = TestKeyType::kEcdsaP256;
  int64_t not_before = 0;  // unix seconds; 0 = now - 1 day
  int64_t not_after = 0;   // unix seconds; 0 = now + 90 days
  // kIntermediate: the trusted chain (root -> intermediate -> leaf). kRoot: signed by the trusted
  // root itself. kSelf: self-signed. kUntrustedCa: the same shape as kIntermediate under a root
  // that is never in the CA file.
  enum class Issuer : uint8_t {
    kIntermediate,
    kRoot,
    kSelf,
    kUntrustedCa
  } issuer = Issuer::kIntermediate;
};

struct IssuedCert {
  bssl::UniquePtr<X509> leaf;
  // What a server sends after the leaf, in order (empty for kRoot/kSelf issuers; the untrusted
  // CA's intermediate for kUntrustedCa).
  std::vector<bssl::UniquePtr<X509>> intermediates;
  bssl::UniquePtr<EVP_PKEY> key;
  std::string chain_pem;  // leaf then intermediates
  std::string key_pem;
};

class TestCa {
 public:
  // A root ("mxray fleet test root"), an intermediate signed by it, and a second, untrusted root
  // + intermediate (never in the CA file). ECDSA P-256 CA keys. One RSA-2048 key is generated
  // lazily, once per process, and shared by every RSA leaf (RSA key generation takes tens of
  // milliseconds, and a fleet starts in tests dozens of times); one ECDSA P-256 key is shared by
  // every ECDSA leaf of this CA. A test CA, so sharing keys between certificates costs nothing.
  // `ca_key` kRsa2048: the trusted root's and intermediate's own keys are RSA-2048 instead (each
  // generated for this CA, ~0.1 s apiece; the untrusted pair stays ECDSA). Most public CAs'
  // intermediates are RSA, and a verifier's RSA-2048 check costs ~15 us where a P-256 one costs
  // ~155 us with a BoringSSL built without assembly: benchmarks use it (FleetOptions::rsa_ca).
  static absl::StatusOr<std::unique_ptr<TestCa>> Create(
      TestKeyType ca_key = TestKeyType::kEcdsaP256);

  // Thread-safe.
  absl::StatusOr<IssuedCert> Issue(const CertSpec& spec);
  // The trusted root only, PEM.
  const std::string& root_pem() const { return root_pem_; }
  absl::Status WriteRootPem(const std::string& path) const;
  X509* root() const { return root_.get(); }
  // The untrusted root, for tests that want to show it is not the trusted one.
  X509* untrusted_root() const { return untrusted_root_.get(); }

 private:
  TestCa() = default;

  bssl::UniquePtr<EVP_PKEY> root_key_, intermediate_key_, untrusted_root_key_,
      untrusted_intermediate_key_, ec_leaf_key_;
  bssl::UniquePtr<X509> root_, intermediate_, untrusted_root_, untrusted_intermediate_;
  std::string root_pem_;
};

// A TLS server context presenting `cert` (leaf + intermediates), protocol versions [min, max]
// (TLS1_VERSION..TLS1_3_VERSION), no session tickets or resumption: every connection is a full
// handshake, as a scanner's first contact is.
absl::StatusOr<bssl::UniquePtr<SSL_CTX>> NewServerContext(const IssuedCert& cert,
                                                          uint16_t min_version,
                                                          uint16_t max_version);

}  // namespace mxray::fleet

#endif  // MXRAY_TOOLS_FLEET_TEST_CA_H_
