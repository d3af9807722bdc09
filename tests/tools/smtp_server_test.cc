// The fleet's SMTP servers over real loopback sockets, seen by a plain blocking client: every
// behaviour answers as specified, QUIT is honoured, limits hold, delays are timers, the counters
// count, only loopback addresses listen, and the ports fall back when taken. No sleeps: absence
// of bytes is shown by closing our side first (the server then closes having sent nothing), the
// end of a connection by WaitForSmtpIdle(); read timeouts only guard against a broken server.
// Delays are checked as lower bounds, which a timer guarantees.
#include <arpa/inet.h>
#include <dirent.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/tools/smtp_test_client.h"
#include "tools/fleet/fleet.h"

namespace mxray::fleet {
namespace {

using ::testing::AllOf;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;

using testing_client::Client;
using testing_client::kGuardMs;
using testing_client::Sockaddr;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string KindHost(DomainKind kind, int n = 1) {
  return Population::AddressText(Population::SmtpKindAddress(kind, size_t(n)));
}

std::string ProviderHost(size_t provider) {
  return Population::AddressText(Population::ProviderAddress(provider, 1));
}

SmtpOptions TestSmtp() {
  SmtpOptions smtp;
  smtp.greeting_delay_ms = 50;
  smtp.greeting_stall_ms = 600'000;  // never within a test
  smtp.drip_interval_ms = 5;
  smtp.hosts_per_kind = 2;
  return smtp;
}

std::unique_ptr<Fleet> StartFleet(const SmtpOptions& smtp = TestSmtp()) {
  FleetOptions options;
  options.domain_count = kDomainKindCount;
  options.smtp = smtp;
  absl::StatusOr<std::unique_ptr<Fleet>> fleet = Fleet::Start(options);
  EXPECT_TRUE(fleet.ok()) << fleet.status();
  return fleet.ok() ? *std::move(fleet) : nullptr;
}

class SmtpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fleet_ = StartFleet();
    ASSERT_NE(fleet_, nullptr);
    tls_ = testing_client::ClientContext(fleet_->ca_file());
  }
  std::unique_ptr<Client> Connect(const std::string& ip, uint16_t logical = 25) {
    return std::make_unique<Client>(ip, fleet_->smtp_port(logical));
  }
  // Connects, checks the greeting starts with `banner`, sends EHLO, returns its reply.
  std::string Ehlo(Client& c, const std::string& banner_prefix = "220 ") {
    EXPECT_TRUE(c.connected()) << strerror(c.connect_errno());
    EXPECT_THAT(c.ReadReply(), StartsWith(banner_prefix));
    c.Send("EHLO client.test\r\n");
    return c.ReadReply();
  }
  void ExpectQuitHonoured(Client& c) {
    c.Send("QUIT\r\n");
    EXPECT_EQ(c.ReadReply(), "221 bye\r\n");
    EXPECT_THAT(c.ReadAll(), IsEmpty());
    EXPECT_EQ(c.read_errno(), 0) << "closed with a FIN after 221";
  }
  // 465: the handshake first, then the same as EHLO on 25.
  std::string EhloImplicitTls(Client& c, const std::string& banner_prefix = "220 ") {
    EXPECT_TRUE(c.connected()) << strerror(c.connect_errno());
    EXPECT_TRUE(c.StartTls(tls_.get(), "")) << c.tls_error();
    return Ehlo(c, banner_prefix);
  }

  std::unique_ptr<Fleet> fleet_;
  bssl::UniquePtr<SSL_CTX> tls_;
};

// ---------------------------------------------------------------------------------------------
// Ports and ordinary servers.

TEST_F(SmtpServerTest, PortMapNamesThreeDistinctPorts) {
  std::array<uint16_t, 3> p = fleet_->smtp_ports();
  EXPECT_NE(p[0], 0);
  EXPECT_NE(p[0], p[1]);
  EXPECT_NE(p[1], p[2]);
  EXPECT_NE(p[0], p[2]);
  EXPECT_EQ(fleet_->smtp_port(25), p[0]);
  EXPECT_EQ(fleet_->smtp_port(465), p[1]);
  EXPECT_EQ(fleet_->smtp_port(587), p[2]);
  EXPECT_EQ(fleet_->smtp_port(26), 0);
  EXPECT_EQ(fleet_->smtp_port_map(), "25=" + std::to_string(p[0]) + ",465=" + std::to_string(p[1]) +
                                         ",587=" + std::to_string(p[2]));
}

TEST_F(SmtpServerTest, PostfixFlavourAdvertisesStarttlsAndNoAuth) {
  Client c(ProviderHost(0), fleet_->smtp_port(25));
  EXPECT_EQ(c.ReadReply(), "220 mx1.provider-0.test ESMTP Postfix\r\n");
  c.Send("EHLO client.test\r\n");
  EXPECT_EQ(c.ReadReply(),
            "250-mx1.provider-0.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-ETRN\r\n"
            "250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n"
            "250-SMTPUTF8\r\n250 CHUNKING\r\n");
  ExpectQuitHonoured(c);
}

