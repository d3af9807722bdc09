// Tests for ReplyParser. Every table case is fed whole, split in two at every offset, and one byte
// at a time, and must give the same result, reply and consumed count: servers choose the chunking,
// and no result may depend on it.
#include "engine/reply_parser.h"

#include <cstdio>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mxray::engine {
namespace {

// Readable failures: the bytes of interest are control characters.
std::string Escaped(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out.append(buf);
    }
  }
  return out;
}

}  // namespace

void PrintTo(const SmtpReply& r, std::ostream* os) {
  *os << "{code=" << r.code << " lines=[";
  for (size_t i = 0; i < r.lines.size(); ++i) {
    *os << (i > 0 ? ", " : "") << '"' << Escaped(r.lines[i]) << '"';
  }
  *os << "] enhanced=\"" << r.enhanced_status << "\" truncated=" << r.truncated
      << " bare_lf=" << r.bare_lf << "}";
}

namespace {

using Result = ReplyParser::Result;
using std::string_literals::operator""s;

const char* ResultName(Result r) {
  switch (r) {
    case Result::kNeedMore:
      return "need_more";
    case Result::kComplete:
      return "complete";
    case Result::kMalformed:
      return "malformed";
  }
  return "?";
}

struct Fed {
  Result result = Result::kNeedMore;
  ReplyError error = ReplyError::kNone;
  size_t consumed = 0;
  SmtpReply reply;
  bool operator==(const Fed&) const = default;
};

void PrintTo(const Fed& f, std::ostream* os) {
  *os << ResultName(f.result) << " error=" << ReplyErrorName(f.error) << " consumed=" << f.consumed
      << " reply=";
  PrintTo(f.reply, os);
}

// Feeds `input` cut at `cuts` (ascending offsets) and stops at the first result that is not
// kNeedMore, as a session does.
Fed FeedCut(ReplyParser& parser, std::string_view input, const std::vector<size_t>& cuts) {
  Fed fed;
  size_t start = 0;
  for (size_t k = 0; k <= cuts.size(); ++k) {
    const size_t end = k < cuts.size() ? cuts[k] : input.size();
    size_t consumed = 999999;
    fed.result = parser.Feed(input.substr(start, end - start), &consumed);
    fed.consumed += consumed;
    if (fed.result != Result::kNeedMore) break;
    // kNeedMore always takes everything: callers drop the chunk.
    EXPECT_EQ(consumed, end - start) << "chunk at " << start;
    start = end;
  }
  fed.error = parser.error();
  fed.reply = parser.reply();
  return fed;
}

Fed FeedCut(const ReplyLimits& limits, std::string_view input, const std::vector<size_t>& cuts) {
  ReplyParser parser(limits);
  return FeedCut(parser, input, cuts);
}

std::vector<size_t> EveryByte(size_t n) {
  std::vector<size_t> cuts;
  for (size_t i = 1; i < n; ++i) cuts.push_back(i);
  return cuts;
}

// Whole, every split in two, byte by byte, and after Reset() of a parser that held another
// reply: all must give `want`.
void ExpectAllChunkings(const ReplyLimits& limits, std::string_view input, const Fed& want) {
  EXPECT_EQ(FeedCut(limits, input, {}), want) << "whole";
  for (size_t split = 0; split <= input.size(); ++split) {
    ASSERT_EQ(FeedCut(limits, input, {split}), want) << "split at " << split;
  }
  EXPECT_EQ(FeedCut(limits, input, EveryByte(input.size())), want) << "byte by byte";
  ReplyParser reused(limits);
  size_t consumed = 0;
  reused.Feed("250-stale text\r\n250-more stale text\r\n250 x\r\n", &consumed);
  reused.Reset();
  EXPECT_EQ(FeedCut(reused, input, {}), want) << "after Reset()";
}

constexpr size_t kAll = static_cast<size_t>(-1);

struct Case {
  std::string name;
  std::string input;
  Result result;
  ReplyError error;
  size_t consumed;  // kAll: the whole input
  SmtpReply reply;
  ReplyLimits limits = {};
};

SmtpReply R(uint16_t code, std::vector<std::string> lines, std::string enhanced = "",
            bool truncated = false, bool bare_lf = false) {
  return SmtpReply{.code = code,
                   .lines = std::move(lines),
                   .enhanced_status = std::move(enhanced),
                   .truncated = truncated,
                   .bare_lf = bare_lf};
}

void ExpectCases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name + ": \"" + Escaped(c.input) + "\"");
    const Fed want{.result = c.result,
                   .error = c.error,
                   .consumed = c.consumed == kAll ? c.input.size() : c.consumed,
                   .reply = c.reply};
    ExpectAllChunkings(c.limits, c.input, want);
  }
}

