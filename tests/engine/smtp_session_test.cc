// SmtpSession driven by scripted server transcripts: what it sends, when it stops, and the
// outcome of every way a server can behave, with the transcript split at every byte.
#include "engine/smtp_session.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace mxray::engine {
namespace {

using testing::ElementsAre;

// Server lines are delivered in one chunk each, or split at `split` (every position is tried).
enum class End { kNone, kClose, kReset, kTimeout };
// How the TLS handshake ends when the session asks for one (the driver's business: here a script).
enum class Tls { kOk, kFail, kTimeout, kClose };
struct Case {
  std::string name;
  std::vector<std::string> server;  // one chunk per step; the client answers in between
  End end = End::kNone;
  ProbeOutcome outcome;
  std::vector<std::string> sent;  // what the client must have sent, in order
  // Early bytes can only be told apart when they arrive with the reply they follow: a split
  // between them looks exactly like a server answering the next command.
  bool splittable = true;
  StarttlsMode mode = StarttlsMode::kNever;
  Tls tls = Tls::kOk;
  bool implicit = false;     // port 465: the handshake comes first
  std::string tls_received;  // what the server sent during a failed handshake
};

// Test names and failure messages show the case's name rather than its bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

struct Played {
  PortRecord record;
  std::vector<std::string> sent;
  bool done = false;
};

const std::string kTlsMark = "<tls handshake>";

Played Play(const Case& c, size_t split) {
  SmtpSessionOptions options;
  options.ehlo_name = "probe.example.test";
  options.starttls = c.mode;
  Played run;
  SmtpSession session(&options, &run.record);
  std::function<void(SmtpSession::Next)> apply = [&](SmtpSession::Next n) {
    if (!n.send.empty()) run.sent.emplace_back(n.send);
    if (n.done) run.done = true;
    if (!n.start_tls) return;
    run.sent.push_back(kTlsMark);
    switch (c.tls) {
      case Tls::kOk:
        apply(session.OnTlsEstablished());
        break;
      case Tls::kFail:
        apply(session.OnTlsFailed(c.tls_received, false));
        break;
      case Tls::kTimeout:
        apply(session.OnTlsFailed(c.tls_received, true));
        break;
      case Tls::kClose:
        apply(session.OnPeerClosed(false));
        break;
    }
  };
  if (c.implicit) {
    apply(session.StartImplicitTls());
  } else {
    session.Start();
  }
  for (const std::string& chunk : c.server) {
    if (run.done) break;
    size_t cut = std::min(split, chunk.size());
    apply(session.OnData(std::string_view(chunk).substr(0, cut)));
    if (!run.done && cut < chunk.size()) apply(session.OnData(std::string_view(chunk).substr(cut)));
  }
  if (!run.done) {
    switch (c.end) {
      case End::kClose:
        apply(session.OnPeerClosed(false));
        break;
      case End::kReset:
        apply(session.OnPeerClosed(true));
        break;
      case End::kTimeout:
        apply(session.OnTimeout());
        break;
      case End::kNone:
        break;
    }
  }
  return run;
}

const std::string kEhlo = "EHLO probe.example.test\r\n";
const std::string kHelo = "HELO probe.example.test\r\n";
const std::string kQuit = "QUIT\r\n";
const std::string kStarttls = "STARTTLS\r\n";

std::vector<Case> Cases() {
  return {
      {"ordinary",
       {"220 mx ESMTP\r\n", "250-mx\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n", "221 bye\r\n"},
       End::kNone,
       ProbeOutcome::kOk,
       {kEhlo, kQuit}},
      {"multiline_banner",
       {"220-mx one\r\n220-two\r\n220 three\r\n", "250 mx\r\n", "221 bye\r\n"},
       End::kNone,
       ProbeOutcome::kOk,
       {kEhlo, kQuit}},
      {"quit_unanswered_close",
       {"220 mx\r\n", "250 mx\r\n"},
       End::kClose,
       ProbeOutcome::kOk,
       {kEhlo, kQuit}},
      {"helo_only",
       {"220 mx\r\n", "502 5.5.1 no EHLO\r\n", "250 mx\r\n", "221 bye\r\n"},
       End::kNone,
       ProbeOutcome::kEhloRejected,
       {kEhlo, kHelo, kQuit}},
      {"banner_421",
       {"421 4.7.0 too many connections\r\n", "221 bye\r\n"},
       End::kNone,
       ProbeOutcome::kRateLimited,
       {kQuit}},
      {"banner_554",
       {"554 5.7.1 go away\r\n"},
       End::kClose,
       ProbeOutcome::kBannerRejected,
       {kQuit}},
      {"ehlo_421",
       {"220 mx\r\n", "421 4.3.2 shutting down\r\n"},
       End::kClose,
       ProbeOutcome::kRateLimited,
       {kEhlo, kQuit}},
      {"ehlo_451",
       {"220 mx\r\n", "451 later\r\n"},
       End::kClose,
       ProbeOutcome::kEhloRejected,
       {kEhlo, kQuit}},
      {"banner_timeout_partial", {"220-slow"}, End::kTimeout, ProbeOutcome::kBannerTimeout, {}},
      {"silent", {}, End::kTimeout, ProbeOutcome::kBannerTimeout, {}},
      {"command_timeout",
       {"220 mx\r\n", "250-mx\r\n"},
       End::kTimeout,
       ProbeOutcome::kCommandTimeout,
       {kEhlo}},
      {"closed_before_banner", {}, End::kClose, ProbeOutcome::kClosedEarly, {}},
      {"closed_after_ehlo", {"220 mx\r\n"}, End::kClose, ProbeOutcome::kClosedEarly, {kEhlo}},
      {"reset_mid_reply", {"220-part"}, End::kReset, ProbeOutcome::kConnectionReset, {}},
      {"bad_code", {"22O mx\r\n"}, End::kNone, ProbeOutcome::kProtocolError, {}},
      {"code_changes",
       {"220 mx\r\n", "250-mx\r\n251 odd\r\n"},
       End::kNone,
       ProbeOutcome::kProtocolError,
       {kEhlo}},
      {"unsolicited_after_banner",
       {"220 mx\r\n250 surprise\r\n", "250 mx\r\n"},
       End::kClose,
       ProbeOutcome::kProtocolError,
       {kQuit},
       /*splittable=*/false},
      {"banner_code_250", {"250 hello?\r\n"}, End::kClose, ProbeOutcome::kProtocolError, {kQuit}},
      // STARTTLS (RFC 3207) and implicit TLS (RFC 8314).
      {"starttls",
       {"220 mx\r\n", "250-mx\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n", "220 2.0.0 go ahead\r\n",
        "250-mx\r\n250 AUTH PLAIN LOGIN\r\n", "221 bye\r\n"},
       End::kNone,
       ProbeOutcome::kOk,
       {kEhlo, kStarttls, kTlsMark, kEhlo, kQuit},
       true,
       StarttlsMode::kAuto},
      {"starttls_not_offered",
       {"220 mx\r\n", "250-mx\r\n250 AUTH PLAIN\r\n", "221 bye\r\n"},
       End::kNone,
       ProbeOutcome::kStarttlsNotOffered,
       {kEhlo, kQuit},
       true,
       StarttlsMode::kAuto},
      {"starttls_never",
       {"220 mx\r\n", "250-mx\r\n250 STARTTLS\r\n", "221 bye\r\n"},
       End::kNone,
       ProbeOutcome::kOk,
       {kEhlo, kQuit},
       true,
       StarttlsMode::kNever},
      {"starttls_always_unadvertised",
       {"220 mx\r\n", "250 mx\r\n", "220 ready\r\n", "250 mx\r\n", "221 bye\r\n"},
       End::kNone,
       ProbeOutcome::kOk,
       {kEhlo, kStarttls, kTlsMark, kEhlo, kQuit},
       true,
       StarttlsMode::kAlways},
      {"starttls_454",
       {"220 mx\r\n", "250-mx\r\n250 STARTTLS\r\n", "454 4.7.0 TLS not available\r\n",
        "221 bye\r\n"},
       End::kNone,
       ProbeOutcome::kStarttlsRejected,
       {kEhlo, kStarttls, kQuit},
       true,
       StarttlsMode::kAuto},
      {"starttls_502",
       {"220 mx\r\n", "250 mx\r\n", "502 5.5.1 unknown command\r\n", "221 bye\r\n"},
       End::kNone,
       ProbeOutcome::kStarttlsRejected,
       {kEhlo, kStarttls, kQuit},
       true,
       StarttlsMode::kAlways},
      {"starttls_421",
       {"220 mx\r\n", "250-mx\r\n250 STARTTLS\r\n", "421 4.7.0 later\r\n"},
       End::kClose,
       ProbeOutcome::kRateLimited,
       {kEhlo, kStarttls, kQuit},
       true,
       StarttlsMode::kAuto},
      {"starttls_unanswered",
       {"220 mx\r\n", "250-mx\r\n250 STARTTLS\r\n"},
       End::kTimeout,
       ProbeOutcome::kCommandTimeout,
       {kEhlo, kStarttls},
       true,
       StarttlsMode::kAuto},
      {"starttls_injection",
       {"220 mx\r\n", "250-mx\r\n250 STARTTLS\r\n", "220 go ahead\r\n250 injected\r\n",
        "250 mx\r\n", "221 bye\r\n"},
       End::kNone,
       ProbeOutcome::kStarttlsInjection,
       {kEhlo, kStarttls, kTlsMark, kEhlo, kQuit},
       /*splittable=*/false,
       StarttlsMode::kAuto},
      {"tls_handshake_failed",
       {"220 mx\r\n", "250-mx\r\n250 STARTTLS\r\n", "220 go ahead\r\n"},
       End::kNone,
       ProbeOutcome::kTlsHandshakeFailed,
       {kEhlo, kStarttls, kTlsMark},
       true,
       StarttlsMode::kAuto,
       Tls::kFail,
       false,
       "garbage"},
      {"tls_timeout",
       {"220 mx\r\n", "250-mx\r\n250 STARTTLS\r\n", "220 go ahead\r\n"},
       End::kNone,
       ProbeOutcome::kTlsTimeout,
       {kEhlo, kStarttls, kTlsMark},
       true,
       StarttlsMode::kAuto,
       Tls::kTimeout},
      {"tls_closed",
       {"220 mx\r\n", "250-mx\r\n250 STARTTLS\r\n", "220 go ahead\r\n"},
       End::kNone,
       ProbeOutcome::kTlsHandshakeFailed,
       {kEhlo, kStarttls, kTlsMark},
       true,
       StarttlsMode::kAuto,
       Tls::kClose},
      {"starttls_ehlo_rejected_inside_tls",
       {"220 mx\r\n", "250-mx\r\n250 STARTTLS\r\n", "220 go ahead\r\n", "421 4.7.0 bye\r\n"},
       End::kClose,
       ProbeOutcome::kRateLimited,
       {kEhlo, kStarttls, kTlsMark, kEhlo, kQuit},
       true,
       StarttlsMode::kAuto},
      {"implicit_tls",
       {"220 mx ESMTP\r\n", "250-mx\r\n250 AUTH PLAIN\r\n", "221 bye\r\n"},
       End::kNone,
       ProbeOutcome::kOk,
       {kTlsMark, kEhlo, kQuit},
       true,
       StarttlsMode::kAuto,
       Tls::kOk,
       /*implicit=*/true},
      {"implicit_plaintext",
       {},
       End::kNone,
       ProbeOutcome::kPlaintextOnTlsPort,
       {kTlsMark},
       true,
       StarttlsMode::kAuto,
       Tls::kFail,
       true,
       "220 mx ESMTP Postfix\r\n"},
      {"implicit_plaintext_partial_at_timeout",
       {},
       End::kNone,
       ProbeOutcome::kPlaintextOnTlsPort,
       {kTlsMark},
       true,
       StarttlsMode::kAuto,
       Tls::kTimeout,
       true,
       "220-mx dri"},
      {"implicit_garbage",
       {},
       End::kNone,
       ProbeOutcome::kTlsHandshakeFailed,
       {kTlsMark},
       true,
       StarttlsMode::kAuto,
       Tls::kFail,
       true,
       "HTTP/1.1 400 Bad Request\r\n"},
      {"implicit_silent",
       {},
       End::kNone,
       ProbeOutcome::kTlsTimeout,
       {kTlsMark},
       true,
       StarttlsMode::kAuto,
       Tls::kTimeout,
       true},
  };
}

class SmtpSessionCaseTest : public testing::TestWithParam<Case> {};

TEST_P(SmtpSessionCaseTest, SameOutcomeAndCommandsAtEverySplit) {
  const Case& c = GetParam();
  size_t longest = 1;
  for (const std::string& s : c.server) longest = std::max(longest, s.size());
  for (size_t split = c.splittable ? 0 : longest; split <= longest; ++split) {
    Played run = Play(c, split);
    SCOPED_TRACE("split at " + std::to_string(split));
    EXPECT_TRUE(run.done);
    EXPECT_EQ(ProbeOutcomeName(run.record.outcome), ProbeOutcomeName(c.outcome));
    EXPECT_EQ(run.sent, c.sent);
    for (const std::string& s : run.sent) {
      EXPECT_THAT(s, testing::Not(testing::StartsWith("MAIL")));  // never more than we need
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Transcripts, SmtpSessionCaseTest, testing::ValuesIn(Cases()),
                         [](const auto& info) { return info.param.name; });

TEST(SmtpSessionTest, NeverSpeaksBeforeTheCompleteGreeting) {
  SmtpSessionOptions options;
  PortRecord record;
  SmtpSession s(&options, &record);
  s.Start();
  EXPECT_TRUE(s.OnData("220-first line\r\n").send.empty());
  EXPECT_TRUE(s.OnData("220-second").send.empty());
  EXPECT_EQ(s.OnData(" line\r\n220 last\r\n").send, "EHLO localhost\r\n");
}

TEST(SmtpSessionTest, RecordsBannerEhloAndCapabilities) {
  SmtpSessionOptions options;
  options.starttls = StarttlsMode::kNever;
  PortRecord record;
  SmtpSession s(&options, &record);
  s.Start();
  s.OnData("220 mx.example.test ESMTP\r\n");
  s.OnData("250-mx.example.test\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n");
  ASSERT_TRUE(record.banner.has_value());
  EXPECT_EQ(record.banner->code, 220);
  EXPECT_THAT(record.banner->lines, ElementsAre("mx.example.test ESMTP"));
  ASSERT_TRUE(record.capabilities.has_value());
  EXPECT_TRUE(record.capabilities->starttls);
  EXPECT_EQ(record.capabilities->size, 10240000u);
  EXPECT_THAT(record.capabilities->auth, ElementsAre("PLAIN", "LOGIN"));
  EXPECT_EQ(record.outcome, ProbeOutcome::kOk);
}

TEST(SmtpSessionTest, UnsolicitedBytesAreKeptAsEvidence) {
  SmtpSessionOptions options;
  PortRecord record;
  SmtpSession s(&options, &record);
  s.Start();
  s.OnData("220 mx\r\nEXTRA BYTES");
  EXPECT_EQ(record.outcome, ProbeOutcome::kProtocolError);
  EXPECT_EQ(record.unsolicited, "EXTRA BYTES");
}

TEST(SmtpSessionTest, RateLimitFollowedByExtraBytesStaysRateLimited) {
  SmtpSessionOptions options;
  PortRecord record;
  SmtpSession s(&options, &record);
  s.Start();
  SmtpSession::Next n = s.OnData("421 4.7.0 too busy\r\nmore noise");
  EXPECT_EQ(n.send, "QUIT\r\n");
  EXPECT_EQ(record.outcome, ProbeOutcome::kRateLimited);
  EXPECT_EQ(record.unsolicited, "more noise");
}

TEST(SmtpSessionTest, ExtraBytesAfterAGoodEhloAreAProtocolError) {
  SmtpSessionOptions options;
  PortRecord record;
  SmtpSession s(&options, &record);
  s.Start();
  s.OnData("220 mx\r\n");
  SmtpSession::Next n = s.OnData("250 mx\r\n250 again\r\n");
  EXPECT_EQ(n.send, "QUIT\r\n");
  EXPECT_EQ(record.outcome, ProbeOutcome::kProtocolError);
}

TEST(SmtpSessionTest, StarttlsRecordsBothEhloRepliesAndTheStarttlsReply) {
  SmtpSessionOptions options;
  PortRecord record;
  SmtpSession s(&options, &record);
  s.Start();
  s.OnData("220 mx.example.test ESMTP\r\n");
  EXPECT_EQ(s.OnData("250-mx\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n").send, "STARTTLS\r\n");
  SmtpSession::Next n = s.OnData("220 2.0.0 Ready to start TLS\r\n");
  EXPECT_TRUE(n.start_tls);
  EXPECT_TRUE(n.send.empty());
  ASSERT_TRUE(record.starttls.has_value());
  EXPECT_EQ(record.starttls->code, 220);
  EXPECT_EQ(s.OnTlsEstablished().send, "EHLO localhost\r\n");
  EXPECT_TRUE(s.in_tls());
  EXPECT_EQ(s.OnData("250-mx\r\n250 AUTH PLAIN LOGIN XOAUTH2\r\n").send, "QUIT\r\n");
  ASSERT_TRUE(record.capabilities.has_value());
  ASSERT_TRUE(record.capabilities_tls.has_value());
  EXPECT_THAT(record.capabilities->auth, ElementsAre("PLAIN", "LOGIN"));  // before TLS, kept
  EXPECT_THAT(record.capabilities_tls->auth, ElementsAre("PLAIN", "LOGIN", "XOAUTH2"));
  EXPECT_FALSE(record.capabilities_tls->starttls);
  ASSERT_TRUE(record.ehlo_tls.has_value());
  EXPECT_EQ(record.ehlo_tls->code, 250);
  EXPECT_EQ(record.outcome, ProbeOutcome::kOk);
  EXPECT_TRUE(record.injected.empty());
}

TEST(SmtpSessionTest, BytesAfterTheStarttls220AreDroppedAndRecorded) {
  SmtpSessionOptions options;
  PortRecord record;
  SmtpSession s(&options, &record);
  s.Start();
  s.OnData("220 mx\r\n");
  s.OnData("250-mx\r\n250 STARTTLS\r\n");
  SmtpSession::Next n = s.OnData("220 go ahead\r\n250-PIPELINING\r\n250 AUTH PLAIN\r\n");
  EXPECT_TRUE(n.start_tls);
  EXPECT_EQ(record.injected, "250-PIPELINING\r\n250 AUTH PLAIN\r\n");
  // The injected EHLO reply is never taken for the one inside TLS.
  EXPECT_EQ(s.OnTlsEstablished().send, "EHLO localhost\r\n");
  EXPECT_FALSE(record.ehlo_tls.has_value());
  EXPECT_EQ(s.OnData("250 mx\r\n").send, "QUIT\r\n");
  ASSERT_TRUE(record.capabilities_tls.has_value());
  EXPECT_TRUE(record.capabilities_tls->auth.empty());
  EXPECT_EQ(record.outcome, ProbeOutcome::kStarttlsInjection);
}

TEST(SmtpSessionTest, StarttlsRejectionKeepsTheReply) {
  SmtpSessionOptions options;
  PortRecord record;
  SmtpSession s(&options, &record);
  s.Start();
  s.OnData("220 mx\r\n");
  s.OnData("250-mx\r\n250 STARTTLS\r\n");
  EXPECT_EQ(s.OnData("454 4.7.0 TLS not available due to local problem\r\n").send, "QUIT\r\n");
  ASSERT_TRUE(record.starttls.has_value());
  EXPECT_EQ(record.starttls->code, 454);
  EXPECT_EQ(record.starttls->enhanced_status, "4.7.0");
  EXPECT_EQ(record.outcome, ProbeOutcome::kStarttlsRejected);
}

TEST(SmtpSessionTest, PlaintextGreetingOnAnImplicitTlsPortIsRecordedAsTheBanner) {
  SmtpSessionOptions options;
  PortRecord record;
  SmtpSession s(&options, &record);
  EXPECT_TRUE(s.StartImplicitTls().start_tls);
  EXPECT_TRUE(s.OnTlsFailed("220 mx.example.test ESMTP Postfix\r\n", false).done);
  EXPECT_EQ(record.outcome, ProbeOutcome::kPlaintextOnTlsPort);
  ASSERT_TRUE(record.banner.has_value());
  EXPECT_EQ(record.banner->code, 220);
  EXPECT_THAT(record.banner->lines, ElementsAre("mx.example.test ESMTP Postfix"));
}

TEST(SmtpSessionTest, ImplicitTlsReadsTheGreetingInsideTls) {
  SmtpSessionOptions options;
  PortRecord record;
  SmtpSession s(&options, &record);
  s.StartImplicitTls();
  SmtpSession::Next n = s.OnTlsEstablished();
  EXPECT_TRUE(n.send.empty());  // never speak before the greeting, inside TLS too
  EXPECT_FALSE(n.done);
  EXPECT_EQ(s.OnData("220 mx ESMTP\r\n").send, "EHLO localhost\r\n");
  EXPECT_EQ(s.OnData("250-mx\r\n250 AUTH PLAIN\r\n").send, "QUIT\r\n");
  EXPECT_TRUE(record.banner.has_value());
  EXPECT_FALSE(record.ehlo.has_value());
  EXPECT_FALSE(record.capabilities.has_value());
  ASSERT_TRUE(record.capabilities_tls.has_value());
  EXPECT_THAT(record.capabilities_tls->auth, ElementsAre("PLAIN"));
  EXPECT_EQ(record.outcome, ProbeOutcome::kOk);
}

TEST(SmtpSessionTest, EndlessLineIsLineTooLong) {
  SmtpSessionOptions options;
  PortRecord record;
  SmtpSession s(&options, &record);
  s.Start();
  std::string chunk(1024, 'x');
  SmtpSession::Next n = s.OnData("220 ");
  for (int i = 0; i < 200 && !n.done; ++i) n = s.OnData(chunk);
  EXPECT_TRUE(n.done);
  EXPECT_EQ(record.outcome, ProbeOutcome::kLineTooLong);
  ASSERT_TRUE(record.banner.has_value());
  EXPECT_TRUE(record.banner->truncated);
}

TEST(SmtpSessionTest, EndlessContinuationsAreReplyTooLarge) {
  SmtpSessionOptions options;
  PortRecord record;
  SmtpSession s(&options, &record);
  s.Start();
  s.OnData("220 mx\r\n");
  SmtpSession::Next n;
  for (int i = 0; i < 10000 && !n.done; ++i) n = s.OnData("250-more and more\r\n");
  EXPECT_TRUE(n.done);
  EXPECT_EQ(record.outcome, ProbeOutcome::kReplyTooLarge);
}

TEST(SmtpSessionTest, TotalBytesFromOneEndpointAreCapped) {
  SmtpSessionOptions options;
  options.endpoint_bytes_max = 1000;
  options.limits.reply_lines_max = 100000;
  options.limits.reply_bytes_max = 1 << 20;
  PortRecord record;
  SmtpSession s(&options, &record);
  s.Start();
  SmtpSession::Next n;
  for (int i = 0; i < 1000 && !n.done; ++i) n = s.OnData("220-drip drip drip\r\n");
  EXPECT_TRUE(n.done);
  EXPECT_EQ(record.outcome, ProbeOutcome::kReplyTooLarge);
  EXPECT_LE(record.bytes_read, 1100u);
}

}  // namespace
}  // namespace mxray::engine