TEST_F(SmtpServerTest, EximFlavourAdvertisesAuthBeforeTls) {
  auto c = Connect(ProviderHost(1));
  std::string ehlo = Ehlo(*c, "220 mx1.provider-1.test ESMTP Exim");
  EXPECT_THAT(ehlo, StartsWith("250-mx1.provider-1.test Hello client.test [127.0.0.1]\r\n"));
  EXPECT_THAT(ehlo, AllOf(HasSubstr("250-SIZE 52428800\r\n"), HasSubstr("250-AUTH PLAIN LOGIN\r\n"),
                          HasSubstr("250-STARTTLS\r\n"), EndsWith("250 HELP\r\n")));
  ExpectQuitHonoured(*c);
}

TEST_F(SmtpServerTest, MicrosoftFlavourUsesTheOldAuthForm) {
  auto c = Connect(ProviderHost(2));
  std::string ehlo = Ehlo(*c, "220 mx1.provider-2.test Microsoft ESMTP MAIL Service ready");
  EXPECT_THAT(ehlo, StartsWith("250-mx1.provider-2.test Hello [127.0.0.1]\r\n"));
  EXPECT_THAT(ehlo,
              AllOf(HasSubstr("250-SIZE 157286400\r\n"), HasSubstr("250-AUTH GSSAPI NTLM\r\n"),
                    HasSubstr("250-AUTH=LOGIN\r\n"), EndsWith("250 SMTPUTF8\r\n")));
  ExpectQuitHonoured(*c);
}

TEST_F(SmtpServerTest, MinimalFlavourAnswersEhloWithItsNameOnly) {
  auto c = Connect(ProviderHost(3));
  EXPECT_EQ(Ehlo(*c, "220 mx1.provider-3.test\r\n"), "250 mx1.provider-3.test\r\n");
  c->Send("HELO client.test\r\n");
  EXPECT_EQ(c->ReadReply(), "250 mx1.provider-3.test\r\n");
  ExpectQuitHonoured(*c);
}

TEST_F(SmtpServerTest, EveryLogicalPortAndIpv6Serve) {
  for (uint16_t logical : kSmtpLogicalPorts) {
    for (const std::string& ip : {ProviderHost(0), std::string("::1"), std::string("127.2.0.1"),
                                  std::string("127.3.0.100")}) {
      SCOPED_TRACE(ip + " port " + std::to_string(logical));
      auto c = Connect(ip, logical);
      EXPECT_THAT(logical == 465 ? EhloImplicitTls(*c) : Ehlo(*c), StartsWith("250"));
      ExpectQuitHonoured(*c);
    }
  }
}

TEST_F(SmtpServerTest, AddressesOutsideThePlanRefuse) {
  // Own-pool addresses past smtp.own_addresses, and addresses that are not the fleet's.
  for (const char* ip : {"127.2.1.1", "127.4.0.1", "127.0.0.1"}) {
    Client c(ip, fleet_->smtp_port(25));
    EXPECT_EQ(c.connect_errno(), ECONNREFUSED) << ip;
  }
}

TEST_F(SmtpServerTest, PipelinedCommandsAreAnsweredInOrder) {
  auto c = Connect(ProviderHost(3));
  EXPECT_THAT(c->ReadReply(), StartsWith("220 "));
  c->Send("EHLO a.test\r\nNOOP\r\nMAIL FROM:<a@b.test>\r\nQUIT\r\n");
  EXPECT_EQ(c->ReadReply(), "250 mx1.provider-3.test\r\n");
  EXPECT_EQ(c->ReadReply(), "250 2.0.0 Ok\r\n");
  EXPECT_THAT(c->ReadReply(), StartsWith("502 "));
  EXPECT_EQ(c->ReadReply(), "221 bye\r\n");
  EXPECT_THAT(c->ReadAll(), IsEmpty());
}

TEST_F(SmtpServerTest, ALineLongerThan4KiBDropsTheConnection) {
  auto c = Connect(ProviderHost(0));
  EXPECT_THAT(c->ReadReply(), StartsWith("220 "));
  c->Send(std::string(5000, 'a'));
  EXPECT_THAT(c->ReadAll(), IsEmpty());
  EXPECT_EQ(fleet_->smtp_stats().dropped, 1u);
}

// ---------------------------------------------------------------------------------------------
// The SMTP kinds.

