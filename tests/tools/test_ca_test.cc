// The fleet's test CA: every issuer and validity variant, read back with BoringSSL's own parsers
// and verifier, and handshakes with NewServerContext over a BIO pair (no sockets) for each
// protocol version the fleet pins.
#include "tools/fleet/test_ca.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/nid.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace mxray::fleet {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using Issuer = CertSpec::Issuer;

constexpr int64_t kDay = 86400;

int64_t Now() { return int64_t(std::time(nullptr)); }

std::unique_ptr<TestCa> NewCa() {
  absl::StatusOr<std::unique_ptr<TestCa>> ca = TestCa::Create();
  EXPECT_TRUE(ca.ok()) << ca.status();
  return ca.ok() ? *std::move(ca) : nullptr;
}

IssuedCert MustIssue(TestCa& ca, const CertSpec& spec) {
  absl::StatusOr<IssuedCert> cert = ca.Issue(spec);
  EXPECT_TRUE(cert.ok()) << cert.status();
  return cert.ok() ? *std::move(cert) : IssuedCert{};
}

std::string NameEntry(X509_NAME* name, int nid) {
  char buf[256];
  int n = X509_NAME_get_text_by_NID(name, nid, buf, sizeof(buf));
  return n < 0 ? std::string() : std::string(buf, size_t(n));
}

// The subjectAltName entries as "DNS:x" and "IP:a.b.c.d" / "IP:16 bytes".
std::vector<std::string> SanEntries(X509* cert) {
  std::vector<std::string> out;
  bssl::UniquePtr<GENERAL_NAMES> names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return out;
  for (size_t i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(names.get(), i);
    if (g->type == GEN_DNS) {
      out.push_back("DNS:" +
                    std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(g->d.dNSName)),
                                size_t(ASN1_STRING_length(g->d.dNSName))));
    } else if (g->type == GEN_IPADD) {
      out.push_back("IP:" + std::to_string(ASN1_STRING_length(g->d.iPAddress)) + " bytes");
    }
  }
  return out;
}

// X509_verify_cert of `cert` with its intermediates as untrusted certificates, against a store
// that trusts only what `trusted_pem` holds; the X509_V_ code.
int Verify(const IssuedCert& cert, const std::string& trusted_pem) {
  bssl::UniquePtr<X509_STORE> store(X509_STORE_new());
  bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(trusted_pem.data(), ssize_t(trusted_pem.size())));
  while (X509* root = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store.get(), root);
    X509_free(root);
  }
  ERR_clear_error();  // the end of the PEM data
  // Each element holds its own reference: the stack's deleter frees them.
  bssl::UniquePtr<STACK_OF(X509)> untrusted(sk_X509_new_null());
  for (const auto& c : cert.intermediates) {
    X509_up_ref(c.get());
    sk_X509_push(untrusted.get(), c.get());
  }
  bssl::UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  EXPECT_TRUE(X509_STORE_CTX_init(ctx.get(), store.get(), cert.leaf.get(), untrusted.get()));
  X509_VERIFY_PARAM_set_purpose(X509_STORE_CTX_get0_param(ctx.get()), X509_PURPOSE_SSL_SERVER);
  const int ok = X509_verify_cert(ctx.get());
  const int error = X509_STORE_CTX_get_error(ctx.get());
  EXPECT_EQ(ok == 1, error == X509_V_OK);
  return error;
}

std::string PemOf(X509* cert) {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  const uint8_t* data;
  size_t len;
  BIO_mem_contents(bio.get(), &data, &len);
  return std::string(reinterpret_cast<const char*>(data), len);
}

