// The fleet's TLS, seen by a BoringSSL client on blocking loopback sockets: STARTTLS and implicit
// TLS on the ordinary flavours (version, key, a chain that verifies against the fleet's CA file,
// the host's names), every TLS case's server side (its certificate and versions, 454, garbage,
// the injected line, the stall), AUTH before and after TLS, the SNI and handshake counters, the
// CA file's life, and a fleet without TLS. Silence is shown by closing our side first (the
// server then closes having sent nothing), with one short poll where the server must also keep
// the connection open.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <string>

#include "tests/tools/smtp_test_client.h"
#include "tools/fleet/fleet.h"

namespace mxray::fleet {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;
using testing_client::Client;
using testing_client::JudgeChain;
using testing_client::kGuardMs;
using testing_client::LeafDnsNames;
using testing_client::LeafKey;
using testing_client::Verdict;
using testing_client::VersionOf;

constexpr std::string_view kReady = "220 2.0.0 Ready to start TLS\r\n";

std::string KindHost(DomainKind kind, int n = 1) {
  return Population::AddressText(Population::SmtpKindAddress(kind, size_t(n)));
}

std::string KindHostName(DomainKind kind, int n = 1) {
  return std::string(DomainKindLabel(kind)) + "-" + std::to_string(n) + ".fleet.test";
}

std::string ProviderHost(size_t provider) {
  return Population::AddressText(Population::ProviderAddress(provider, 1));
}

std::unique_ptr<Fleet> StartFleet(bool tls = true) {
  FleetOptions options;
  options.domain_count = kDomainKindCount;
  options.smtp.greeting_stall_ms = 600'000;
  options.smtp.hosts_per_kind = 2;
  options.smtp.tls = tls;
  absl::StatusOr<std::unique_ptr<Fleet>> fleet = Fleet::Start(options);
  EXPECT_TRUE(fleet.ok()) << fleet.status();
  return fleet.ok() ? *std::move(fleet) : nullptr;
}

class SmtpTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fleet_ = StartFleet();
    ASSERT_NE(fleet_, nullptr);
    ctx_ = testing_client::ClientContext(fleet_->ca_file());
  }

  std::unique_ptr<Client> Connect(const std::string& ip, uint16_t logical) {
    auto c = std::make_unique<Client>(ip, fleet_->smtp_port(logical));
    EXPECT_TRUE(c->connected()) << ip << ":" << logical << " " << strerror(c->connect_errno());
    return c;
  }
  // Greeting and EHLO in plaintext; the EHLO reply.
  std::string PlainEhlo(Client& c) {
    EXPECT_THAT(c.ReadReply(), StartsWith("220 "));
    c.Send("EHLO client.test\r\n");
    return c.ReadReply();
  }
  // 25/587: greeting, EHLO, STARTTLS, handshake; 465: handshake. True when TLS is up.
  bool Secure(Client& c, uint16_t logical, const std::string& sni) {
    if (logical != 465) {
      EXPECT_THAT(PlainEhlo(c), HasSubstr("250-STARTTLS\r\n"));
      c.Send("STARTTLS\r\n");
      EXPECT_EQ(c.ReadReply(), kReady);
    }
    const bool up = c.StartTls(ctx_.get(), sni);
    EXPECT_TRUE(up) << c.tls_error();
    return up;
  }
  // Inside TLS: the greeting on 465, then EHLO; its reply.
  std::string TlsEhlo(Client& c, uint16_t logical) {
    if (logical == 465) {
      EXPECT_THAT(c.ReadReply(), StartsWith("220 "));
    }
    c.Send("EHLO client.test\r\n");
    return c.ReadReply();
  }
  void ExpectQuitHonoured(Client& c) {
    c.Send("QUIT\r\n");
    EXPECT_EQ(c.ReadReply(), "221 bye\r\n");
    EXPECT_THAT(c.ReadAll(), IsEmpty());  // close_notify, then the end of the stream
    EXPECT_EQ(c.read_errno(), 0);
  }
  std::string VerdictFor(SSL* ssl, std::string_view exchange) {
    return Verdict(JudgeChain(ssl, SSL_CTX_get_cert_store(ctx_.get())), exchange);
  }

  std::unique_ptr<Fleet> fleet_;
  bssl::UniquePtr<SSL_CTX> ctx_;
};