TEST_F(SmtpServerTest, HeloOnlyRejectsEhloAndAcceptsHelo) {
  auto c = Connect(KindHost(DomainKind::kSmtpHeloOnly));
  EXPECT_THAT(Ehlo(*c, "220 smtp-helo-only-1.fleet.test SMTP"), StartsWith("502 "));
  c->Send("HELO client.test\r\n");
  EXPECT_EQ(c->ReadReply(), "250 smtp-helo-only-1.fleet.test\r\n");
  ExpectQuitHonoured(*c);
}

TEST_F(SmtpServerTest, SlowGreetingComesAfterItsDelay) {
  const int64_t start = NowMs();
  auto c = Connect(KindHost(DomainKind::kSmtpSlowGreeting));
  EXPECT_EQ(c->ReadReply(), "220 smtp-slow-greeting-1.fleet.test ESMTP Postfix\r\n");
  EXPECT_GE(NowMs() - start, 50);
  c->Send("EHLO client.test\r\n");
  EXPECT_THAT(c->ReadReply(), HasSubstr("250-STARTTLS"));
  ExpectQuitHonoured(*c);
}

TEST_F(SmtpServerTest, StalledGreetingSaysNothingBeforeTheClientLeaves) {
  auto c = Connect(KindHost(DomainKind::kSmtpStalledGreeting));
  ASSERT_TRUE(c->connected());
  shutdown(c->fd(), SHUT_WR);  // the server sees us leave and closes, having sent nothing
  EXPECT_THAT(c->ReadAll(), IsEmpty());
  EXPECT_EQ(c->read_errno(), 0);
}

TEST(SmtpServerStandaloneTest, StalledGreetingComesAfterTheStall) {
  SmtpOptions smtp = TestSmtp();
  smtp.greeting_stall_ms = 150;
  std::unique_ptr<Fleet> fleet = StartFleet(smtp);
  ASSERT_NE(fleet, nullptr);
  const int64_t start = NowMs();
  Client c(KindHost(DomainKind::kSmtpStalledGreeting), fleet->smtp_port(25));
  EXPECT_THAT(c.ReadReply(), StartsWith("220 smtp-stalled-greeting-1.fleet.test ESMTP"));
  EXPECT_GE(NowMs() - start, 150);
}

TEST_F(SmtpServerTest, Greeting421AndQuit) {
  auto c = Connect(KindHost(DomainKind::kSmtpGreeting421));
  EXPECT_THAT(c->ReadReply(), StartsWith("421 4.3.2 smtp-greeting-421-1.fleet.test "));
  ExpectQuitHonoured(*c);
  // Anything but QUIT after a 421 greeting: 421 again, and the server hangs up.
  auto d = Connect(KindHost(DomainKind::kSmtpGreeting421));
  EXPECT_THAT(Ehlo(*d, "421 "), StartsWith("421 "));
  EXPECT_THAT(d->ReadAll(), IsEmpty());
}

TEST_F(SmtpServerTest, Retry421GreetsTheFirstConnectionsOfEachEndpointWith421) {
  const std::string ip = KindHost(DomainKind::kSmtp421ThenOk);
  const uint32_t refused = TestSmtp().greeting_421_connections;
  ASSERT_EQ(refused, 2u);
  // One connection after the other on 25: the first ones are refused, then it serves.
  for (uint32_t k = 0; k < refused; ++k) {
    auto c = Connect(ip, 25);
    EXPECT_EQ(c->ReadReply(), "421 4.7.0 try again later\r\n") << k;
    ExpectQuitHonoured(*c);
  }
  auto served = Connect(ip, 25);
  EXPECT_THAT(Ehlo(*served, "220 smtp-421-then-ok-1.fleet.test ESMTP Postfix"),
              HasSubstr("250-STARTTLS"));
  ExpectQuitHonoured(*served);
  auto again = Connect(ip, 25);  // and keeps serving
  EXPECT_THAT(again->ReadReply(), StartsWith("220 "));
  ExpectQuitHonoured(*again);
  // 587 counts its own connections; anything but QUIT after the 421 gets 421 and a hang-up.
  auto other = Connect(ip, 587);
  EXPECT_THAT(Ehlo(*other, "421 4.7.0 try again later"), StartsWith("421 "));
  EXPECT_THAT(other->ReadAll(), IsEmpty());
  // Another host of the kind counts its own too; 465 is an ordinary implicit-TLS Postfix.
  auto host2 = Connect(KindHost(DomainKind::kSmtp421ThenOk, 2), 25);
  EXPECT_EQ(host2->ReadReply(), "421 4.7.0 try again later\r\n");
  ExpectQuitHonoured(*host2);
  auto tls = Connect(ip, 465);
  EXPECT_THAT(EhloImplicitTls(*tls, "220 smtp-421-then-ok-1.fleet.test ESMTP Postfix"),
              StartsWith("250-"));
  SmtpStats s = fleet_->smtp_stats();
  EXPECT_EQ(s.ConnectionsTo(ip, 25), refused + 2);
  EXPECT_EQ(s.ConnectionsTo(ip, 587), 1u);
  // A reset starts the count again.
  tls.reset();
  EXPECT_TRUE(fleet_->WaitForSmtpIdle(kGuardMs));
  fleet_->ResetSmtpStats();
  auto after_reset = Connect(ip, 25);
  EXPECT_EQ(after_reset->ReadReply(), "421 4.7.0 try again later\r\n");
  ExpectQuitHonoured(*after_reset);
}