constexpr Result kNeedMore = Result::kNeedMore;
constexpr Result kComplete = Result::kComplete;
constexpr Result kMalformed = Result::kMalformed;
constexpr ReplyError kNone = ReplyError::kNone;

// Small caps so that every limit case is short enough to be fed at every split.
constexpr ReplyLimits kSmall{
    .line_bytes_max = 10, .reply_bytes_max = 24, .reply_lines_max = 4, .skip_bytes_max = 8};

TEST(ReplyParserTest, LineEndings) {
  ExpectCases({
      {"banner crlf", "220 mx.example.com ESMTP Postfix\r\n", kComplete, kNone, kAll,
       R(220, {"mx.example.com ESMTP Postfix"})},
      {"banner bare lf", "220 mx ESMTP\n", kComplete, kNone, kAll,
       R(220, {"mx ESMTP"}, "", false, true)},
      {"multiline crlf", "250-mx.example.com\r\n250-PIPELINING\r\n250 8BITMIME\r\n", kComplete,
       kNone, kAll, R(250, {"mx.example.com", "PIPELINING", "8BITMIME"})},
      {"mixed endings", "250-a\n250-b\r\n250 c\n", kComplete, kNone, kAll,
       R(250, {"a", "b", "c"}, "", false, true)},
      {"lone cr is text", "250 a\rb\r\n", kComplete, kNone, kAll, R(250, {"a\rb"})},
      {"cr cr lf keeps one cr", "250 a\r\r\n", kComplete, kNone, kAll, R(250, {"a\r"})},
      {"lf cr: cr starts the next line", "250-a\n\r250 b\r\n", kMalformed, ReplyError::kBadCode, 7,
       R(250, {"a"}, "", true, true)},
  });
}

TEST(ReplyParserTest, CodeWithoutTextIsALastLine) {
  ExpectCases({
      {"code alone crlf", "250\r\n", kComplete, kNone, kAll, R(250, {""})},
      {"code alone lf", "250\n", kComplete, kNone, kAll, R(250, {""}, "", false, true)},
      {"code alone ends multiline", "250-a\r\n250\r\n", kComplete, kNone, kAll, R(250, {"a", ""})},
      {"empty continuation", "250-\r\n250 ok\r\n", kComplete, kNone, kAll, R(250, {"", "ok"})},
      {"space and no text", "250 \r\n", kComplete, kNone, kAll, R(250, {""})},
      {"spaces kept as sent", "250  two  spaces \r\n", kComplete, kNone, kAll,
       R(250, {" two  spaces "})},
  });
}

TEST(ReplyParserTest, RawBytesAreKept) {
  ExpectCases({
      {"nul, escape, invalid utf-8", "250 a\0b\x1b[31m\xff\xfe\r\n"s, kComplete, kNone, kAll,
       R(250, {"a\0b\x1b[31m\xff\xfe"s})},
      {"utf-8", "220 m\xc3\xa4il ready\r\n", kComplete, kNone, kAll, R(220, {"m\xc3\xa4il ready"})},
      {"del and c1", "220 \x7f\xc2\x85\r\n", kComplete, kNone, kAll, R(220, {"\x7f\xc2\x85"})},
  });
}

TEST(ReplyParserTest, ConsumedStopsAfterTheFirstReply) {
  ExpectCases({
      {"two replies", "250 ok\r\n221 bye\r\n", kComplete, kNone, 8, R(250, {"ok"})},
      {"start of the next", "220 hi\r\n2", kComplete, kNone, 8, R(220, {"hi"})},
      {"multiline then more", "250-a\r\n250 b\r\n554 no\r\n", kComplete, kNone, 14,
       R(250, {"a", "b"})},
      {"plaintext after 220 to STARTTLS", "220 2.0.0 Ready to start TLS\r\n250 injected\r\n",
       kComplete, kNone, 30, R(220, {"2.0.0 Ready to start TLS"}, "2.0.0")},
      {"garbage after", "220 hi\r\n\x16\x03\x01", kComplete, kNone, 8, R(220, {"hi"})},
  });
}