// ---------------------------------------------------------------------------------------------
// The ordinary flavours.

TEST_F(SmtpTlsTest, PostfixStarttlsPresentsAVerifiableRsaChainForItsName) {
  const std::string ip = ProviderHost(0);
  auto c = Connect(ip, 25);
  ASSERT_TRUE(Secure(*c, 25, "mx1.provider-0.test"));
  EXPECT_EQ(VersionOf(c->ssl()), "TLSv1.3");
  EXPECT_EQ(LeafKey(c->ssl()), std::make_pair(std::string("RSA"), 2048u));
  EXPECT_EQ(VerdictFor(c->ssl(), "mx1.provider-0.test"), "ok");
  EXPECT_EQ(VerdictFor(c->ssl(), "mx.vanity-domain.test"), "hostname_mismatch");
  bssl::UniquePtr<X509> leaf(SSL_get_peer_certificate(c->ssl()));
  EXPECT_THAT(LeafDnsNames(leaf.get()), ElementsAre("mx1.provider-0.test"));
  EXPECT_EQ(X509_check_ip_asc(leaf.get(), ip.c_str(), 0), 1);
  // The server sent leaf and intermediate; the root is the CA file's.
  EXPECT_EQ(sk_X509_num(SSL_get_peer_full_cert_chain(c->ssl())), 2u);
  // RFC 3207 §4.2: EHLO again, and STARTTLS is no longer offered.
  EXPECT_EQ(TlsEhlo(*c, 25),
            "250-mx1.provider-0.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-ETRN\r\n"
            "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n"
            "250 CHUNKING\r\n");
  c->Send("STARTTLS\r\n");
  EXPECT_EQ(c->ReadReply(), "554 5.5.1 Error: TLS already active\r\n");
  ExpectQuitHonoured(*c);
  EXPECT_TRUE(fleet_->WaitForSmtpIdle(kGuardMs));
  SmtpStats stats = fleet_->smtp_stats();
  EXPECT_EQ(stats.tls_handshakes, 1u);
  EXPECT_EQ(stats.SniAt(ip, 25), "mx1.provider-0.test");
}

TEST_F(SmtpTlsTest, EximImplicitTlsGreetsInsideWithAnEcdsaLeafAndKeepsAuth) {
  const std::string ip = ProviderHost(1);
  auto c = Connect(ip, 465);
  ASSERT_TRUE(Secure(*c, 465, "mx1.provider-1.test"));
  EXPECT_EQ(VersionOf(c->ssl()), "TLSv1.3");
  EXPECT_EQ(LeafKey(c->ssl()), std::make_pair(std::string("EC"), 256u));
  EXPECT_EQ(VerdictFor(c->ssl(), "mx1.provider-1.test"), "ok");
  EXPECT_THAT(c->ReadReply(), StartsWith("220 mx1.provider-1.test ESMTP Exim"));
  c->Send("EHLO client.test\r\n");
  const std::string ehlo = c->ReadReply();
  EXPECT_THAT(ehlo, AllOf(StartsWith("250-mx1.provider-1.test Hello client.test [127.0.0.1]"),
                          HasSubstr("250-AUTH PLAIN LOGIN\r\n"), Not(HasSubstr("STARTTLS")),
                          EndsWith("250 HELP\r\n")));
  ExpectQuitHonoured(*c);
  EXPECT_EQ(fleet_->smtp_stats().SniAt(ip, 465), "mx1.provider-1.test");
  EXPECT_EQ(fleet_->smtp_stats().SniAt(ip, fleet_->smtp_port(465)), "mx1.provider-1.test");
}

TEST_F(SmtpTlsTest, MicrosoftOffersTheSameAuthInsideTls) {
  auto c = Connect(ProviderHost(2), 587);
  ASSERT_TRUE(Secure(*c, 587, "mx1.provider-2.test"));
  EXPECT_EQ(LeafKey(c->ssl()).first, "RSA");
  EXPECT_THAT(TlsEhlo(*c, 587), AllOf(HasSubstr("250-AUTH GSSAPI NTLM\r\n"),
                                      HasSubstr("250-AUTH=LOGIN\r\n"), Not(HasSubstr("STARTTLS"))));
  ExpectQuitHonoured(*c);
}