TEST(SmtpServerStandaloneTest, Retry421CountFollowsTheOption) {
  SmtpOptions smtp = TestSmtp();
  smtp.greeting_421_connections = 0;
  std::unique_ptr<Fleet> fleet = StartFleet(smtp);
  ASSERT_NE(fleet, nullptr);
  Client c(KindHost(DomainKind::kSmtp421ThenOk), fleet->smtp_port(25));
  EXPECT_THAT(c.ReadReply(), StartsWith("220 smtp-421-then-ok-1.fleet.test ESMTP Postfix"));
  EXPECT_EQ(fleet->population().ExpectPorts(KindHost(DomainKind::kSmtp421ThenOk))[0].attempts, 1u);
}

TEST_F(SmtpServerTest, Greeting554RefusesCommandsButQuit) {
  auto c = Connect(KindHost(DomainKind::kSmtpGreeting554));
  EXPECT_THAT(Ehlo(*c, "554 5.3.2 smtp-greeting-554-1.fleet.test "), StartsWith("503 "));
  ExpectQuitHonoured(*c);
}

TEST_F(SmtpServerTest, Ehlo421AfterAnOrdinaryGreeting) {
  auto c = Connect(KindHost(DomainKind::kSmtpEhlo421));
  EXPECT_THAT(Ehlo(*c, "220 smtp-ehlo-421-1.fleet.test ESMTP"), StartsWith("421 4.7.0 "));
  ExpectQuitHonoured(*c);
}

TEST_F(SmtpServerTest, DripSendsItsGreetingOneByteAtATimeUntilTheClientLeaves) {
  const int64_t start = NowMs();
  auto c = Connect(KindHost(DomainKind::kSmtpDrip));
  const std::string line = "220-smtp-drip-1.fleet.test greeting, one byte at a time\r\n";
  const std::string want = line + line.substr(0, 20);  // past the first line: it never ends
  EXPECT_EQ(c->ReadBytes(want.size()), want);
  // The first byte goes at once, each next one an interval later.
  EXPECT_GE(NowMs() - start, int64_t(want.size() - 1) * 5);
  c->Close();
  EXPECT_TRUE(fleet_->WaitForSmtpIdle(kGuardMs));
}

TEST_F(SmtpServerTest, SilentNeverWritesEvenToQuit) {
  auto c = Connect(KindHost(DomainKind::kSmtpSilent));
  c->Send("QUIT\r\n");
  shutdown(c->fd(), SHUT_WR);
  EXPECT_THAT(c->ReadAll(), IsEmpty());
  EXPECT_EQ(c->read_errno(), 0);
}

TEST_F(SmtpServerTest, ResetInTheMiddleOfTheGreeting) {
  auto c = Connect(KindHost(DomainKind::kSmtpResetMidReply));
  ASSERT_TRUE(c->connected()) << strerror(c->connect_errno());
  EXPECT_EQ(c->ReadAll(), "220-part");
  EXPECT_EQ(c->read_errno(), ECONNRESET);
}

TEST_F(SmtpServerTest, EndlessLineStopsWhenTheClientLeaves) {
  auto c = Connect(KindHost(DomainKind::kSmtpEndlessLine));
  std::string got = c->ReadBytes(200 * 1024);
  ASSERT_THAT(got, SizeIs(200 * 1024));
  EXPECT_THAT(got, StartsWith("220 xxxx"));
  EXPECT_EQ(got.find('\n'), std::string::npos);
  c->Close();
  EXPECT_TRUE(fleet_->WaitForSmtpIdle(kGuardMs));
  EXPECT_EQ(fleet_->smtp_stats().open, 0u);
}

TEST_F(SmtpServerTest, EndlessContinuationAfterEhloStopsWhenTheClientLeaves) {
  auto c = Connect(KindHost(DomainKind::kSmtpEndlessContinuation));
  EXPECT_EQ(c->ReadReply(), "220 smtp-endless-continuation-1.fleet.test ESMTP Postfix\r\n");
  c->Send("EHLO client.test\r\n");
  const std::string first = "250-smtp-endless-continuation-1.fleet.test\r\n";
  EXPECT_EQ(c->ReadBytes(first.size()), first);
  for (int i = 0; i < 500; ++i) {
    std::string line = c->ReadBytes(64);
    ASSERT_THAT(line, StartsWith("250-continuation")) << i;
    ASSERT_THAT(line, EndsWith("\r\n")) << i;
  }
  c->Close();
  EXPECT_TRUE(fleet_->WaitForSmtpIdle(kGuardMs));
}