TEST(TestCaTest, LeafUnderTheIntermediateCarriesItsNamesAndVerifies) {
  std::unique_ptr<TestCa> ca = NewCa();
  ASSERT_NE(ca, nullptr);
  IssuedCert c = MustIssue(*ca, {.dns_names = {"mx1.provider-3.test", "mx.other.test"},
                                 .ip_addresses = {"127.1.0.1", "::1"}});
  ASSERT_NE(c.leaf, nullptr);
  EXPECT_EQ(NameEntry(X509_get_subject_name(c.leaf.get()), NID_commonName), "mx1.provider-3.test");
  EXPECT_THAT(SanEntries(c.leaf.get()), ElementsAre("DNS:mx1.provider-3.test", "DNS:mx.other.test",
                                                    "IP:4 bytes", "IP:16 bytes"));
  EXPECT_EQ(X509_check_host(c.leaf.get(), "mx1.provider-3.test", strlen("mx1.provider-3.test"), 0,
                            nullptr),
            1);
  EXPECT_EQ(X509_check_host(c.leaf.get(), "mx2.provider-3.test", strlen("mx2.provider-3.test"), 0,
                            nullptr),
            0);
  EXPECT_EQ(X509_check_ip_asc(c.leaf.get(), "127.1.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(c.leaf.get(), "::1", 0), 1);

  // One intermediate, signed by the root, which is what root_pem holds.
  ASSERT_THAT(c.intermediates, SizeIs(1));
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(c.leaf.get()),
                          X509_get_subject_name(c.intermediates[0].get())),
            0);
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(c.intermediates[0].get()),
                          X509_get_subject_name(ca->root())),
            0);
  EXPECT_EQ(NameEntry(X509_get_subject_name(ca->root()), NID_commonName), "mxray fleet test root");
  EXPECT_EQ(ca->root_pem(), PemOf(ca->root()));
  EXPECT_EQ(Verify(c, ca->root_pem()), X509_V_OK);

  // Default validity: a day ago to 90 days ahead.
  const int64_t now = Now();
  time_t t = time_t(now - kDay + 3600);
  EXPECT_LT(X509_cmp_time(X509_get0_notBefore(c.leaf.get()), &t), 0);
  t = time_t(now - kDay - 3600);
  EXPECT_GT(X509_cmp_time(X509_get0_notBefore(c.leaf.get()), &t), 0);
  t = time_t(now + 89 * kDay);
  EXPECT_GT(X509_cmp_time(X509_get0_notAfter(c.leaf.get()), &t), 0);
  t = time_t(now + 91 * kDay);
  EXPECT_LT(X509_cmp_time(X509_get0_notAfter(c.leaf.get()), &t), 0);

  // ECDSA P-256 unless asked otherwise.
  EXPECT_EQ(EVP_PKEY_id(c.key.get()), EVP_PKEY_EC);
  EXPECT_EQ(EVP_PKEY_bits(c.key.get()), 256);
  bssl::UniquePtr<EVP_PKEY> pub(X509_get_pubkey(c.leaf.get()));
  EXPECT_EQ(EVP_PKEY_cmp(pub.get(), c.key.get()), 1);
}

TEST(TestCaTest, ExtensionsAreThoseOfAPublicCa) {
  std::unique_ptr<TestCa> ca = NewCa();
  ASSERT_NE(ca, nullptr);
  IssuedCert a = MustIssue(*ca, {.dns_names = {"a.test"}});
  IssuedCert b = MustIssue(*ca, {.dns_names = {"a.test"}});
  for (X509* cert : {a.leaf.get(), b.leaf.get()}) {
    EXPECT_EQ(X509_get_version(cert), X509_VERSION_3);
    EXPECT_EQ(X509_get_signature_nid(cert), NID_ecdsa_with_SHA256);
    EXPECT_EQ(ASN1_STRING_length(X509_get0_serialNumber(cert)), 16);
    const uint32_t flags = X509_get_extension_flags(cert);
    EXPECT_TRUE(flags & EXFLAG_BCONS);
    EXPECT_FALSE(flags & EXFLAG_CA);
    EXPECT_EQ(X509_get_key_usage(cert), uint32_t(KU_DIGITAL_SIGNATURE));
    EXPECT_EQ(X509_get_extended_key_usage(cert), uint32_t(XKU_SSL_SERVER));
    // basicConstraints is critical.
    const int bc = X509_get_ext_by_NID(cert, NID_basic_constraints, -1);
    ASSERT_GE(bc, 0);
    EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(cert, bc)), 1);
  }
  EXPECT_NE(
      ASN1_INTEGER_cmp(X509_get0_serialNumber(a.leaf.get()), X509_get0_serialNumber(b.leaf.get())),
      0);
  for (X509* cert : {ca->root(), a.intermediates[0].get()}) {
    EXPECT_TRUE(X509_get_extension_flags(cert) & EXFLAG_CA);
    EXPECT_EQ(X509_get_key_usage(cert), uint32_t(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
    const int bc = X509_get_ext_by_NID(cert, NID_basic_constraints, -1);
    ASSERT_GE(bc, 0);
    EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(cert, bc)), 1);
  }
}