TEST(ReplyParserTest, PartialReplyIsKeptAndMarkedTruncated) {
  ExpectCases({
      {"nothing", "", kNeedMore, kNone, kAll, R(0, {})},
      {"two digits", "25", kNeedMore, kNone, kAll, R(0, {}, "", true)},
      {"code", "250", kNeedMore, kNone, kAll, R(250, {}, "", true)},
      {"separator cr", "250\r", kNeedMore, kNone, kAll, R(250, {}, "", true)},
      {"text", "250-first\r\n250 sec", kNeedMore, kNone, kAll, R(250, {"first", "sec"}, "", true)},
      {"cr before lf", "250 ok\r", kNeedMore, kNone, kAll, R(250, {"ok"}, "", true)},
      {"continuation ended", "250-a\r\n", kNeedMore, kNone, kAll, R(250, {"a"}, "", true)},
      {"enhanced status of an ended first line", "250-2.0.0 a\r\n250-b", kNeedMore, kNone, kAll,
       R(250, {"2.0.0 a", "b"}, "2.0.0", true)},
  });
}

TEST(ReplyParserTest, BadCodeFailsAtTheFirstWrongByte) {
  const ReplyError bad = ReplyError::kBadCode;
  ExpectCases({
      {"http", "HTTP/1.1 400 Bad Request\r\n", kMalformed, bad, 1, R(0, {}, "", true)},
      {"tls record", "\x16\x03\x01\x02\x00"s, kMalformed, bad, 1, R(0, {}, "", true)},
      {"ssh", "SSH-2.0-OpenSSH_9.2\r\n", kMalformed, bad, 1, R(0, {}, "", true)},
      {"first digit 1", "199 x\r\n", kMalformed, bad, 1, R(0, {}, "", true)},
      {"first digit 6", "600 x\r\n", kMalformed, bad, 1, R(0, {}, "", true)},
      {"first digit 0", "050 x\r\n", kMalformed, bad, 1, R(0, {}, "", true)},
      {"second digit 6", "260 x\r\n", kMalformed, bad, 2, R(0, {}, "", true)},
      {"third digit letter", "25x ok\r\n", kMalformed, bad, 3, R(0, {}, "", true)},
      {"two digits", "25 ok\r\n", kMalformed, bad, 3, R(0, {}, "", true)},
      {"two digits crlf", "25\r\n", kMalformed, bad, 3, R(0, {}, "", true)},
      {"leading space", " 250 ok\r\n", kMalformed, bad, 1, R(0, {}, "", true)},
      {"empty line", "\r\n", kMalformed, bad, 1, R(0, {}, "", true)},
      {"bare lf line", "\n", kMalformed, bad, 1, R(0, {}, "", true)},
      {"nul", "\0"s, kMalformed, bad, 1, R(0, {}, "", true)},
      {"empty line inside", "250-a\r\n\r\n250 b\r\n", kMalformed, bad, 8, R(250, {"a"}, "", true)},
      {"garbage continuation", "250-a\r\nfoo\r\n", kMalformed, bad, 8, R(250, {"a"}, "", true)},
  });
}

TEST(ReplyParserTest, SeparatorIsDashSpaceOrLineEnd) {
  const ReplyError bad = ReplyError::kBadSeparator;
  ExpectCases({
      {"four digits", "2500 ok\r\n", kMalformed, bad, 4, R(250, {}, "", true)},
      {"tab", "250\tok\r\n", kMalformed, bad, 4, R(250, {}, "", true)},
      {"cr then text", "250\rok\r\n", kMalformed, bad, 4, R(250, {}, "", true)},
      {"cr cr", "250\r\r\n", kMalformed, bad, 4, R(250, {}, "", true)},
      {"in a continuation", "250-a\r\n250x\r\n", kMalformed, bad, 11, R(250, {"a"}, "", true)},
  });
}