TEST_F(SmtpServerTest, BadCodesOnOddAndEvenHosts) {
  auto odd = Connect(KindHost(DomainKind::kSmtpBadCode, 1));
  EXPECT_EQ(odd->ReadReply(), "22O smtp-bad-code-1.fleet.test ESMTP\r\n");
  ExpectQuitHonoured(*odd);
  auto even = Connect(KindHost(DomainKind::kSmtpBadCode, 2));
  EXPECT_EQ(even->ReadReply(), "2200 smtp-bad-code-2.fleet.test ESMTP\r\n");
}

TEST_F(SmtpServerTest, CodeChangesBetweenLines) {
  auto c = Connect(KindHost(DomainKind::kSmtpCodeChange));
  EXPECT_EQ(c->ReadReply(),
            "220-smtp-code-change-1.fleet.test ESMTP\r\n"
            "221 smtp-code-change-1.fleet.test changed its mind\r\n");
}

TEST_F(SmtpServerTest, EarlyTalkerSendsAnUnaskedLineWithItsGreeting) {
  auto c = Connect(KindHost(DomainKind::kSmtpEarlyTalker));
  // One write on the server's side: the first read holds both.
  EXPECT_EQ(c->ReadOnce(),
            "220 smtp-early-talker-1.fleet.test ESMTP Postfix\r\n250 2.0.0 Ok: nobody asked\r\n");
  ExpectQuitHonoured(*c);
}

TEST_F(SmtpServerTest, CloseAfterEhloHangsUpWithoutAReply) {
  auto c = Connect(KindHost(DomainKind::kSmtpCloseAfterEhlo));
  EXPECT_THAT(Ehlo(*c, "220 smtp-close-after-ehlo-1.fleet.test"), IsEmpty());
  EXPECT_EQ(c->read_errno(), 0);
}

TEST_F(SmtpServerTest, SilentAfterEhloTalksUntilEhloThenNeverAgain) {
  auto c = Connect(KindHost(DomainKind::kSmtpSilentAfterEhlo));
  ASSERT_TRUE(c->connected()) << strerror(c->connect_errno());
  EXPECT_EQ(c->ReadReply(), "220 smtp-silent-after-ehlo-1.fleet.test ESMTP Postfix\r\n");
  // One write, so the server takes the three lines in one pass: by the time the NOOP's reply
  // arrives, the EHLO and the NOOP after it have been taken too, and any answer to them would
  // already be on its way. An ordinary server until EHLO, mute from then on.
  c->Send("NOOP\r\nEHLO client.test\r\nNOOP\r\n");
  EXPECT_EQ(c->ReadReply(), "250 2.0.0 Ok\r\n");
  EXPECT_EQ(fleet_->smtp_stats().open, 1u);  // no hang-up either: it waits for us
  shutdown(c->fd(), SHUT_WR);  // the server sees us leave and closes, having said nothing more
  EXPECT_THAT(c->ReadAll(), IsEmpty());
  EXPECT_EQ(c->read_errno(), 0);
  EXPECT_TRUE(fleet_->WaitForSmtpIdle(kGuardMs));
  EXPECT_EQ(fleet_->smtp_stats().dropped, 0u);
  EXPECT_EQ(fleet_->smtp_stats().lifetime_closed, 0u);
}

TEST_F(SmtpServerTest, ClosedPortRefusesAndTheOthersServe) {
  const std::string ip = KindHost(DomainKind::kSmtpClosedPort);
  EXPECT_EQ(Connect(ip, 587)->connect_errno(), ECONNREFUSED);
  auto c = Connect(ip, 25);
  EXPECT_THAT(Ehlo(*c), StartsWith("250-"));
  ExpectQuitHonoured(*c);
  auto tls = Connect(ip, 465);
  EXPECT_THAT(EhloImplicitTls(*tls), StartsWith("250-"));
  ExpectQuitHonoured(*tls);
}

TEST_F(SmtpServerTest, FilteredPortNeverAnswersTheSyn) {
  const std::string ip = KindHost(DomainKind::kSmtpFilteredPort);
  socklen_t len;
  sockaddr_storage addr = Sockaddr(ip, fleet_->smtp_port(25), &len);
  int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), len), -1);
  ASSERT_EQ(errno, EINPROGRESS);
  // An open port completes at once on loopback; this one must not within the wait.
  pollfd p{fd, POLLOUT, 0};
  EXPECT_EQ(poll(&p, 1, 300), 0);
  tcp_info info{};
  socklen_t info_len = sizeof(info);
  ASSERT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &info_len), 0);
  EXPECT_EQ(info.tcpi_state, TCP_SYN_SENT);
  close(fd);
  for (uint16_t logical : {465, 587}) {
    auto c = Connect(ip, logical);
    EXPECT_THAT(logical == 465 ? EhloImplicitTls(*c) : Ehlo(*c), StartsWith("250-"));
    ExpectQuitHonoured(*c);
  }
  EXPECT_EQ(fleet_->smtp_stats().ConnectionsTo(ip, 25), 0u);
}

