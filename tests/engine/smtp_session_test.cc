// SmtpSession driven by scripted server transcripts: what it sends, when it stops, and the
// outcome of every way a server can behave, with the transcript split at every byte.
#include "engine/smtp_session.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mxray::engine {
namespace {

using testing::ElementsAre;

// Server lines are delivered in one chunk each, or split at `split` (every position is tried).
enum class End { kNone, kClose, kReset, kTimeout };
struct Case {
  std::string name;
  std::vector<std::string> server;  // one chunk per step; the client answers in between
  End end = End::kNone;
  ProbeOutcome outcome;
  std::vector<std::string> sent;  // what the client must have sent, in order
  // Early bytes can only be told apart when they arrive with the reply they follow: a split
  // between them looks exactly like a server answering the next command.
  bool splittable = true;
};

struct Played {
  PortRecord record;
  std::vector<std::string> sent;
  bool done = false;
};

Played Play(const Case& c, size_t split) {
  SmtpSessionOptions options;
  options.ehlo_name = "probe.example.test";
  Played run;
  SmtpSession session(&options, &run.record);
  session.Start();
  auto apply = [&](SmtpSession::Next n) {
    if (!n.send.empty()) run.sent.emplace_back(n.send);
    if (n.done) run.done = true;
  };
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