TEST_F(SmtpTlsTest, MinimalOffersNoStarttlsButServesImplicitTls) {
  auto c = Connect(ProviderHost(3), 25);
  EXPECT_EQ(PlainEhlo(*c), "250 mx1.provider-3.test\r\n");
  c->Send("STARTTLS\r\n");
  EXPECT_EQ(c->ReadReply(), "502 5.5.2 Error: command not recognized\r\n");
  ExpectQuitHonoured(*c);
  auto tls = Connect(ProviderHost(3), 465);
  ASSERT_TRUE(Secure(*tls, 465, "mx1.provider-3.test"));
  EXPECT_EQ(LeafKey(tls->ssl()).first, "EC");
  EXPECT_EQ(TlsEhlo(*tls, 465), "250 mx1.provider-3.test\r\n");
  ExpectQuitHonoured(*tls);
}

TEST_F(SmtpTlsTest, OwnPoolAndIpv6HostsHaveTheirOwnNames) {
  for (const std::string ip : {"127.2.0.7", "::1"}) {
    SCOPED_TRACE(ip);
    const std::string name = fleet_->population().SmtpHostName(ip);
    auto c = Connect(ip, 465);
    ASSERT_TRUE(Secure(*c, 465, name));
    bssl::UniquePtr<X509> leaf(SSL_get_peer_certificate(c->ssl()));
    EXPECT_THAT(LeafDnsNames(leaf.get()), ElementsAre(name));
    EXPECT_EQ(X509_check_ip_asc(leaf.get(), ip.c_str(), 0), 1);
    EXPECT_EQ(VerdictFor(c->ssl(), name), "ok");
    // A vanity MX name on this shared host does not match.
    EXPECT_EQ(VerdictFor(c->ssl(), "mx.some-domain.test"), "hostname_mismatch");
  }
}

// ---------------------------------------------------------------------------------------------
// The certificate and version cases: what a client finds is what the expectations say, on 25
// after STARTTLS and on 465 alike, with one certificate for the host.

struct TlsCase {
  DomainKind kind;
  std::string_view verdict;
  std::string_view version;
  std::string_view key;
};

TEST_F(SmtpTlsTest, EachCertificateCaseIsWhatTheExpectationsSay) {
  const TlsCase kCases[] = {
      {DomainKind::kTlsExpired, "expired", "TLSv1.3", "RSA"},
      {DomainKind::kTlsNotYetValid, "not_yet_valid", "TLSv1.3", "EC"},
      {DomainKind::kTlsSelfSigned, "self_signed", "TLSv1.3", "RSA"},
      {DomainKind::kTlsUntrustedCa, "untrusted", "TLSv1.3", "EC"},
      {DomainKind::kTlsWrongName, "hostname_mismatch", "TLSv1.3", "RSA"},
      {DomainKind::kTlsWildcard, "ok", "TLSv1.3", "EC"},
      {DomainKind::kTls12Only, "ok", "TLSv1.2", "RSA"},
      {DomainKind::kTls10Only, "ok", "TLSv1", "RSA"},
      {DomainKind::kTlsRsa, "ok", "TLSv1.3", "RSA"},
      {DomainKind::kTlsEcdsa, "ok", "TLSv1.3", "EC"},
      {DomainKind::kAuthAfterTls, "ok", "TLSv1.3", "RSA"},
      {DomainKind::kAuthBeforeTls, "ok", "TLSv1.3", "EC"},
  };
  for (const TlsCase& k : kCases) {
    SCOPED_TRACE(DomainKindName(k.kind));
    const std::string ip = KindHost(k.kind);
    const std::string name = KindHostName(k.kind);
    ASSERT_EQ(fleet_->population().SmtpHostName(ip), name);
    const std::vector<ExpectedPort> want = fleet_->population().ExpectPorts(ip, name);
    bssl::UniquePtr<X509> first_leaf;
    for (size_t p = 0; p < kSmtpPortCount; ++p) {
      const uint16_t logical = kSmtpLogicalPorts[p];
      SCOPED_TRACE(logical);
      auto c = Connect(ip, logical);
      ASSERT_TRUE(Secure(*c, logical, name));
      EXPECT_EQ(VerdictFor(c->ssl(), name), k.verdict);
      EXPECT_EQ(VersionOf(c->ssl()), k.version);
      EXPECT_EQ(LeafKey(c->ssl()).first, k.key);
      EXPECT_EQ(want[p].verify_status, k.verdict);
      EXPECT_EQ(want[p].tls_version, k.version);
      EXPECT_EQ(want[p].key_type, k.key);
      EXPECT_EQ(LeafKey(c->ssl()).second, want[p].key_bits);
      bssl::UniquePtr<X509> leaf(SSL_get_peer_certificate(c->ssl()));
      if (first_leaf) {
        EXPECT_EQ(X509_cmp(leaf.get(), first_leaf.get()), 0) << "one certificate per host";
      } else {
        first_leaf = std::move(leaf);
      }
      EXPECT_THAT(TlsEhlo(*c, logical), StartsWith("250-" + name + "\r\n"));
      ExpectQuitHonoured(*c);
    }
  }
}