TEST_F(SmtpServerTest, Plain465SpeaksPlaintext) {
  auto c = Connect(KindHost(DomainKind::kSmtpPlain465), 465);
  EXPECT_THAT(Ehlo(*c, "220 smtp-plain-465-1.fleet.test ESMTP Postfix"), StartsWith("250-"));
  ExpectQuitHonoured(*c);
  // A TLS client's ClientHello gets the plaintext greeting, which no TLS client can read.
  auto tls = Connect(KindHost(DomainKind::kSmtpPlain465), 465);
  std::string received;
  EXPECT_FALSE(tls->StartTls(tls_.get(), "smtp-plain-465-1.fleet.test", &received));
  EXPECT_THAT(received, StartsWith("220 smtp-plain-465-1.fleet.test ESMTP Postfix\r\n"));
}

TEST_F(SmtpServerTest, PlaintextCasesServeAnOrdinaryImplicitTls465) {
  for (DomainKind kind : {DomainKind::kSmtpDrip, DomainKind::kSmtpGreeting554,
                          DomainKind::kSmtpSilentAfterEhlo, DomainKind::kSmtpEarlyTalker}) {
    SCOPED_TRACE(DomainKindName(kind));
    auto c = Connect(KindHost(kind), 465);
    const std::string name = std::string(DomainKindLabel(kind)) + "-1.fleet.test";
    EXPECT_THAT(EhloImplicitTls(*c, "220 " + name + " ESMTP Postfix\r\n"),
                StartsWith("250-" + name + "\r\n"));
    ExpectQuitHonoured(*c);
  }
}

// ---------------------------------------------------------------------------------------------
// Wide-area mode, counters, limits, sockets.

TEST(SmtpServerStandaloneTest, WideAreaLatencyDelaysEveryReply) {
  SmtpOptions smtp = TestSmtp();
  smtp.latency_ms = 40;
  std::unique_ptr<Fleet> fleet = StartFleet(smtp);
  ASSERT_NE(fleet, nullptr);
  int64_t t = NowMs();
  Client c(ProviderHost(0), fleet->smtp_port(25));
  EXPECT_THAT(c.ReadReply(), StartsWith("220 "));
  EXPECT_GE(NowMs() - t, 40);
  t = NowMs();
  c.Send("EHLO client.test\r\nNOOP\r\n");  // pipelined: each reply waits its own latency
  EXPECT_THAT(c.ReadReply(), StartsWith("250-"));
  EXPECT_EQ(c.ReadReply(), "250 2.0.0 Ok\r\n");
  EXPECT_GE(NowMs() - t, 80);
  t = NowMs();
  c.Send("QUIT\r\n");
  EXPECT_EQ(c.ReadReply(), "221 bye\r\n");
  EXPECT_GE(NowMs() - t, 40);
  // The slow greeting waits for both.
  t = NowMs();
  Client slow(KindHost(DomainKind::kSmtpSlowGreeting), fleet->smtp_port(587));
  EXPECT_THAT(slow.ReadReply(), StartsWith("220 "));
  EXPECT_GE(NowMs() - t, 90);
}