TEST(TestCaTest, RsaLeavesShareOneKey) {
  std::unique_ptr<TestCa> ca = NewCa();
  ASSERT_NE(ca, nullptr);
  IssuedCert a = MustIssue(*ca, {.dns_names = {"a.test"}, .key = TestKeyType::kRsa2048});
  IssuedCert b = MustIssue(*ca, {.dns_names = {"b.test"}, .key = TestKeyType::kRsa2048});
  EXPECT_EQ(EVP_PKEY_id(a.key.get()), EVP_PKEY_RSA);
  EXPECT_EQ(EVP_PKEY_bits(a.key.get()), 2048);
  EXPECT_EQ(EVP_PKEY_cmp(a.key.get(), b.key.get()), 1);
  EXPECT_EQ(X509_get_key_usage(a.leaf.get()), uint32_t(KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
  EXPECT_EQ(Verify(a, ca->root_pem()), X509_V_OK);
  // The leaf is still signed with the CA's ECDSA key.
  EXPECT_EQ(X509_get_signature_nid(a.leaf.get()), NID_ecdsa_with_SHA256);
}

TEST(TestCaTest, CommonNameIsExplicitFirstNameOrNone) {
  std::unique_ptr<TestCa> ca = NewCa();
  ASSERT_NE(ca, nullptr);
  IssuedCert named = MustIssue(*ca, {.dns_names = {"a.test"}, .common_name = "other.test"});
  EXPECT_EQ(NameEntry(X509_get_subject_name(named.leaf.get()), NID_commonName), "other.test");
  IssuedCert ip_only = MustIssue(*ca, {.ip_addresses = {"127.0.0.1"}});
  EXPECT_EQ(NameEntry(X509_get_subject_name(ip_only.leaf.get()), NID_commonName), "");
  EXPECT_THAT(SanEntries(ip_only.leaf.get()), ElementsAre("IP:4 bytes"));
  IssuedCert nothing = MustIssue(*ca, {});
  EXPECT_THAT(SanEntries(nothing.leaf.get()), IsEmpty());
}

TEST(TestCaTest, RootIssuedLeafHasNoIntermediates) {
  std::unique_ptr<TestCa> ca = NewCa();
  ASSERT_NE(ca, nullptr);
  IssuedCert c = MustIssue(*ca, {.dns_names = {"a.test"}, .issuer = Issuer::kRoot});
  EXPECT_THAT(c.intermediates, IsEmpty());
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(c.leaf.get()), X509_get_subject_name(ca->root())),
            0);
  EXPECT_EQ(Verify(c, ca->root_pem()), X509_V_OK);
}

TEST(TestCaTest, SelfSignedLeafIsCalledSelfSigned) {
  std::unique_ptr<TestCa> ca = NewCa();
  ASSERT_NE(ca, nullptr);
  IssuedCert c = MustIssue(*ca, {.dns_names = {"a.test"}, .issuer = Issuer::kSelf});
  EXPECT_THAT(c.intermediates, IsEmpty());
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(c.leaf.get()), X509_get_subject_name(c.leaf.get())),
            0);
  EXPECT_EQ(Verify(c, ca->root_pem()), X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
  EXPECT_EQ(X509_check_host(c.leaf.get(), "a.test", strlen("a.test"), 0, nullptr), 1);
}

TEST(TestCaTest, UntrustedCaChainIsCompleteButNotTrusted) {
  std::unique_ptr<TestCa> ca = NewCa();
  ASSERT_NE(ca, nullptr);
  IssuedCert c = MustIssue(*ca, {.dns_names = {"a.test"}, .issuer = Issuer::kUntrustedCa});
  ASSERT_THAT(c.intermediates, SizeIs(1));
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(c.intermediates[0].get()),
                          X509_get_subject_name(ca->untrusted_root())),
            0);
  EXPECT_EQ(Verify(c, ca->root_pem()), X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
  // The chain itself is sound: it verifies against the untrusted root.
  EXPECT_EQ(Verify(c, PemOf(ca->untrusted_root())), X509_V_OK);
  // And the fleet's root PEM holds the trusted root only.
  EXPECT_EQ(ca->root_pem().find(PemOf(ca->untrusted_root())), std::string::npos);
}

TEST(TestCaTest, ValidityWindowsInThePastAndFuture) {
  std::unique_ptr<TestCa> ca = NewCa();
  ASSERT_NE(ca, nullptr);
  const int64_t now = Now();
  IssuedCert expired = MustIssue(
      *ca, {.dns_names = {"a.test"}, .not_before = now - 100 * kDay, .not_after = now - 10 * kDay});
  EXPECT_EQ(Verify(expired, ca->root_pem()), X509_V_ERR_CERT_HAS_EXPIRED);
  IssuedCert early = MustIssue(
      *ca, {.dns_names = {"a.test"}, .not_before = now + 10 * kDay, .not_after = now + 100 * kDay});
  EXPECT_EQ(Verify(early, ca->root_pem()), X509_V_ERR_CERT_NOT_YET_VALID);
}

