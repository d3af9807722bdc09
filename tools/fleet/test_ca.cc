// The fleet's test CA (see test_ca.h): key generation, certificate building with the extensions a
// public CA puts in, PEM output, and the server context.
#include "tools/fleet/test_ca.h"

#include <openssl/bn.h>
#include <openssl/ec_key.h>
#include <openssl/err.h>
#include <openssl/nid.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace mxray::fleet {
namespace {

constexpr int64_t kDaySeconds = 86400;

absl::Status SslError(const std::string& what) {
  char reason[256] = "unknown error";
  if (uint32_t e = ERR_get_error()) ERR_error_string_n(e, reason, sizeof(reason));
  ERR_clear_error();
  return absl::InternalError(absl::StrCat(what, ": ", reason));
}

absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> NewEcKey() {
  bssl::UniquePtr<EC_KEY> ec(EC_KEY_new_by_curve_name(NID_X9_62_prime256v1));
  bssl::UniquePtr<EVP_PKEY> key(EVP_PKEY_new());
  if (!ec || !key || !EC_KEY_generate_key(ec.get()) ||
      !EVP_PKEY_assign_EC_KEY(key.get(), ec.release())) {
    return SslError("ECDSA P-256 key generation");
  }
  return key;
}

absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> NewRsaKey() {
  bssl::UniquePtr<RSA> rsa(RSA_new());
  bssl::UniquePtr<BIGNUM> e(BN_new());
  bssl::UniquePtr<EVP_PKEY> key(EVP_PKEY_new());
  if (!rsa || !e || !key || !BN_set_word(e.get(), RSA_F4) ||
      !RSA_generate_key_ex(rsa.get(), 2048, e.get(), nullptr) ||
      !EVP_PKEY_assign_RSA(key.get(), rsa.release())) {
    return SslError("RSA-2048 key generation");
  }
  return key;
}

// The process's one RSA leaf key, made on first use; shared by every TestCa.
absl::StatusOr<EVP_PKEY*> SharedRsaKey() {
  static EVP_PKEY* key = nullptr;  // never freed: lives as long as the process
  static std::mutex key_mu;
  std::lock_guard<std::mutex> lock(key_mu);
  if (key == nullptr) {
    absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> made = NewRsaKey();
    if (!made.ok()) return made.status();
    key = made->release();
  }
  return key;
}

bssl::UniquePtr<EVP_PKEY> Ref(EVP_PKEY* key) {
  EVP_PKEY_up_ref(key);
  return bssl::UniquePtr<EVP_PKEY>(key);
}

bssl::UniquePtr<X509> Ref(X509* cert) {
  X509_up_ref(cert);
  return bssl::UniquePtr<X509>(cert);
}

int64_t Now() { return int64_t(std::time(nullptr)); }

// What one certificate says; the issuer signs it.
struct Draft {
  std::string common_name;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  int64_t not_before = 0;
  int64_t not_after = 0;
  bool ca = false;
  bool self_signed_leaf = false;  // a leaf that is its own issuer
  bool rsa_key = false;
};

absl::Status AddExtension(X509* cert, X509V3_CTX* ctx, const char* name, const std::string& value) {
  bssl::UniquePtr<X509_EXTENSION> ext(X509V3_EXT_nconf(nullptr, ctx, name, value.c_str()));
  if (!ext || !X509_add_ext(cert, ext.get(), -1)) {
    return SslError(absl::StrCat("extension ", name, "=", value));
  }
  return absl::OkStatus();
}

// Builds and signs a certificate for `subject_key`; `issuer` null means self-signed.
absl::StatusOr<bssl::UniquePtr<X509>> Build(const Draft& d, EVP_PKEY* subject_key, X509* issuer,
                                            EVP_PKEY* issuer_key) {
  bssl::UniquePtr<X509> cert(X509_new());
  if (!cert || !X509_set_version(cert.get(), X509_VERSION_3)) return SslError("X509_new");

  // RFC 5280 §4.1.2.2: positive, at most 20 octets; 16 random bytes with the top bit clear.
  uint8_t serial_bytes[16];
  RAND_bytes(serial_bytes, sizeof(serial_bytes));
  serial_bytes[0] = (serial_bytes[0] & 0x7f) | 0x01;
  bssl::UniquePtr<BIGNUM> serial(BN_bin2bn(serial_bytes, sizeof(serial_bytes), nullptr));
  bssl::UniquePtr<ASN1_INTEGER> serial_asn1(BN_to_ASN1_INTEGER(serial.get(), nullptr));
  if (!serial_asn1 || !X509_set_serialNumber(cert.get(), serial_asn1.get())) {
    return SslError("serial number");
  }

  bssl::UniquePtr<ASN1_TIME> not_before(ASN1_TIME_set(nullptr, time_t(d.not_before)));
  bssl::UniquePtr<ASN1_TIME> not_after(ASN1_TIME_set(nullptr, time_t(d.not_after)));
  if (!not_before || !not_after || !X509_set1_notBefore(cert.get(), not_before.get()) ||
      !X509_set1_notAfter(cert.get(), not_after.get())) {
    return SslError("validity");
  }

  X509_NAME* subject = X509_get_subject_name(cert.get());
  if (!X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_UTF8,
                                  reinterpret_cast<const uint8_t*>("mxray fleet"), -1, -1, 0)) {
    return SslError("subject");
  }
  if (!d.common_name.empty() &&
      !X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                  reinterpret_cast<const uint8_t*>(d.common_name.data()),
                                  int(d.common_name.size()), -1, 0)) {
    return SslError("subject CN");
  }
  if (!X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : subject) ||
      !X509_set_pubkey(cert.get(), subject_key)) {
    return SslError("issuer or public key");
  }

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  absl::Status s = AddExtension(cert.get(), &ctx, "basicConstraints",
                                d.ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  // A CA signs certificates; a leaf signs handshakes, and an RSA one also decrypts the RSA key
  // exchange of TLS 1.0-1.2 clients. A self-signed leaf signs itself too: without keyCertSign
  // verifiers call it a certificate with an unknown issuer rather than a self-signed one.
  std::string usage = d.ca                 ? "critical,keyCertSign,cRLSign"
                      : d.self_signed_leaf ? "critical,digitalSignature,keyCertSign"
                                           : "critical,digitalSignature";
  if (!d.ca && d.rsa_key) usage += ",keyEncipherment";
  if (s.ok()) s = AddExtension(cert.get(), &ctx, "keyUsage", usage);
  if (s.ok() && !d.ca) s = AddExtension(cert.get(), &ctx, "extendedKeyUsage", "serverAuth");
  if (s.ok()) s = AddExtension(cert.get(), &ctx, "subjectKeyIdentifier", "hash");
  if (s.ok()) s = AddExtension(cert.get(), &ctx, "authorityKeyIdentifier", "keyid:always");
  std::vector<std::string> san;
  for (const std::string& n : d.dns_names) san.push_back("DNS:" + n);
  for (const std::string& ip : d.ip_addresses) san.push_back("IP:" + ip);
  if (s.ok() && !san.empty()) {
    s = AddExtension(cert.get(), &ctx, "subjectAltName", absl::StrJoin(san, ","));
  }
  if (!s.ok()) return s;

  if (!X509_sign(cert.get(), issuer_key ? issuer_key : subject_key, EVP_sha256())) {
    return SslError("X509_sign");
  }
  return cert;
}