TEST_F(SmtpServerTest, CountsConnectionsPerEndpointAndConcurrencyPerAddress) {
  const std::string ip = ProviderHost(0);
  const std::string other = ProviderHost(1);
  {
    // A connection counts once its client speaks (or when it ends): each says NOOP in turn.
    auto a = Connect(ip, 25), b = Connect(ip, 25), c = Connect(ip, 587);
    for (Client* x : {a.get(), b.get(), c.get()}) {
      EXPECT_THAT(x->ReadReply(), StartsWith("220"));
      x->Send("NOOP\r\n");
      EXPECT_EQ(x->ReadReply(), "250 2.0.0 Ok\r\n");
    }
    SmtpStats s = fleet_->smtp_stats();
    EXPECT_EQ(s.ConnectionsTo(ip, 25), 2u);
    EXPECT_EQ(s.ConnectionsTo(ip, fleet_->smtp_port(25)), 2u);  // the dialled number works too
    EXPECT_EQ(s.ConnectionsTo(ip, 587), 1u);
    EXPECT_EQ(s.ConnectionsTo(ip, 465), 0u);
    EXPECT_EQ(s.MaxConcurrentTo(ip), 3u);
    EXPECT_EQ(s.MaxConcurrentPerAddress(), 3u);
    EXPECT_EQ(s.TotalConnections(), 3u);
    EXPECT_EQ(s.open, 3u);
  }
  EXPECT_TRUE(fleet_->WaitForSmtpIdle(kGuardMs));
  fleet_->ResetSmtpStats();
  EXPECT_EQ(fleet_->smtp_stats().TotalConnections(), 0u);
  EXPECT_EQ(fleet_->smtp_stats().MaxConcurrentPerAddress(), 0u);
  // One after the other: QUIT and the server's close come before the next connect.
  for (uint16_t logical : kSmtpLogicalPorts) {
    auto c = Connect(other, logical);
    if (logical == 465) {
      EXPECT_TRUE(c->StartTls(tls_.get(), "")) << c->tls_error();
    }
    EXPECT_THAT(c->ReadReply(), StartsWith("220"));
    ExpectQuitHonoured(*c);
  }
  SmtpStats s = fleet_->smtp_stats();
  EXPECT_EQ(s.MaxConcurrentTo(other), 1u);
  EXPECT_EQ(s.MaxConcurrentTo(ip), 0u);
  EXPECT_EQ(s.TotalConnections(), 3u);
  EXPECT_EQ(s.ConnectionsTo(other, 465), 1u);
}

TEST_F(SmtpServerTest, AClientThatLeftIsNotCountedAsConcurrent) {
  // A client closes and connects again at once, 20 times: the server may not have read a close
  // when it accepts the next connection, but none may count an earlier one as still open.
  const std::string ip = KindHost(DomainKind::kSmtpSilent);
  for (int i = 0; i < 20; ++i) {
    auto c = Connect(ip, kSmtpLogicalPorts[size_t(i) % 3]);
    ASSERT_TRUE(c->connected());
    if (i % 2) c->Send("EHLO client.test\r\n");  // half of them speak, half leave silently
  }
  EXPECT_TRUE(fleet_->WaitForSmtpIdle(kGuardMs));
  EXPECT_EQ(fleet_->smtp_stats().TotalConnections(), 20u);
  EXPECT_EQ(fleet_->smtp_stats().MaxConcurrentTo(ip), 1u);
  // Two held at once are two: the second speaks while the first is still open.
  const std::string talking = ProviderHost(0);
  auto a = Connect(talking, 25);
  EXPECT_THAT(a->ReadReply(), StartsWith("220"));
  a->Send("NOOP\r\n");
  EXPECT_EQ(a->ReadReply(), "250 2.0.0 Ok\r\n");
  auto b = Connect(talking, 587);
  EXPECT_THAT(b->ReadReply(), StartsWith("220"));
  b->Send("NOOP\r\n");
  EXPECT_EQ(b->ReadReply(), "250 2.0.0 Ok\r\n");
  EXPECT_EQ(fleet_->smtp_stats().MaxConcurrentTo(talking), 2u);
}

TEST(SmtpServerStandaloneTest, ConnectionsOverTheLimitAreClosedAtOnce) {
  SmtpOptions smtp = TestSmtp();
  smtp.max_connections = 2;
  std::unique_ptr<Fleet> fleet = StartFleet(smtp);
  ASSERT_NE(fleet, nullptr);
  Client a(ProviderHost(0), fleet->smtp_port(25));
  EXPECT_THAT(a.ReadReply(), StartsWith("220"));
  Client b(ProviderHost(1), fleet->smtp_port(25));
  EXPECT_THAT(b.ReadReply(), StartsWith("220"));
  Client c(ProviderHost(2), fleet->smtp_port(25));
  EXPECT_THAT(c.ReadAll(), IsEmpty());
  EXPECT_EQ(fleet->smtp_stats().rejected, 1u);
  EXPECT_EQ(fleet->smtp_stats().TotalConnections(), 2u);
}

TEST_F(SmtpServerTest, DescriptorsReturnToTheIdleCount) {
  auto count_fds = [] {
    size_t n = 0;
    DIR* d = opendir("/proc/self/fd");
    while (readdir(d) != nullptr) ++n;
    closedir(d);
    return n;
  };
  const size_t before = count_fds();
  for (int round = 0; round < 3; ++round) {
    for (size_t k = size_t(kFirstSmtpKind); k < kDomainKindCount; ++k) {
      for (uint16_t logical : kSmtpLogicalPorts) {
        if (DomainKind(k) == DomainKind::kSmtpFilteredPort && logical == 25) continue;
        Client c(KindHost(DomainKind(k)), fleet_->smtp_port(logical));
        // 465 with TLS says nothing before a ClientHello; the TLS cases start it (or stall).
        const bool tls = logical == 465 && DomainKind(k) != DomainKind::kSmtpPlain465;
        if (c.connected() && tls && round == 1 && DomainKind(k) != DomainKind::kTlsStall) {
          c.StartTls(tls_.get(), "");
        } else if (c.connected() && !tls && DomainKind(k) != DomainKind::kSmtpSilent &&
                   DomainKind(k) != DomainKind::kSmtpStalledGreeting) {
          c.ReadBytes(1);
        }
      }
    }
  }
  EXPECT_TRUE(fleet_->WaitForSmtpIdle(kGuardMs));
  EXPECT_EQ(count_fds(), before);
  EXPECT_GT(fleet_->smtp_stats().TotalConnections(), 100u);
}