TEST(TestCaTest, PemOutputsParseBack) {
  std::unique_ptr<TestCa> ca = NewCa();
  ASSERT_NE(ca, nullptr);
  IssuedCert c = MustIssue(*ca, {.dns_names = {"a.test"}, .key = TestKeyType::kRsa2048});
  bssl::UniquePtr<BIO> chain(BIO_new_mem_buf(c.chain_pem.data(), ssize_t(c.chain_pem.size())));
  bssl::UniquePtr<X509> leaf(PEM_read_bio_X509(chain.get(), nullptr, nullptr, nullptr));
  bssl::UniquePtr<X509> intermediate(PEM_read_bio_X509(chain.get(), nullptr, nullptr, nullptr));
  ASSERT_NE(leaf, nullptr);
  ASSERT_NE(intermediate, nullptr);
  EXPECT_EQ(X509_cmp(leaf.get(), c.leaf.get()), 0);
  EXPECT_EQ(X509_cmp(intermediate.get(), c.intermediates[0].get()), 0);
  EXPECT_EQ(PEM_read_bio_X509(chain.get(), nullptr, nullptr, nullptr), nullptr);
  ERR_clear_error();
  bssl::UniquePtr<BIO> key_bio(BIO_new_mem_buf(c.key_pem.data(), ssize_t(c.key_pem.size())));
  bssl::UniquePtr<EVP_PKEY> key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(EVP_PKEY_cmp(key.get(), c.key.get()), 1);
}

TEST(TestCaTest, WriteRootPemWritesTheTrustedRoot) {
  std::unique_ptr<TestCa> ca = NewCa();
  ASSERT_NE(ca, nullptr);
  char path[] = "/tmp/mxray-test-ca-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  ASSERT_TRUE(ca->WriteRootPem(path).ok());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), ca->root_pem());
  unlink(path);
  EXPECT_FALSE(ca->WriteRootPem("/nonexistent-dir/ca.pem").ok());
}