TEST(ReplyParserTest, CodeThatChangesBetweenLinesIsMalformed) {
  const ReplyError mismatch = ReplyError::kCodeMismatch;
  ExpectCases({
      {"class changes", "250-a\r\n550 b\r\n", kMalformed, mismatch, 10, R(250, {"a"}, "", true)},
      {"detail changes", "250-a\r\n251 b\r\n", kMalformed, mismatch, 10, R(250, {"a"}, "", true)},
      {"after two lines", "220-a\r\n220-b\r\n250 c\r\n", kMalformed, mismatch, 17,
       R(220, {"a", "b"}, "", true)},
      {"enhanced status of the first line kept", "250-2.0.0 a\r\n550 x", kMalformed, mismatch, 16,
       R(250, {"2.0.0 a"}, "2.0.0", true)},
  });
}

TEST(ReplyParserTest, LongLineIsCutThenSkippedToItsEnd) {
  const ReplyError too_long = ReplyError::kLineTooLong;
  ExpectCases({
      {"at the limit", "250 abcdef\r\n", kComplete, kNone, kAll, R(250, {"abcdef"}), kSmall},
      {"at the limit lf", "250 abcdef\n", kComplete, kNone, kAll,
       R(250, {"abcdef"}, "", false, true), kSmall},
      {"cut", "250 abcdefghij\r\n", kComplete, kNone, kAll, R(250, {"abcdef"}, "", true), kSmall},
      {"cut then more lines", "250-abcdefghij\r\n250 ok\r\n", kComplete, kNone, kAll,
       R(250, {"abcdef", "ok"}, "", true), kSmall},
      {"lone cr past the limit", "250 abcdef\rX\r\n", kComplete, kNone, kAll,
       R(250, {"abcdef"}, "", true), kSmall},
      {"cr before the cut", "250 ab\rcdefg\r\n", kComplete, kNone, kAll,
       R(250, {"ab\rcde"}, "", true), kSmall},
      {"skip budget used exactly", "250 abcdefgggggggg\r\n", kComplete, kNone, kAll,
       R(250, {"abcdef"}, "", true), kSmall},
      {"skip budget passed", "250 abcdefggggggggg\r\n", kMalformed, too_long, 19,
       R(250, {"abcdef"}, "", true), kSmall},
      {"skip budget is per reply", "250-abcdefgggg\r\n250 abcdefggggg\r\n", kMalformed, too_long,
       31, R(250, {"abcdef", "abcdef"}, "", true), kSmall},
      {"endless line", "250 " + std::string(100, 'a'), kMalformed, too_long, 19,
       R(250, {"aaaaaa"}, "", true), kSmall},
      {"endless line of cr", "250 " + std::string(100, '\r'), kMalformed, too_long, 19,
       R(250, {"\r\r\r\r\r\r"}, "", true), kSmall},
      {"endless line of nul", "250-" + std::string(100, '\0'), kMalformed, too_long, 19,
       R(250, {std::string(6, '\0')}, "", true), kSmall},
  });
}

TEST(ReplyParserTest, ReplyPastItsCapsIsMalformed) {
  const ReplyLimits ten_bytes{.reply_bytes_max = 10};
  const ReplyLimits two_bytes{.reply_bytes_max = 2};
  const ReplyLimits twelve_bytes{.reply_bytes_max = 12};
  std::string five_lines;
  for (int i = 0; i < 5; ++i) five_lines += "250-a\r\n";
  ExpectCases({
      {"reply bytes passed", "250-abcdef\r\n250-ghijkl\r\n", kMalformed, ReplyError::kReplyTooLarge,
       21, R(250, {"abcdef", "ghij"}, "", true), ten_bytes},
      {"reply bytes exactly", "250-abcdef\r\n250 ghijkl\r\n", kComplete, kNone, kAll,
       R(250, {"abcdef", "ghijkl"}), twelve_bytes},
      {"stored lone cr counts", "250 ab\rc\r\n", kMalformed, ReplyError::kReplyTooLarge, 7,
       R(250, {"ab"}, "", true), two_bytes},
      {"too many lines", five_lines, kMalformed, ReplyError::kTooManyLines, 28,
       R(250, {"a", "a", "a", "a"}, "", true), kSmall},
      {"lines exactly", "250-a\r\n250-a\r\n250-a\r\n250 a\r\n", kComplete, kNone, kAll,
       R(250, {"a", "a", "a", "a"}), kSmall},
      {"too many empty lines", "250-\r\n250-\r\n250-\r\n250-\r\n", kMalformed,
       ReplyError::kTooManyLines, 24, R(250, {"", "", "", ""}, "", true), kSmall},
  });
}