TEST_F(SmtpTlsTest, WildcardAndWrongNameCertificatesNameWhatTheySay) {
  auto wildcard = Connect(KindHost(DomainKind::kTlsWildcard), 465);
  ASSERT_TRUE(Secure(*wildcard, 465, KindHostName(DomainKind::kTlsWildcard)));
  bssl::UniquePtr<X509> leaf(SSL_get_peer_certificate(wildcard->ssl()));
  EXPECT_THAT(LeafDnsNames(leaf.get()), ElementsAre("*.fleet.test"));
  EXPECT_EQ(VerdictFor(wildcard->ssl(), "a.b.fleet.test"), "hostname_mismatch");  // one label

  auto wrong = Connect(KindHost(DomainKind::kTlsWrongName), 465);
  ASSERT_TRUE(Secure(*wrong, 465, KindHostName(DomainKind::kTlsWrongName)));
  leaf.reset(SSL_get_peer_certificate(wrong->ssl()));
  EXPECT_THAT(LeafDnsNames(leaf.get()), ElementsAre(std::string(kWrongCertName)));
}

TEST_F(SmtpTlsTest, VersionPinnedServersRefuseNewerOnlyClients) {
  for (DomainKind kind : {DomainKind::kTls12Only, DomainKind::kTls10Only}) {
    SCOPED_TRACE(DomainKindName(kind));
    bssl::UniquePtr<SSL_CTX> modern = testing_client::ClientContext(fleet_->ca_file());
    SSL_CTX_set_min_proto_version(modern.get(),
                                  kind == DomainKind::kTls12Only ? TLS1_3_VERSION : TLS1_2_VERSION);
    auto c = Connect(KindHost(kind), 465);
    EXPECT_FALSE(c->StartTls(modern.get(), KindHostName(kind)));
  }
}

// ---------------------------------------------------------------------------------------------
// How STARTTLS is answered.

TEST_F(SmtpTlsTest, Starttls454KeepsThePlaintextSession) {
  auto c = Connect(KindHost(DomainKind::kStarttls454), 587);
  EXPECT_THAT(PlainEhlo(*c), HasSubstr("250-STARTTLS\r\n"));
  c->Send("STARTTLS\r\n");
  EXPECT_EQ(c->ReadReply(), "454 4.7.0 TLS not available due to local problem\r\n");
  c->Send("NOOP\r\n");
  EXPECT_EQ(c->ReadReply(), "250 2.0.0 Ok\r\n");
  ExpectQuitHonoured(*c);
  // 465 is an ordinary implicit-TLS server.
  auto tls = Connect(KindHost(DomainKind::kStarttls454), 465);
  ASSERT_TRUE(Secure(*tls, 465, KindHostName(DomainKind::kStarttls454)));
  EXPECT_THAT(TlsEhlo(*tls, 465), StartsWith("250-"));
  EXPECT_EQ(fleet_->smtp_stats().tls_handshakes, 1u);
}