// The LISTEN sockets of /proc/net/tcp and tcp6, as "ip port".
std::set<std::pair<std::string, uint16_t>> ListeningSockets() {
  std::set<std::pair<std::string, uint16_t>> out;
  for (const char* path : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state;
      fields >> slot >> local >> remote >> state;
      if (state != "0A") continue;  // TCP_LISTEN
      const size_t colon = local.find(':');
      const std::string hex = local.substr(0, colon);
      const uint16_t port = uint16_t(std::stoul(local.substr(colon + 1), nullptr, 16));
      uint8_t bytes[16];
      // Each 32-bit word is printed as the host-order integer of its network-order bytes.
      for (size_t w = 0; w < hex.size() / 8; ++w) {
        uint32_t word = uint32_t(std::stoul(hex.substr(w * 8, 8), nullptr, 16));
        std::memcpy(bytes + 4 * w, &word, 4);
      }
      char text[INET6_ADDRSTRLEN];
      inet_ntop(hex.size() == 8 ? AF_INET : AF_INET6, bytes, text, sizeof(text));
      out.insert({text, port});
    }
  }
  return out;
}

TEST_F(SmtpServerTest, OnlyLoopbackAddressesListenAndEverySocketIsThere) {
  std::set<std::pair<std::string, uint16_t>> listening = ListeningSockets();
  const std::array<uint16_t, 3> ports = fleet_->smtp_ports();
  const std::set<uint16_t> ours(ports.begin(), ports.end());
  size_t seen = 0;
  for (const auto& [ip, port] : listening) {
    if (!ours.contains(port)) continue;
    ++seen;
    EXPECT_TRUE(ip.starts_with("127.") || ip == "::1") << ip << " port " << port;
  }
  size_t listeners = 0;
  for (const SmtpEndpoint& e : fleet_->smtp_endpoints()) {
    const bool listens = e.behaviour != SmtpBehaviour::kClosed;
    listeners += listens;
    EXPECT_EQ(listening.contains({e.ip, e.port}), listens)
        << e.ip << ":" << e.port << " " << SmtpBehaviourName(e.behaviour);
  }
  EXPECT_GE(seen, listeners);
  EXPECT_GT(listeners, 1000u);
  EXPECT_LE(fleet_->smtp_idle_descriptors(), 4000u);
}

TEST(SmtpServerStandaloneTest, TakenPortsFallBackToFreeOnesUnlessExact) {
  std::unique_ptr<Fleet> first = StartFleet();
  ASSERT_NE(first, nullptr);
  SmtpOptions same = TestSmtp();
  same.ports = first->smtp_ports();
  std::unique_ptr<Fleet> second = StartFleet(same);
  ASSERT_NE(second, nullptr);
  for (uint16_t p : second->smtp_ports()) {
    EXPECT_NE(p, 0);
    for (uint16_t q : first->smtp_ports()) EXPECT_NE(p, q);
  }
  Client c(ProviderHost(0), second->smtp_port(587));
  EXPECT_THAT(c.ReadReply(), StartsWith("220 "));

  same.exact_ports = true;
  FleetOptions options{.domain_count = 10, .smtp = same};
  absl::StatusOr<std::unique_ptr<Fleet>> exact = Fleet::Start(options);
  EXPECT_FALSE(exact.ok());
  EXPECT_THAT(std::string(exact.status().message()), HasSubstr("bind SMTP"));

  SmtpOptions twice = TestSmtp();
  twice.ports = {20025, 20025, 0};
  options.smtp = twice;
  EXPECT_EQ(Fleet::Start(options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SmtpServerStandaloneTest, DisabledSmtpBindsNothing) {
  absl::StatusOr<std::unique_ptr<Fleet>> fleet =
      Fleet::Start({.domain_count = 10, .smtp = {.enabled = false}});
  ASSERT_TRUE(fleet.ok()) << fleet.status();
  EXPECT_EQ((*fleet)->smtp_port_map(), "");
  EXPECT_EQ((*fleet)->smtp_port(25), 0);
  EXPECT_THAT((*fleet)->smtp_endpoints(), IsEmpty());
  EXPECT_TRUE((*fleet)->WaitForSmtpIdle(0));
}

}  // namespace
}  // namespace mxray::fleet
