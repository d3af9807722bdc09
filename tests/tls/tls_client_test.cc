// TlsClient against a BoringSSL server in memory (no sockets): the facts of each kind of chain
// the fleet serves, versions, failures, and the verification judgement at a fixed time.
#include "tls/tls_client.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <string>

#include "tls/chain_verifier.h"
#include "tls/verify_cache.h"
#include "tools/fleet/test_ca.h"

namespace mxray::tls {
namespace {

using fleet::CertSpec;
using fleet::TestCa;
using fleet::TestKeyType;

constexpr int64_t kDay = 86400;

class TlsClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto ca = TestCa::Create();
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_ = ca->release();
    ca_file_ = testing::TempDir() + "/tls_client_test_root.pem";
    ASSERT_TRUE(ca_->WriteRootPem(ca_file_).ok());
    auto context = ClientContext::Create(ca_file_);
    ASSERT_TRUE(context.ok()) << context.status();
    context_ = context->release();
  }
  static void TearDownTestSuite() {
    delete context_;
    delete ca_;
    std::remove(ca_file_.c_str());
  }

  // A server presenting `spec`'s certificate with versions [min, max].
  bssl::UniquePtr<SSL> Server(const CertSpec& spec, uint16_t min = TLS1_VERSION,
                              uint16_t max = TLS1_3_VERSION) {
    auto cert = ca_->Issue(spec);
    EXPECT_TRUE(cert.ok()) << cert.status();
    auto ctx = fleet::NewServerContext(*cert, min, max);
    EXPECT_TRUE(ctx.ok()) << ctx.status();
    bssl::UniquePtr<SSL> ssl(SSL_new(ctx->get()));
    SSL_set_bio(ssl.get(), BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
    BIO_set_mem_eof_return(SSL_get_rbio(ssl.get()), -1);
    SSL_set_accept_state(ssl.get());
    return ssl;
  }

  // Moves bytes both ways until the client's handshake ends: its last step.
  static TlsClient::Step Pump(TlsClient* client, SSL* server) {
    TlsClient::Step step = TlsClient::Step::kWant;
    for (int round = 0; round < 20; ++round) {
      step = client->Handshake();
      std::string out;
      client->TakeOutput(&out);
      BIO_write(SSL_get_rbio(server), out.data(), int(out.size()));
      SSL_do_handshake(server);
      std::string back = Drain(server);
      client->Feed(back);
      if (step != TlsClient::Step::kWant && back.empty()) return step;
    }
    return step;
  }

  static std::string Drain(SSL* server) {
    const uint8_t* data = nullptr;
    size_t len = 0;
    BIO_mem_contents(SSL_get_wbio(server), &data, &len);
    std::string out(reinterpret_cast<const char*>(data), len);
    BIO_reset(SSL_get_wbio(server));
    return out;
  }

  static CertSpec Named(std::string name) {
    CertSpec spec;
    spec.dns_names = {std::move(name)};
    return spec;
  }

  static inline TestCa* ca_ = nullptr;
  static inline ClientContext* context_ = nullptr;
  static inline std::string ca_file_;
};

TEST_F(TlsClientTest, ValidChainYieldsEveryFactAndATrustedVerdict) {
  CertSpec spec = Named("mx.example.test");
  spec.dns_names.push_back("*.mail.example.test");
  spec.ip_addresses = {"127.0.0.1", "::1"};
  spec.key = TestKeyType::kRsa2048;
  int64_t now = time(nullptr);
  spec.not_before = now - 10 * kDay;
  spec.not_after = now + 30 * kDay + 3600;
  bssl::UniquePtr<SSL> server = Server(spec);
  auto client = TlsClient::Create(context_, "mx.example.test");
  ASSERT_EQ(Pump(client.get(), server.get()), TlsClient::Step::kDone) << client->error();
  EXPECT_STREQ(SSL_get_servername(server.get(), TLSEXT_NAMETYPE_host_name), "mx.example.test");

  TlsFacts f = client->Facts(now, /*with_chain_pem=*/false);
  EXPECT_EQ(f.sni, "mx.example.test");
  EXPECT_EQ(f.version, "TLSv1.3");
  EXPECT_EQ(f.cipher.rfind("TLS_", 0), 0u) << f.cipher;
  EXPECT_FALSE(f.group.empty());
  ASSERT_TRUE(f.has_certificate);
  EXPECT_EQ(f.leaf.subject, "CN=mx.example.test,O=mxray fleet");  // RFC 2253: last RDN first
  EXPECT_EQ(f.leaf.common_name, "mx.example.test");
  EXPECT_EQ(f.leaf.san_dns, (std::vector<std::string>{"mx.example.test", "*.mail.example.test"}));
  EXPECT_EQ(f.leaf.san_ip, (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_NE(f.leaf.issuer, f.leaf.subject);
  EXPECT_FALSE(f.leaf.self_issued);
  EXPECT_FALSE(f.leaf.serial.empty());
  EXPECT_EQ(f.leaf.serial.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(f.leaf.not_before, spec.not_before);
  EXPECT_EQ(f.leaf.not_after, spec.not_after);
  EXPECT_EQ(f.leaf.days_left, 30);
  EXPECT_EQ(f.leaf.key_type, "RSA");
  EXPECT_EQ(f.leaf.key_bits, 2048u);
  EXPECT_EQ(f.leaf.signature_algorithm, "ecdsa-with-SHA256");  // signed by the EC intermediate
  EXPECT_EQ(f.leaf.sha256.size(), 64u);
  ASSERT_EQ(f.intermediates.size(), 1u);
  EXPECT_EQ(f.intermediates[0].subject, f.leaf.issuer);
  EXPECT_TRUE(f.chain_pem.empty());
  EXPECT_TRUE(f.verify.trusted) << f.verify.error;
  EXPECT_FALSE(f.verify.expired);
  EXPECT_FALSE(f.verify.not_yet_valid);
  EXPECT_FALSE(f.verify.self_signed);
  EXPECT_EQ(VerifyStatusWord(f.verify, true), "ok");
  EXPECT_EQ(VerifyStatusWord(f.verify, false), "hostname_mismatch");
}

TEST_F(TlsClientTest, EcdsaLeafAndThePemChainOnRequest) {
  bssl::UniquePtr<SSL> server = Server(Named("mx.example.test"));
  auto client = TlsClient::Create(context_, "mx.example.test");
  ASSERT_EQ(Pump(client.get(), server.get()), TlsClient::Step::kDone) << client->error();
  TlsFacts f = client->Facts(time(nullptr), /*with_chain_pem=*/true);
  EXPECT_EQ(f.leaf.key_type, "EC");
  EXPECT_EQ(f.leaf.key_bits, 256u);
  EXPECT_EQ(f.leaf.key_curve, "P-256");
  size_t first = f.chain_pem.find("-----BEGIN CERTIFICATE-----");
  ASSERT_NE(first, std::string::npos);
  EXPECT_NE(f.chain_pem.find("-----BEGIN CERTIFICATE-----", first + 1), std::string::npos);
}

TEST_F(TlsClientTest, DatesAreRecordedWithoutCostingTrust) {
  int64_t now = time(nullptr);
  CertSpec expired = Named("mx.example.test");
  expired.not_before = now - 100 * kDay;
  expired.not_after = now - 2 * kDay;
  bssl::UniquePtr<SSL> server = Server(expired);
  auto client = TlsClient::Create(context_, "mx.example.test");
  ASSERT_EQ(Pump(client.get(), server.get()), TlsClient::Step::kDone);
  TlsFacts f = client->Facts(now, false);
  EXPECT_TRUE(f.verify.trusted);
  EXPECT_TRUE(f.verify.expired);
  EXPECT_FALSE(f.verify.not_yet_valid);
  EXPECT_LT(f.leaf.days_left, -1);
  EXPECT_EQ(VerifyStatusWord(f.verify, true), "expired");

  CertSpec early = Named("mx.example.test");
  early.not_before = now + 5 * kDay;
  early.not_after = now + 50 * kDay;
  server = Server(early);
  client = TlsClient::Create(context_, "mx.example.test");
  ASSERT_EQ(Pump(client.get(), server.get()), TlsClient::Step::kDone);
  f = client->Facts(now, false);
  EXPECT_TRUE(f.verify.trusted);
  EXPECT_TRUE(f.verify.not_yet_valid);
  EXPECT_FALSE(f.verify.expired);
  EXPECT_EQ(VerifyStatusWord(f.verify, true), "not_yet_valid");
  // The same chain judged at a time inside its window is fine: the judgement uses `now`.
  f = client->Facts(now + 10 * kDay, false);
  EXPECT_FALSE(f.verify.not_yet_valid);
  EXPECT_EQ(VerifyStatusWord(f.verify, true), "ok");
}

TEST_F(TlsClientTest, SelfSignedAndUnknownRootsAreUntrusted) {
  CertSpec self = Named("mx.example.test");
  self.issuer = CertSpec::Issuer::kSelf;
  bssl::UniquePtr<SSL> server = Server(self);
  auto client = TlsClient::Create(context_, "mx.example.test");
  ASSERT_EQ(Pump(client.get(), server.get()), TlsClient::Step::kDone);
  TlsFacts f = client->Facts(time(nullptr), false);
  EXPECT_FALSE(f.verify.trusted);
  EXPECT_TRUE(f.verify.self_signed);
  EXPECT_TRUE(f.leaf.self_issued);
  EXPECT_TRUE(f.intermediates.empty());
  EXPECT_EQ(VerifyStatusWord(f.verify, true), "self_signed");

  CertSpec other = Named("mx.example.test");
  other.issuer = CertSpec::Issuer::kUntrustedCa;
  server = Server(other);
  client = TlsClient::Create(context_, "mx.example.test");
  ASSERT_EQ(Pump(client.get(), server.get()), TlsClient::Step::kDone);
  f = client->Facts(time(nullptr), false);
  EXPECT_FALSE(f.verify.trusted);
  EXPECT_FALSE(f.verify.self_signed);
  EXPECT_FALSE(f.verify.error.empty());
  EXPECT_EQ(VerifyStatusWord(f.verify, true), "untrusted");
}

TEST_F(TlsClientTest, OldProtocolVersionsAreNegotiatedAndRecorded) {
  struct Case {
    uint16_t version;
    const char* name;
  };
  for (Case c : {Case{TLS1_VERSION, "TLSv1"}, Case{TLS1_1_VERSION, "TLSv1.1"},
                 Case{TLS1_2_VERSION, "TLSv1.2"}}) {
    bssl::UniquePtr<SSL> server = Server(Named("mx.example.test"), c.version, c.version);
    auto client = TlsClient::Create(context_, "mx.example.test");
    ASSERT_EQ(Pump(client.get(), server.get()), TlsClient::Step::kDone)
        << c.name << ": " << client->error();
    TlsFacts f = client->Facts(time(nullptr), false);
    EXPECT_EQ(f.version, c.name);
    EXPECT_FALSE(f.cipher.empty());
  }
}

TEST_F(TlsClientTest, PlaintextInsteadOfAServerHelloFailsWithBoringSslsReason) {
  auto client = TlsClient::Create(context_, "mx.example.test");
  ASSERT_EQ(client->Handshake(), TlsClient::Step::kWant);
  std::string hello;
  EXPECT_TRUE(client->TakeOutput(&hello));
  EXPECT_EQ(hello[0], 0x16);  // a handshake record: the ClientHello
  client->Feed("220 mx.example.test ESMTP\r\n");
  EXPECT_EQ(client->Handshake(), TlsClient::Step::kFailed);
  EXPECT_EQ(client->error(), "WRONG_VERSION_NUMBER");
}

TEST_F(TlsClientTest, ApplicationDataFlowsBothWaysAfterTheHandshake) {
  bssl::UniquePtr<SSL> server = Server(Named("mx.example.test"));
  auto client = TlsClient::Create(context_, "mx.example.test");
  ASSERT_EQ(Pump(client.get(), server.get()), TlsClient::Step::kDone);
  ASSERT_EQ(SSL_write(server.get(), "250 ok\r\n", 8), 8);
  client->Feed(Drain(server.get()));
  std::string plain;
  EXPECT_EQ(client->Read(&plain), TlsClient::Step::kDone);
  EXPECT_EQ(plain, "250 ok\r\n");
  plain.clear();
  EXPECT_EQ(client->Read(&plain), TlsClient::Step::kWant);
  EXPECT_TRUE(plain.empty());

  ASSERT_TRUE(client->Write("QUIT\r\n"));
  std::string out;
  ASSERT_TRUE(client->TakeOutput(&out));
  BIO_write(SSL_get_rbio(server.get()), out.data(), int(out.size()));
  char buf[16];
  ASSERT_EQ(SSL_read(server.get(), buf, sizeof(buf)), 6);
  EXPECT_EQ(std::string(buf, 6), "QUIT\r\n");

  SSL_shutdown(server.get());
  client->Feed(Drain(server.get()));
  EXPECT_EQ(client->Read(&plain), TlsClient::Step::kClosed);
}

TEST_F(TlsClientTest, NoSniForIpLiteralsOrEmptyNames) {
  for (const char* name : {"", "127.0.0.1", "::1"}) {
    bssl::UniquePtr<SSL> server = Server(Named("mx.example.test"));
    auto client = TlsClient::Create(context_, name);
    ASSERT_EQ(Pump(client.get(), server.get()), TlsClient::Step::kDone);
    EXPECT_EQ(SSL_get_servername(server.get(), TLSEXT_NAMETYPE_host_name), nullptr) << name;
  }
}

// A chain as a server sends it: the leaf, then the intermediates.
bssl::UniquePtr<STACK_OF(X509)> SentChain(const fleet::IssuedCert& cert) {
  bssl::UniquePtr<STACK_OF(X509)> chain(sk_X509_new_null());
  X509_up_ref(cert.leaf.get());
  sk_X509_push(chain.get(), cert.leaf.get());
  for (const auto& i : cert.intermediates) {
    X509_up_ref(i.get());
    sk_X509_push(chain.get(), i.get());
  }
  return chain;
}

TEST_F(TlsClientTest, VerifyCacheReusesAVerdictAndJudgesDatesAgain) {
  int64_t now = time(nullptr);
  CertSpec spec = Named("mx.example.test");
  spec.not_before = now - kDay;
  spec.not_after = now + 10 * kDay;
  auto cert = ca_->Issue(spec);
  ASSERT_TRUE(cert.ok());
  bssl::UniquePtr<STACK_OF(X509)> chain = SentChain(*cert);

  VerifyCache cache;
  VerifyFacts first = cache.Verify(context_->store(), chain.get(), now);
  EXPECT_TRUE(first.trusted);
  EXPECT_FALSE(first.expired);
  EXPECT_EQ(cache.misses(), 1u);
  VerifyFacts again = cache.Verify(context_->store(), chain.get(), now);
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_TRUE(again.trusted);
  EXPECT_FALSE(again.expired);
  // The same chain later in a long run: the cached verdict is re-dated, and agrees with a fresh
  // verification.
  VerifyFacts later = cache.Verify(context_->store(), chain.get(), now + 11 * kDay);
  EXPECT_EQ(cache.hits(), 2u);
  VerifyFacts fresh = VerifyChain(context_->store(), chain.get(), now + 11 * kDay);
  EXPECT_TRUE(later.expired);
  EXPECT_EQ(later.expired, fresh.expired);
  EXPECT_EQ(later.trusted, fresh.trusted);
  VerifyFacts earlier = cache.Verify(context_->store(), chain.get(), now - 2 * kDay);
  EXPECT_TRUE(earlier.not_yet_valid);

  // Another chain (an untrusted one) is verified on its own.
  CertSpec other = Named("mx.example.test");
  other.issuer = CertSpec::Issuer::kUntrustedCa;
  auto untrusted = ca_->Issue(other);
  ASSERT_TRUE(untrusted.ok());
  bssl::UniquePtr<STACK_OF(X509)> chain2 = SentChain(*untrusted);
  EXPECT_FALSE(cache.Verify(context_->store(), chain2.get(), now).trusted);
  EXPECT_EQ(cache.misses(), 2u);
  EXPECT_FALSE(cache.Verify(context_->store(), chain2.get(), now).trusted);
  EXPECT_EQ(cache.hits(), 4u);
}

TEST(ClientContextTest, AMissingCaFileIsASetupError) {
  auto context = ClientContext::Create("/nonexistent/ca.pem");
  ASSERT_FALSE(context.ok());
  EXPECT_NE(context.status().message().find("/nonexistent/ca.pem"), std::string::npos);
}

}  // namespace
}  // namespace mxray::tls
