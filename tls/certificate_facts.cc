// Certificate facts. Everything is bounded by the certificate itself, which BoringSSL has
// already parsed within the handshake's size limit.
#include "tls/certificate_facts.h"

#include <arpa/inet.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/digest.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/obj.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cctype>

#include "absl/strings/escaping.h"

namespace mxray::tls {
namespace {

std::string BioText(BIO* bio) {
  const uint8_t* data = nullptr;
  size_t len = 0;
  if (!BIO_mem_contents(bio, &data, &len)) return {};
  return std::string(reinterpret_cast<const char*>(data), len);
}

std::string StringOf(const ASN1_STRING* s) {
  if (s == nullptr) return {};
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, s);
  if (n < 0) return {};
  std::string out(reinterpret_cast<char*>(utf8), size_t(n));
  OPENSSL_free(utf8);
  return out;
}

std::string LastCommonName(X509_NAME* name) {
  int last = -1;
  for (int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(name, NID_commonName, i)) {
    last = i;
  }
  if (last < 0) return {};
  return StringOf(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, last)));
}

void ReadSans(X509* cert, CertificateFacts* f) {
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return;
  for (size_t i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type == GEN_DNS) {
      // IA5String: taken as bytes; a name with controls or NULs can never match anyway.
      const ASN1_STRING* s = gn->d.dNSName;
      f->san_dns.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                              size_t(ASN1_STRING_length(s)));
    } else if (gn->type == GEN_IPADD) {
      const ASN1_STRING* s = gn->d.iPAddress;
      char text[INET6_ADDRSTRLEN] = {};
      int len = ASN1_STRING_length(s);
      const uint8_t* p = ASN1_STRING_get0_data(s);
      if (len == 4 && inet_ntop(AF_INET, p, text, sizeof(text))) f->san_ip.emplace_back(text);
      if (len == 16 && inet_ntop(AF_INET6, p, text, sizeof(text))) f->san_ip.emplace_back(text);
    }
  }
  GENERAL_NAMES_free(names);
}

void ReadKey(X509* cert, CertificateFacts* f) {
  EVP_PKEY* key = X509_get_pubkey(cert);
  if (key == nullptr) {
    f->key_type = "unknown";
    return;
  }
  switch (EVP_PKEY_id(key)) {
    case EVP_PKEY_RSA:
      f->key_type = "RSA";
      break;
    case EVP_PKEY_EC: {
      f->key_type = "EC";
      const EC_KEY* ec = EVP_PKEY_get0_EC_KEY(key);
      switch (EC_GROUP_get_curve_name(EC_KEY_get0_group(ec))) {
        case NID_X9_62_prime256v1:
          f->key_curve = "P-256";
          break;
        case NID_secp384r1:
          f->key_curve = "P-384";
          break;
        case NID_secp521r1:
          f->key_curve = "P-521";
          break;
        case NID_secp224r1:
          f->key_curve = "P-224";
          break;
        default:
          f->key_curve = "unknown";
      }
      break;
    }
    case EVP_PKEY_ED25519:
      f->key_type = "Ed25519";
      break;
    case EVP_PKEY_DSA:
      f->key_type = "DSA";
      break;
    default:
      f->key_type = "unknown";
  }
  f->key_bits = uint32_t(EVP_PKEY_bits(key));
  EVP_PKEY_free(key);
}

}  // namespace

bool AsnTimeToUnix(const ASN1_TIME* t, int64_t* out) {
  // This BoringSSL has no ASN1_TIME_to_posix; the difference from the epoch says the same.
  static ASN1_TIME* const kEpoch = ASN1_TIME_set(nullptr, 0);
  int days = 0, seconds = 0;
  if (t == nullptr || !ASN1_TIME_diff(&days, &seconds, kEpoch, t)) return false;
  *out = int64_t(days) * 86400 + seconds;
  return true;
}

std::string NameText(X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return {};
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
  std::string out = BioText(bio);
  BIO_free(bio);
  return out;
}

std::string ChainPem(STACK_OF(X509) * chain) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return {};
  for (size_t i = 0; i < sk_X509_num(chain); ++i) PEM_write_bio_X509(bio, sk_X509_value(chain, i));
  std::string out = BioText(bio);
  BIO_free(bio);
  return out;
}

CertificateFacts ExtractCertificateFacts(X509* cert) {
  CertificateFacts f;
  X509_NAME* subject = X509_get_subject_name(cert);
  X509_NAME* issuer = X509_get_issuer_name(cert);
  f.subject = NameText(subject);
  f.issuer = NameText(issuer);
  f.common_name = LastCommonName(subject);
  f.self_issued = X509_NAME_cmp(subject, issuer) == 0;
  if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
    if (char* hex = BN_bn2hex(bn)) {
      f.serial = hex;
      for (char& c : f.serial) c = char(std::tolower(static_cast<unsigned char>(c)));
      OPENSSL_free(hex);
    }
    BN_free(bn);
  }
  ReadSans(cert, &f);
  AsnTimeToUnix(X509_get0_notBefore(cert), &f.not_before);
  AsnTimeToUnix(X509_get0_notAfter(cert), &f.not_after);
  ReadKey(cert, &f);
  int sig_nid = X509_get_signature_nid(cert);
  const char* sig = sig_nid == NID_undef ? nullptr : OBJ_nid2ln(sig_nid);
  f.signature_algorithm = sig ? sig : "unknown";
  uint8_t md[EVP_MAX_MD_SIZE];
  unsigned md_len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &md_len)) {
    f.sha256 = absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(md), md_len));
  }
  return f;
}

}  // namespace mxray::tls