TEST(ReplyParserTest, EnhancedStatusFromTheFirstLine) {
  ExpectCases({
      {"2xx", "250 2.0.0 Ok\r\n", kComplete, kNone, kAll, R(250, {"2.0.0 Ok"}, "2.0.0")},
      {"5xx", "550 5.7.1 Relaying denied\r\n", kComplete, kNone, kAll,
       R(550, {"5.7.1 Relaying denied"}, "5.7.1")},
      {"4xx gmail", "421 4.7.0 Try again later, closing connection.\r\n", kComplete, kNone, kAll,
       R(421, {"4.7.0 Try again later, closing connection."}, "4.7.0")},
      {"three-digit detail", "550 5.7.606 Access denied\r\n", kComplete, kNone, kAll,
       R(550, {"5.7.606 Access denied"}, "5.7.606")},
      {"three-digit subject", "550 5.123.4 x\r\n", kComplete, kNone, kAll,
       R(550, {"5.123.4 x"}, "5.123.4")},
      {"alone", "250 2.0.0\r\n", kComplete, kNone, kAll, R(250, {"2.0.0"}, "2.0.0")},
      {"from the first line", "250-2.1.0 first\r\n250 2.1.5 second\r\n", kComplete, kNone, kAll,
       R(250, {"2.1.0 first", "2.1.5 second"}, "2.1.0")},
      {"not on the first line", "250-mx\r\n250 2.0.0 x\r\n", kComplete, kNone, kAll,
       R(250, {"mx", "2.0.0 x"})},
      {"class differs", "250 5.0.0 x\r\n", kComplete, kNone, kAll, R(250, {"5.0.0 x"})},
      {"3xx has none", "354 3.0.0 go\r\n", kComplete, kNone, kAll, R(354, {"3.0.0 go"})},
      {"leading zero", "250 2.01.0 x\r\n", kComplete, kNone, kAll, R(250, {"2.01.0 x"})},
      {"leading zero detail", "250 2.0.00 x\r\n", kComplete, kNone, kAll, R(250, {"2.0.00 x"})},
      {"four digits", "550 5.7.1234 x\r\n", kComplete, kNone, kAll, R(550, {"5.7.1234 x"})},
      {"glued text", "250 2.0.0ok\r\n", kComplete, kNone, kAll, R(250, {"2.0.0ok"})},
      {"tab after", "250 2.0.0\tok\r\n", kComplete, kNone, kAll, R(250, {"2.0.0\tok"})},
      {"two parts", "250 2.0 ok\r\n", kComplete, kNone, kAll, R(250, {"2.0 ok"})},
      {"empty part", "250 2..0 ok\r\n", kComplete, kNone, kAll, R(250, {"2..0 ok"})},
      {"leading space", "250  2.0.0 ok\r\n", kComplete, kNone, kAll, R(250, {" 2.0.0 ok"})},
      {"code alone", "250\r\n", kComplete, kNone, kAll, R(250, {""})},
  });
}

TEST(ReplyParserTest, FeedAfterTheEndConsumesNothing) {
  ReplyParser parser;
  size_t consumed = 0;
  ASSERT_EQ(parser.Feed("250 ok\r\n", &consumed), Result::kComplete);
  EXPECT_EQ(parser.Feed("250 again\r\n", &consumed), Result::kComplete);
  EXPECT_EQ(consumed, 0u);
  EXPECT_EQ(parser.reply(), R(250, {"ok"}));

  ReplyParser bad;
  ASSERT_EQ(bad.Feed("xyz", &consumed), Result::kMalformed);
  EXPECT_EQ(bad.Feed("250 ok\r\n", &consumed), Result::kMalformed);
  EXPECT_EQ(consumed, 0u);
  EXPECT_EQ(bad.error(), ReplyError::kBadCode);
}