TEST_F(SmtpTlsTest, StarttlsGarbageAnswersTheClientHelloWithPlaintext) {
  for (uint16_t logical : {25, 465}) {
    SCOPED_TRACE(logical);
    auto c = Connect(KindHost(DomainKind::kStarttlsGarbage), logical);
    if (logical == 25) {
      PlainEhlo(*c);
      c->Send("STARTTLS\r\n");
      EXPECT_EQ(c->ReadReply(), kReady);
    }
    std::string received;
    EXPECT_FALSE(c->StartTls(ctx_.get(), KindHostName(DomainKind::kStarttlsGarbage), &received));
    EXPECT_EQ(received, kTlsGarbage);
    // Nothing more: once we leave, the server closes having said nothing else.
    shutdown(c->fd(), SHUT_WR);
    char byte;
    EXPECT_EQ(recv(c->fd(), &byte, 1, 0), 0);
  }
  EXPECT_EQ(fleet_->smtp_stats().tls_handshakes, 0u);
}

TEST_F(SmtpTlsTest, StarttlsInjectionSendsAnExtraLineWithThe220ThenRealTls) {
  const std::string ip = KindHost(DomainKind::kStarttlsInjection);
  auto c = Connect(ip, 25);
  PlainEhlo(*c);
  c->Send("STARTTLS\r\n");
  // One write on the server's side: the first read holds both lines.
  EXPECT_EQ(c->ReadOnce(), "220 2.0.0 Ready to start TLS\r\n250 injected\r\n");
  ASSERT_TRUE(c->StartTls(ctx_.get(), KindHostName(DomainKind::kStarttlsInjection)))
      << c->tls_error();
  EXPECT_EQ(VerdictFor(c->ssl(), KindHostName(DomainKind::kStarttlsInjection)), "ok");
  EXPECT_THAT(TlsEhlo(*c, 25), StartsWith("250-starttls-injection-1.fleet.test\r\n"));
  ExpectQuitHonoured(*c);
  EXPECT_EQ(fleet_->smtp_stats().tls_handshakes, 1u);
}

TEST_F(SmtpTlsTest, PlaintextPipelinedAfterStarttlsIsThrownAway) {
  // What a client sends between STARTTLS and the handshake must not be read as if it had come
  // through TLS (CVE-2011-0411): the server drops it, as Postfix does.
  auto c = Connect(ProviderHost(0), 25);
  PlainEhlo(*c);
  c->Send("STARTTLS\r\nNOOP\r\n");
  EXPECT_EQ(c->ReadReply(), kReady);
  ASSERT_TRUE(c->StartTls(ctx_.get(), "mx1.provider-0.test")) << c->tls_error();
  c->Send("NOOP\r\n");
  EXPECT_EQ(c->ReadReply(), "250 2.0.0 Ok\r\n");  // one reply: ours, not the dropped NOOP's
  ExpectQuitHonoured(*c);
}