absl::Status AppendPem(X509* cert, std::string* out) {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  const uint8_t* data;
  size_t len;
  if (!bio || !PEM_write_bio_X509(bio.get(), cert) || !BIO_mem_contents(bio.get(), &data, &len)) {
    return SslError("PEM certificate");
  }
  out->append(reinterpret_cast<const char*>(data), len);
  return absl::OkStatus();
}

absl::StatusOr<std::string> KeyPem(EVP_PKEY* key) {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  const uint8_t* data;
  size_t len;
  if (!bio || !PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) ||
      !BIO_mem_contents(bio.get(), &data, &len)) {
    return SslError("PEM key");
  }
  return std::string(reinterpret_cast<const char*>(data), len);
}

// A CA certificate valid from ten years ago to ten years ahead: never the reason a chain fails.
absl::StatusOr<bssl::UniquePtr<X509>> BuildCa(const std::string& name, EVP_PKEY* key, X509* issuer,
                                              EVP_PKEY* issuer_key) {
  const int64_t now = Now();
  return Build({.common_name = name,
                .not_before = now - 3650 * kDaySeconds,
                .not_after = now + 3650 * kDaySeconds,
                .ca = true},
               key, issuer, issuer_key);
}

}  // namespace

absl::StatusOr<std::unique_ptr<TestCa>> TestCa::Create(TestKeyType ca_key) {
  std::unique_ptr<TestCa> ca(new TestCa);
  const bool rsa = ca_key == TestKeyType::kRsa2048;
  for (bssl::UniquePtr<EVP_PKEY>* key :
       {&ca->root_key_, &ca->intermediate_key_, &ca->untrusted_root_key_,
        &ca->untrusted_intermediate_key_, &ca->ec_leaf_key_}) {
    const bool trusted_ca = key == &ca->root_key_ || key == &ca->intermediate_key_;
    absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> made = rsa && trusted_ca ? NewRsaKey() : NewEcKey();
    if (!made.ok()) return made.status();
    *key = *std::move(made);
  }
  struct Step {
    const char* name;
    bssl::UniquePtr<X509>* cert;
    EVP_PKEY* key;
    bssl::UniquePtr<X509>* issuer;
    EVP_PKEY* issuer_key;
  };
  const Step steps[] = {
      {"mxray fleet test root", &ca->root_, ca->root_key_.get(), nullptr, nullptr},
      {"mxray fleet test intermediate", &ca->intermediate_, ca->intermediate_key_.get(), &ca->root_,
       ca->root_key_.get()},
      {"mxray fleet untrusted root", &ca->untrusted_root_, ca->untrusted_root_key_.get(), nullptr,
       nullptr},
      {"mxray fleet untrusted intermediate", &ca->untrusted_intermediate_,
       ca->untrusted_intermediate_key_.get(), &ca->untrusted_root_, ca->untrusted_root_key_.get()},
  };
  for (const Step& step : steps) {
    absl::StatusOr<bssl::UniquePtr<X509>> cert =
        BuildCa(step.name, step.key, step.issuer ? step.issuer->get() : nullptr, step.issuer_key);
    if (!cert.ok()) return cert.status();
    *step.cert = *std::move(cert);
  }
  absl::Status s = AppendPem(ca->root_.get(), &ca->root_pem_);
  if (!s.ok()) return s;
  return ca;
}