TEST(ReplyParserTest, ResetParsesTheRepliesOfOneBufferInTurn) {
  const std::string buffer =
      "220-mx.example.com ESMTP\r\n220 ready\r\n250-mx\r\n250-PIPELINING\r\n250 "
      "SIZE 100\r\n221 2.0.0 Bye\r\n";
  ReplyParser parser;
  std::string_view rest = buffer;
  std::vector<SmtpReply> replies;
  while (!rest.empty()) {
    size_t consumed = 0;
    ASSERT_EQ(parser.Feed(rest, &consumed), Result::kComplete);
    rest.remove_prefix(consumed);
    replies.push_back(parser.reply());
    parser.Reset();
  }
  EXPECT_THAT(replies, ::testing::ElementsAre(R(220, {"mx.example.com ESMTP", "ready"}),
                                              R(250, {"mx", "PIPELINING", "SIZE 100"}),
                                              R(221, {"2.0.0 Bye"}, "2.0.0")));
}

TEST(ReplyParserTest, ResetClearsEverythingAfterAnError) {
  ReplyParser parser(kSmall);
  size_t consumed = 0;
  ASSERT_EQ(parser.Feed("250-abcdefghij\r\n550", &consumed), Result::kMalformed);
  ASSERT_EQ(parser.error(), ReplyError::kCodeMismatch);
  parser.Reset();
  EXPECT_EQ(parser.error(), ReplyError::kNone);
  EXPECT_EQ(parser.reply(), SmtpReply{});
  EXPECT_EQ(parser.Feed("221 x\r\n", &consumed), Result::kComplete);
  EXPECT_EQ(parser.reply(), R(221, {"x"}));
}

TEST(ReplyParserTest, ResetMidReplyStartsOver) {
  ReplyParser parser;
  size_t consumed = 0;
  ASSERT_EQ(parser.Feed("250-a\r\n250 b\r", &consumed), Result::kNeedMore);
  parser.Reset();
  EXPECT_EQ(parser.Feed("\n", &consumed), Result::kMalformed);
  EXPECT_EQ(parser.error(), ReplyError::kBadCode);
}

// The RELIABILITY.md cases at the default limits, with the chunkings a real read loop makes.
TEST(ReplyParserTest, DefaultLimitsEndlessLineGivesUpAfterTheSkipBudget) {
  const std::string input = "250 " + std::string(100000, 'x');
  const Fed want{.result = Result::kMalformed,
                 .error = ReplyError::kLineTooLong,
                 .consumed = 2048 + 64 * 1024 + 1,
                 .reply = R(250, {std::string(2044, 'x')}, "", true)};
  EXPECT_EQ(FeedCut(ReplyLimits{}, input, {}), want);
  EXPECT_EQ(FeedCut(ReplyLimits{}, input, EveryByte(input.size())), want);
  std::vector<size_t> reads;
  for (size_t i = 4096; i < input.size(); i += 4096) reads.push_back(i);
  EXPECT_EQ(FeedCut(ReplyLimits{}, input, reads), want);
}

TEST(ReplyParserTest, DefaultLimitsEndlessContinuationsStopAtTheLineCap) {
  std::string input;
  for (int i = 0; i < 1000; ++i) input += "250-x\r\n";
  const Fed got = FeedCut(ReplyLimits{}, input, EveryByte(input.size()));
  EXPECT_EQ(got.result, Result::kMalformed);
  EXPECT_EQ(got.error, ReplyError::kTooManyLines);
  EXPECT_EQ(got.consumed, 100u * 7);
  EXPECT_EQ(got.reply.lines.size(), 100u);
  EXPECT_EQ(FeedCut(ReplyLimits{}, input, {}), got);
}

TEST(ReplyParserTest, DefaultLimitsLongLinesStopAtTheReplyCap) {
  std::string input;
  for (int i = 0; i < 20; ++i) input += "250-" + std::string(2044, 'y') + "\r\n";
  const Fed got = FeedCut(ReplyLimits{}, input, {});
  EXPECT_EQ(got.result, Result::kMalformed);
  EXPECT_EQ(got.error, ReplyError::kReplyTooLarge);
  // 8 full lines store 16352 bytes; the 33rd text byte of the 9th line passes 16384.
  EXPECT_EQ(got.consumed, 8u * 2050 + 4 + 33);
  ASSERT_EQ(got.reply.lines.size(), 9u);
  EXPECT_EQ(got.reply.lines[8].size(), 32u);
  EXPECT_EQ(got.reply.lines[0].size(), 2044u);
  EXPECT_EQ(FeedCut(ReplyLimits{}, input, EveryByte(input.size())), got);
}