TEST_F(SmtpTlsTest, TlsStallReadsTheClientHelloAndNeverAnswers) {
  for (uint16_t logical : {25, 465}) {
    SCOPED_TRACE(logical);
    auto c = Connect(KindHost(DomainKind::kTlsStall), logical);
    if (logical == 25) {
      PlainEhlo(*c);
      c->Send("STARTTLS\r\n");
      EXPECT_EQ(c->ReadReply(), kReady);
    }
    // The ClientHello, sent by hand: the handshake would wait for the guard time.
    bssl::UniquePtr<SSL> ssl(SSL_new(ctx_.get()));
    SSL_set_bio(ssl.get(), BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
    SSL_set_connect_state(ssl.get());
    SSL_set_tlsext_host_name(ssl.get(), KindHostName(DomainKind::kTlsStall).c_str());
    EXPECT_EQ(SSL_get_error(ssl.get(), SSL_do_handshake(ssl.get())), SSL_ERROR_WANT_READ);
    const uint8_t* hello;
    size_t hello_len;
    ASSERT_TRUE(BIO_mem_contents(SSL_get_wbio(ssl.get()), &hello, &hello_len));
    ASSERT_EQ(send(c->fd(), hello, hello_len, MSG_NOSIGNAL), ssize_t(hello_len));
    // Nothing arrives, not even a close; then, once we leave, the server closes silently.
    pollfd p{c->fd(), POLLIN, 0};
    EXPECT_EQ(poll(&p, 1, 100), 0);
    shutdown(c->fd(), SHUT_WR);
    char byte;
    EXPECT_EQ(recv(c->fd(), &byte, 1, 0), 0);
  }
  EXPECT_TRUE(fleet_->WaitForSmtpIdle(kGuardMs));
  EXPECT_EQ(fleet_->smtp_stats().tls_handshakes, 0u);
}

// ---------------------------------------------------------------------------------------------
// AUTH before and after TLS.

TEST_F(SmtpTlsTest, AuthAfterTlsIsOfferedOnlyInsideTls) {
  const std::string ip = KindHost(DomainKind::kAuthAfterTls);
  auto c = Connect(ip, 25);
  EXPECT_THAT(PlainEhlo(*c), AllOf(HasSubstr("250-STARTTLS\r\n"), Not(HasSubstr("AUTH"))));
  c->Send("STARTTLS\r\n");
  EXPECT_EQ(c->ReadReply(), kReady);
  ASSERT_TRUE(c->StartTls(ctx_.get(), KindHostName(DomainKind::kAuthAfterTls)));
  EXPECT_THAT(TlsEhlo(*c, 25), HasSubstr("250-AUTH PLAIN LOGIN\r\n"));
  ExpectQuitHonoured(*c);
  auto tls = Connect(ip, 465);
  ASSERT_TRUE(Secure(*tls, 465, KindHostName(DomainKind::kAuthAfterTls)));
  EXPECT_THAT(TlsEhlo(*tls, 465), HasSubstr("250-AUTH PLAIN LOGIN\r\n"));
}

TEST_F(SmtpTlsTest, AuthBeforeTlsIsOfferedInPlaintext) {
  auto c = Connect(KindHost(DomainKind::kAuthBeforeTls), 587);
  EXPECT_THAT(PlainEhlo(*c),
              AllOf(HasSubstr("250-STARTTLS\r\n"), HasSubstr("250-AUTH PLAIN LOGIN\r\n")));
  c->Send("STARTTLS\r\n");
  EXPECT_EQ(c->ReadReply(), kReady);
  ASSERT_TRUE(c->StartTls(ctx_.get(), KindHostName(DomainKind::kAuthBeforeTls)));
  EXPECT_THAT(TlsEhlo(*c, 587),
              AllOf(HasSubstr("250-AUTH PLAIN LOGIN\r\n"), Not(HasSubstr("STARTTLS"))));
  ExpectQuitHonoured(*c);
}

// ---------------------------------------------------------------------------------------------
// Counters, robustness, the CA file, a fleet without TLS.

TEST_F(SmtpTlsTest, SniIsKeptPerEndpointAndHandshakesAreCounted) {
  const std::string ip = ProviderHost(0);
  for (const auto& [logical, sni] : {std::pair<uint16_t, std::string>{25, "first.test"},
                                     {465, "second.test"},
                                     {465, ""},  // no SNI: the last one stays
                                     {587, "mx1.provider-0.test"}}) {
    auto c = Connect(ip, logical);
    ASSERT_TRUE(Secure(*c, logical, sni));
    EXPECT_THAT(TlsEhlo(*c, logical), StartsWith("250-"));
    ExpectQuitHonoured(*c);
  }
  EXPECT_TRUE(fleet_->WaitForSmtpIdle(kGuardMs));
  SmtpStats stats = fleet_->smtp_stats();
  EXPECT_EQ(stats.tls_handshakes, 4u);
  EXPECT_EQ(stats.SniAt(ip, 25), "first.test");
  EXPECT_EQ(stats.SniAt(ip, 465), "second.test");
  EXPECT_EQ(stats.SniAt(ip, 587), "mx1.provider-0.test");
  EXPECT_EQ(stats.SniAt(ProviderHost(1), 25), "");
  EXPECT_EQ(stats.sni.size(), 3u);
  fleet_->ResetSmtpStats();
  EXPECT_EQ(fleet_->smtp_stats().tls_handshakes, 0u);
  EXPECT_THAT(fleet_->smtp_stats().sni, IsEmpty());
}

TEST_F(SmtpTlsTest, BrokenClientsAreDroppedAndEveryConnectionEnds) {
  const std::string ip = ProviderHost(0);
  {
    // Plaintext on the TLS port: no handshake, the server closes.
    auto c = Connect(ip, 465);
    c->Send("EHLO client.test\r\n");
    EXPECT_THAT(c->ReadAll(), Not(HasSubstr("250")));
  }
  {
    // A client that leaves in the middle of the handshake.
    auto c = Connect(ip, 465);
    bssl::UniquePtr<SSL> ssl(SSL_new(ctx_.get()));
    SSL_set_bio(ssl.get(), BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
    SSL_set_connect_state(ssl.get());
    SSL_do_handshake(ssl.get());
    const uint8_t* hello;
    size_t hello_len;
    ASSERT_TRUE(BIO_mem_contents(SSL_get_wbio(ssl.get()), &hello, &hello_len));
    ASSERT_EQ(send(c->fd(), hello, hello_len / 2, MSG_NOSIGNAL), ssize_t(hello_len / 2));
  }
  {
    // One that leaves right after the handshake, without QUIT or close_notify.
    auto c = Connect(ip, 587);
    ASSERT_TRUE(Secure(*c, 587, "mx1.provider-0.test"));
  }
  EXPECT_TRUE(fleet_->WaitForSmtpIdle(kGuardMs));
  EXPECT_EQ(fleet_->smtp_stats().open, 0u);
  // And the server still serves.
  auto c = Connect(ip, 465);
  ASSERT_TRUE(Secure(*c, 465, "mx1.provider-0.test"));
  EXPECT_THAT(TlsEhlo(*c, 465), StartsWith("250-"));
  ExpectQuitHonoured(*c);
}

TEST_F(SmtpTlsTest, LargeRepliesCrossTlsWhole) {
  // Many pipelined commands in one record and their replies: nothing lost or reordered
  // through TLS, whatever the record boundaries.
  auto c = Connect(ProviderHost(0), 465);
  ASSERT_TRUE(Secure(*c, 465, "mx1.provider-0.test"));
  EXPECT_THAT(c->ReadReply(), StartsWith("220 "));
  std::string many;
  for (int i = 0; i < 200; ++i) many += "NOOP\r\n";
  c->Send(many);
  for (int i = 0; i < 200; ++i) ASSERT_EQ(c->ReadReply(), "250 2.0.0 Ok\r\n") << i;
  ExpectQuitHonoured(*c);
}

TEST(SmtpTlsStandaloneTest, CaFileHoldsTheRootWhileTheFleetLives) {
  std::unique_ptr<Fleet> fleet = StartFleet();
  ASSERT_NE(fleet, nullptr);
  const std::string path = fleet->ca_file();
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), fleet->ca().root_pem());
  EXPECT_THAT(text.str(), StartsWith("-----BEGIN CERTIFICATE-----"));
  fleet.reset();
  struct stat st;
  EXPECT_NE(stat(path.c_str(), &st), 0) << path << " outlived its fleet";
}