absl::StatusOr<IssuedCert> TestCa::Issue(const CertSpec& spec) {
  const int64_t now = Now();
  const bool rsa = spec.key == TestKeyType::kRsa2048;
  IssuedCert out;
  if (rsa) {
    absl::StatusOr<EVP_PKEY*> key = SharedRsaKey();
    if (!key.ok()) return key.status();
    out.key = Ref(*key);
  } else {
    out.key = Ref(ec_leaf_key_.get());
  }
  Draft d{.common_name = spec.common_name,
          .dns_names = spec.dns_names,
          .ip_addresses = spec.ip_addresses,
          .not_before = spec.not_before ? spec.not_before : now - kDaySeconds,
          .not_after = spec.not_after ? spec.not_after : now + 90 * kDaySeconds,
          .self_signed_leaf = spec.issuer == CertSpec::Issuer::kSelf,
          .rsa_key = rsa};
  if (d.common_name.empty() && !d.dns_names.empty()) d.common_name = d.dns_names.front();

  X509* issuer = nullptr;
  EVP_PKEY* issuer_key = nullptr;
  switch (spec.issuer) {
    case CertSpec::Issuer::kIntermediate:
      issuer = intermediate_.get();
      issuer_key = intermediate_key_.get();
      out.intermediates.push_back(Ref(intermediate_.get()));
      break;
    case CertSpec::Issuer::kRoot:
      issuer = root_.get();
      issuer_key = root_key_.get();
      break;
    case CertSpec::Issuer::kSelf:
      break;
    case CertSpec::Issuer::kUntrustedCa:
      issuer = untrusted_intermediate_.get();
      issuer_key = untrusted_intermediate_key_.get();
      out.intermediates.push_back(Ref(untrusted_intermediate_.get()));
      break;
  }
  absl::StatusOr<bssl::UniquePtr<X509>> leaf = Build(d, out.key.get(), issuer, issuer_key);
  if (!leaf.ok()) return leaf.status();
  out.leaf = *std::move(leaf);

  absl::Status s = AppendPem(out.leaf.get(), &out.chain_pem);
  for (size_t i = 0; s.ok() && i < out.intermediates.size(); ++i) {
    s = AppendPem(out.intermediates[i].get(), &out.chain_pem);
  }
  if (!s.ok()) return s;
  absl::StatusOr<std::string> key_pem = KeyPem(out.key.get());
  if (!key_pem.ok()) return key_pem.status();
  out.key_pem = *std::move(key_pem);
  return out;
}

absl::Status TestCa::WriteRootPem(const std::string& path) const {
  FILE* f = std::fopen(path.c_str(), "we");
  if (f == nullptr) return absl::ErrnoToStatus(errno, absl::StrCat("open ", path));
  const bool written = std::fwrite(root_pem_.data(), 1, root_pem_.size(), f) == root_pem_.size();
  const int saved = errno;
  if (std::fclose(f) != 0 || !written) {
    return absl::ErrnoToStatus(written ? errno : saved, absl::StrCat("write ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<bssl::UniquePtr<SSL_CTX>> NewServerContext(const IssuedCert& cert,
                                                          uint16_t min_version,
                                                          uint16_t max_version) {
  if (min_version < TLS1_VERSION || max_version > TLS1_3_VERSION || min_version > max_version) {
    return absl::InvalidArgumentError(
        absl::StrCat("TLS versions [", min_version, ", ", max_version, "] out of range"));
  }
  if (!cert.leaf || !cert.key) return absl::InvalidArgumentError("no certificate or key");
  bssl::UniquePtr<SSL_CTX> ctx(SSL_CTX_new(TLS_method()));
  if (!ctx || !SSL_CTX_set_min_proto_version(ctx.get(), min_version) ||
      !SSL_CTX_set_max_proto_version(ctx.get(), max_version)) {
    return SslError("SSL_CTX");
  }
  if (!SSL_CTX_use_certificate(ctx.get(), cert.leaf.get())) return SslError("certificate");
  for (const bssl::UniquePtr<X509>& c : cert.intermediates) {
    if (!SSL_CTX_add1_chain_cert(ctx.get(), c.get())) return SslError("chain certificate");
  }
  if (!SSL_CTX_use_PrivateKey(ctx.get(), cert.key.get()) || !SSL_CTX_check_private_key(ctx.get())) {
    return SslError("private key");
  }
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET);
  SSL_CTX_set_num_tickets(ctx.get(), 0);
  return ctx;
}

}  // namespace mxray::fleet