TEST(ReplyParserTest, DefaultLimitsKeepTheRfcMinimumLineWhole) {
  const std::string text(508, 't');  // 512 octets with "250 " (RFC 5321 §4.5.3.1.5)
  const Fed got = FeedCut(ReplyLimits{}, "250 " + text + "\r\n", {});
  EXPECT_EQ(got.result, Result::kComplete);
  EXPECT_EQ(got.reply, R(250, {text}));
}

TEST(ReplyParserTest, DefaultLimitsKeepAFullLineAndCutTheNextByte) {
  const std::string full(2044, 'f');
  EXPECT_EQ(FeedCut(ReplyLimits{}, "250 " + full + "\r\n", {}).reply, R(250, {full}));
  EXPECT_EQ(FeedCut(ReplyLimits{}, "250 " + full + "g\r\n", {}).reply, R(250, {full}, "", true));
}

// Random hostile transcripts: any chunking gives the same answer, and the caps hold.
TEST(ReplyParserTest, RandomInputsAreChunkingIndependentAndBounded) {
  constexpr ReplyLimits kLimits{
      .line_bytes_max = 12, .reply_bytes_max = 40, .reply_lines_max = 5, .skip_bytes_max = 16};
  const std::string alphabet = "2255500-  \r\r\n\n\nax\0"s;
  std::mt19937 rng(20240611);
  for (int round = 0; round < 3000; ++round) {
    std::string input;
    const size_t len = rng() % 200;
    // Mostly well-formed line starts, so that the deep states are reached.
    while (input.size() < len) {
      if (rng() % 3 == 0) input += (rng() % 2 != 0) ? "250-" : "250 ";
      input.push_back(alphabet[rng() % alphabet.size()]);
    }
    SCOPED_TRACE("\"" + Escaped(input) + "\"");
    const Fed whole = FeedCut(kLimits, input, {});
    ASSERT_EQ(FeedCut(kLimits, input, EveryByte(input.size())), whole);
    std::vector<size_t> cuts;
    for (size_t i = 0; i < input.size(); i += 1 + rng() % 9) cuts.push_back(i);
    ASSERT_EQ(FeedCut(kLimits, input, cuts), whole);

    EXPECT_LE(whole.consumed,
              kLimits.reply_bytes_max + kLimits.skip_bytes_max + 6 * kLimits.reply_lines_max + 1);
    EXPECT_LE(whole.reply.lines.size(), kLimits.reply_lines_max);
    size_t stored = 0;
    for (const std::string& line : whole.reply.lines) {
      EXPECT_LE(line.size(), kLimits.line_bytes_max - 4);
      stored += line.size();
    }
    EXPECT_LE(stored, kLimits.reply_bytes_max);
    EXPECT_EQ(whole.result == Result::kMalformed, whole.error != ReplyError::kNone);
    if (whole.result == Result::kNeedMore) {
      EXPECT_EQ(whole.consumed, input.size());
    }
  }
}

TEST(ReplyParserTest, ErrorNamesAreStable) {
  EXPECT_EQ(ReplyErrorName(ReplyError::kNone), "none");
  EXPECT_EQ(ReplyErrorName(ReplyError::kBadCode), "bad_code");
  EXPECT_EQ(ReplyErrorName(ReplyError::kBadSeparator), "bad_separator");
  EXPECT_EQ(ReplyErrorName(ReplyError::kCodeMismatch), "code_mismatch");
  EXPECT_EQ(ReplyErrorName(ReplyError::kLineTooLong), "line_too_long");
  EXPECT_EQ(ReplyErrorName(ReplyError::kReplyTooLarge), "reply_too_large");
  EXPECT_EQ(ReplyErrorName(ReplyError::kTooManyLines), "too_many_lines");
}

}  // namespace
}  // namespace mxray::engine