TEST(SmtpTlsStandaloneTest, WithoutTlsNoStarttlsAndPlaintextOn465) {
  std::unique_ptr<Fleet> fleet = StartFleet(/*tls=*/false);
  ASSERT_NE(fleet, nullptr);
  const std::string ip = ProviderHost(0);
  Client c(ip, fleet->smtp_port(25));
  EXPECT_THAT(c.ReadReply(), StartsWith("220 "));
  c.Send("EHLO client.test\r\n");
  EXPECT_THAT(c.ReadReply(), AllOf(HasSubstr("250-PIPELINING"), Not(HasSubstr("STARTTLS"))));
  c.Send("STARTTLS\r\n");
  EXPECT_EQ(c.ReadReply(), "502 5.5.2 Error: command not recognized\r\n");
  Client plain(KindHost(DomainKind::kTlsExpired), fleet->smtp_port(465));
  EXPECT_EQ(plain.ReadReply(), "220 tls-expired-1.fleet.test ESMTP Postfix\r\n");
  // The expectations follow.
  std::vector<ExpectedPort> want = fleet->population().ExpectPorts(ip);
  EXPECT_EQ(want[0].outcome, "starttls_not_offered");
  EXPECT_FALSE(want[0].starttls);
  EXPECT_EQ(want[1].outcome, "plaintext_on_tls_port");
  EXPECT_EQ(want[1].banner_code, 220);
  EXPECT_EQ(want[1].tls_version, "");
}

}  // namespace
}  // namespace mxray::fleet