TEST(TestCaTest, ServerContextRejectsVersionsOutOfRange) {
  std::unique_ptr<TestCa> ca = NewCa();
  ASSERT_NE(ca, nullptr);
  IssuedCert c = MustIssue(*ca, {.dns_names = {"a.test"}});
  EXPECT_EQ(NewServerContext(c, TLS1_3_VERSION, TLS1_2_VERSION).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(NewServerContext(c, SSL3_VERSION, TLS1_2_VERSION).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(NewServerContext(IssuedCert{}, TLS1_VERSION, TLS1_3_VERSION).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// A client and a server joined by a BIO pair: each side's writes are the other's reads.
struct Handshake {
  bssl::UniquePtr<SSL_CTX> client_ctx;
  bssl::UniquePtr<SSL> client, server;
  bool done = false;
  std::string error;
};

Handshake RunHandshake(TestCa& ca, SSL_CTX* server_ctx, const char* sni) {
  Handshake h;
  h.client_ctx.reset(SSL_CTX_new(TLS_method()));
  SSL_CTX_set_min_proto_version(h.client_ctx.get(), TLS1_VERSION);
  SSL_CTX_set_max_proto_version(h.client_ctx.get(), TLS1_3_VERSION);
  X509_STORE_add_cert(SSL_CTX_get_cert_store(h.client_ctx.get()), ca.root());
  SSL_CTX_set_verify(h.client_ctx.get(), SSL_VERIFY_PEER, nullptr);
  h.client.reset(SSL_new(h.client_ctx.get()));
  h.server.reset(SSL_new(server_ctx));
  SSL_set_tlsext_host_name(h.client.get(), sni);
  X509_VERIFY_PARAM_set1_host(SSL_get0_param(h.client.get()), sni, strlen(sni));
  BIO *client_bio, *server_bio;
  EXPECT_TRUE(BIO_new_bio_pair(&client_bio, 0, &server_bio, 0));
  SSL_set_bio(h.client.get(), client_bio, client_bio);
  SSL_set_bio(h.server.get(), server_bio, server_bio);
  SSL_set_connect_state(h.client.get());
  SSL_set_accept_state(h.server.get());
  for (int round = 0; round < 20 && !h.done; ++round) {
    bool both = true;
    for (SSL* ssl : {h.client.get(), h.server.get()}) {
      const int r = SSL_do_handshake(ssl);
      if (r == 1) continue;
      both = false;
      const int e = SSL_get_error(ssl, r);
      if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
        char reason[256];
        ERR_error_string_n(ERR_get_error(), reason, sizeof(reason));
        h.error = reason;
        return h;
      }
    }
    h.done = both;
  }
  return h;
}

class TestCaHandshakeTest : public ::testing::TestWithParam<std::tuple<uint16_t, TestKeyType>> {};

TEST_P(TestCaHandshakeTest, PinnedVersionCompletesAndTheChainVerifies) {
  const auto [version, key] = GetParam();
  std::unique_ptr<TestCa> ca = NewCa();
  ASSERT_NE(ca, nullptr);
  IssuedCert cert = MustIssue(*ca, {.dns_names = {"mx.a.test"}, .key = key});
  absl::StatusOr<bssl::UniquePtr<SSL_CTX>> server_ctx = NewServerContext(cert, version, version);
  ASSERT_TRUE(server_ctx.ok()) << server_ctx.status();
  Handshake h = RunHandshake(*ca, server_ctx->get(), "mx.a.test");
  ASSERT_TRUE(h.done) << h.error;
  EXPECT_EQ(SSL_version(h.client.get()), version);
  EXPECT_EQ(SSL_get_verify_result(h.client.get()), X509_V_OK);
  EXPECT_STREQ(SSL_get_servername(h.server.get(), TLSEXT_NAMETYPE_host_name), "mx.a.test");
  // The server sent leaf + intermediate.
  STACK_OF(X509)* chain = SSL_get_peer_full_cert_chain(h.client.get());
  ASSERT_NE(chain, nullptr);
  EXPECT_EQ(sk_X509_num(chain), 2u);
  bssl::UniquePtr<X509> peer(SSL_get_peer_certificate(h.client.get()));
  bssl::UniquePtr<EVP_PKEY> peer_key(X509_get_pubkey(peer.get()));
  EXPECT_EQ(EVP_PKEY_id(peer_key.get()), key == TestKeyType::kRsa2048 ? EVP_PKEY_RSA : EVP_PKEY_EC);

  // Application data flows, and no session ticket comes with it: nothing to resume.
  ASSERT_EQ(SSL_write(h.server.get(), "220 hi\r\n", 8), 8);
  char buf[16];
  ASSERT_EQ(SSL_read(h.client.get(), buf, sizeof(buf)), 8);
  EXPECT_EQ(std::string(buf, 8), "220 hi\r\n");
  EXPECT_FALSE(SSL_SESSION_has_ticket(SSL_get_session(h.client.get())));
  EXPECT_FALSE(SSL_session_reused(h.client.get()));
}

INSTANTIATE_TEST_SUITE_P(
    Versions, TestCaHandshakeTest,
    ::testing::Combine(::testing::Values(uint16_t(TLS1_VERSION), uint16_t(TLS1_2_VERSION),
                                         uint16_t(TLS1_3_VERSION)),
                       ::testing::Values(TestKeyType::kRsa2048, TestKeyType::kEcdsaP256)));

TEST(TestCaHandshakeTest, ClientOutsideTheServersRangeFails) {
  std::unique_ptr<TestCa> ca = NewCa();
  ASSERT_NE(ca, nullptr);
  IssuedCert cert = MustIssue(*ca, {.dns_names = {"mx.a.test"}});
  absl::StatusOr<bssl::UniquePtr<SSL_CTX>> server_ctx =
      NewServerContext(cert, TLS1_VERSION, TLS1_VERSION);
  ASSERT_TRUE(server_ctx.ok());
  Handshake h;
  h.client_ctx.reset(SSL_CTX_new(TLS_method()));
  SSL_CTX_set_min_proto_version(h.client_ctx.get(), TLS1_2_VERSION);
  h.client.reset(SSL_new(h.client_ctx.get()));
  h.server.reset(SSL_new(server_ctx->get()));
  BIO *client_bio, *server_bio;
  ASSERT_TRUE(BIO_new_bio_pair(&client_bio, 0, &server_bio, 0));
  SSL_set_bio(h.client.get(), client_bio, client_bio);
  SSL_set_bio(h.server.get(), server_bio, server_bio);
  SSL_set_connect_state(h.client.get());
  SSL_set_accept_state(h.server.get());
  bool failed = false;
  for (int round = 0; round < 10 && !failed; ++round) {
    for (SSL* ssl : {h.client.get(), h.server.get()}) {
      const int r = SSL_do_handshake(ssl);
      const int e = SSL_get_error(ssl, r);
      failed |= r != 1 && e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE;
    }
  }
  ERR_clear_error();
  EXPECT_TRUE(failed);
}

}  // namespace
}  // namespace mxray::fleet
