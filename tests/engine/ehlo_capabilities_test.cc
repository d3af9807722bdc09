// Tests for ParseEhlo: EHLO replies as real servers send them (Postfix, Exim, Sendmail,
// Microsoft 365, Gmail, old AUTH= form, lowercase keywords) and hostile ones.
#include "engine/ehlo_capabilities.h"

#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "engine/reply_parser.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mxray::engine {

void PrintTo(const EhloCapabilities& c, std::ostream* os) {
  *os << "{greeting=\"" << c.greeting_name << "\" extensions=[";
  for (const auto& [k, v] : c.extensions) *os << k << "=\"" << v << "\" ";
  *os << "] size=";
  if (c.size) {
    *os << *c.size;
  } else {
    *os << "none";
  }
  *os << " flags=" << c.pipelining << c.eightbitmime << c.smtputf8 << c.chunking << c.binarymime
      << c.dsn << c.enhancedstatuscodes << c.requiretls << c.starttls << " auth=[";
  for (const std::string& m : c.auth) *os << m << " ";
  *os << "] auth_old_form=" << c.auth_old_form << " ignored_lines=" << c.ignored_lines << "}";
}

namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;
using std::string_literals::operator""s;

using Extensions = std::vector<std::pair<std::string, std::string>>;

SmtpReply Reply(std::vector<std::string> lines) {
  return SmtpReply{.code = 250, .lines = std::move(lines)};
}

// Runs the wire bytes through the reply parser first, as the session does.
EhloCapabilities ParseWire(std::string_view wire) {
  ReplyParser parser;
  size_t consumed = 0;
  EXPECT_EQ(parser.Feed(wire, &consumed), ReplyParser::Result::kComplete);
  EXPECT_EQ(consumed, wire.size());
  return ParseEhlo(parser.reply());
}

TEST(ParseEhloTest, Postfix) {
  const EhloCapabilities c = ParseWire(
      "250-mail.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n"
      "250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n"
      "250 CHUNKING\r\n");
  EhloCapabilities want;
  want.greeting_name = "mail.example.com";
  want.extensions = {{"PIPELINING", ""}, {"SIZE", "10240000"}, {"VRFY", ""},
                     {"ETRN", ""},       {"STARTTLS", ""},     {"ENHANCEDSTATUSCODES", ""},
                     {"8BITMIME", ""},   {"DSN", ""},          {"SMTPUTF8", ""},
                     {"CHUNKING", ""}};
  want.size = 10240000;
  want.pipelining = want.starttls = want.enhancedstatuscodes = want.eightbitmime = want.dsn =
      want.smtputf8 = want.chunking = true;
  EXPECT_EQ(c, want);
}

TEST(ParseEhloTest, Exim) {
  const EhloCapabilities c = ParseWire(
      "250-mx.example.org Hello client.example.net [192.0.2.1]\r\n250-SIZE 52428800\r\n"
      "250-8BITMIME\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n250-CHUNKING\r\n"
      "250-STARTTLS\r\n250-PRDR\r\n250 HELP\r\n");
  EXPECT_EQ(c.greeting_name, "mx.example.org");
  EXPECT_EQ(c.size, 52428800u);
  EXPECT_THAT(c.auth, ElementsAre("PLAIN", "LOGIN"));
  EXPECT_FALSE(c.auth_old_form);
  EXPECT_TRUE(c.starttls);
  EXPECT_TRUE(c.chunking);
  EXPECT_FALSE(c.smtputf8);
  EXPECT_EQ(c.extensions.size(), 8u);
  EXPECT_THAT(c.extensions[3], Pair("AUTH", "PLAIN LOGIN"));
  EXPECT_THAT(c.extensions[6], Pair("PRDR", ""));
  EXPECT_EQ(c.ignored_lines, 0u);
}

TEST(ParseEhloTest, Microsoft365) {
  const EhloCapabilities c = ParseWire(
      "250-AM0PR02MB1234.eurprd02.prod.outlook.com Hello [192.0.2.1]\r\n250-SIZE 157286400\r\n"
      "250-PIPELINING\r\n250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n250-STARTTLS\r\n250-8BITMIME\r\n"
      "250-BINARYMIME\r\n250-CHUNKING\r\n250 SMTPUTF8\r\n");
  EXPECT_EQ(c.greeting_name, "AM0PR02MB1234.eurprd02.prod.outlook.com");
  EXPECT_EQ(c.size, 157286400u);
  EXPECT_TRUE(c.binarymime);
  EXPECT_TRUE(c.chunking);
  EXPECT_TRUE(c.smtputf8);
  EXPECT_TRUE(c.dsn);
  EXPECT_FALSE(c.requiretls);
  EXPECT_THAT(c.auth, IsEmpty());
}

TEST(ParseEhloTest, Gmail) {
  const EhloCapabilities c = ParseWire(
      "250-mx.google.com at your service, [192.0.2.1]\r\n250-SIZE 157286400\r\n250-8BITMIME\r\n"
      "250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-PIPELINING\r\n250-CHUNKING\r\n"
      "250 SMTPUTF8\r\n");
  EXPECT_EQ(c.greeting_name, "mx.google.com");
  EXPECT_TRUE(c.smtputf8);
  EXPECT_TRUE(c.starttls);
  EXPECT_THAT(c.extensions.back(), Pair("SMTPUTF8", ""));
}

TEST(ParseEhloTest, Sendmail) {
  const EhloCapabilities c = ParseWire(
      "250-mail.example.com Hello client [192.0.2.1], pleased to meet you\r\n"
      "250-ENHANCEDSTATUSCODES\r\n250-PIPELINING\r\n250-EXPN\r\n250-VERB\r\n250-8BITMIME\r\n"
      "250-SIZE\r\n250-DSN\r\n250-ETRN\r\n250-AUTH DIGEST-MD5 CRAM-MD5\r\n250-DELIVERBY\r\n"
      "250 HELP\r\n");
  // SIZE without a number: the extension is there, no maximum is declared.
  EXPECT_EQ(c.size, std::nullopt);
  EXPECT_THAT(c.extensions[5], Pair("SIZE", ""));
  EXPECT_THAT(c.auth, ElementsAre("DIGEST-MD5", "CRAM-MD5"));
}

TEST(ParseEhloTest, OldAuthFormIsMergedWithTheStandardOne) {
  const EhloCapabilities c = ParseWire(
      "250-mail.example.com\r\n250-AUTH LOGIN PLAIN\r\n250-AUTH=LOGIN PLAIN CRAM-MD5\r\n"
      "250 8BITMIME\r\n");
  EXPECT_THAT(c.auth, ElementsAre("LOGIN", "PLAIN", "CRAM-MD5"));
  EXPECT_TRUE(c.auth_old_form);
  // The old form is not an ehlo-keyword: it shows in `auth`, not in `extensions`.
  EXPECT_THAT(c.extensions, ElementsAre(Pair("AUTH", "LOGIN PLAIN"), Pair("8BITMIME", "")));
  EXPECT_EQ(c.ignored_lines, 0u);
}

TEST(ParseEhloTest, OldAuthFormAlone) {
  const EhloCapabilities c = ParseEhlo(Reply({"mx", "AUTH=PLAIN LOGIN", "auth=xoauth2"}));
  EXPECT_THAT(c.auth, ElementsAre("PLAIN", "LOGIN", "XOAUTH2"));
  EXPECT_TRUE(c.auth_old_form);
  EXPECT_THAT(c.extensions, IsEmpty());
}

TEST(ParseEhloTest, KeywordsAreCaseInsensitive) {
  const EhloCapabilities c = ParseEhlo(Reply(
      {"mx.example.net", "size 1000", "StartTLS", "auth plain Login", "8bitmime", "smtpUTF8"}));
  EXPECT_EQ(c.size, 1000u);
  EXPECT_TRUE(c.starttls);
  EXPECT_TRUE(c.eightbitmime);
  EXPECT_TRUE(c.smtputf8);
  EXPECT_THAT(c.auth, ElementsAre("PLAIN", "LOGIN"));
  // Keywords uppercased, parameters as sent.
  EXPECT_THAT(c.extensions,
              ElementsAre(Pair("SIZE", "1000"), Pair("STARTTLS", ""), Pair("AUTH", "plain Login"),
                          Pair("8BITMIME", ""), Pair("SMTPUTF8", "")));
}

TEST(ParseEhloTest, BlanksAroundAndBetweenAreTolerated) {
  const EhloCapabilities c =
      ParseEhlo(Reply({"  mx.example.net\tgreets you ", " SIZE\t2048 ", "STARTTLS   ",
                       "\tAUTH  PLAIN\t LOGIN  ", "PIPELINING\r", "DSN \r"}));
  EXPECT_EQ(c.greeting_name, "mx.example.net");
  EXPECT_EQ(c.size, 2048u);
  EXPECT_TRUE(c.starttls);
  EXPECT_TRUE(c.pipelining);
  EXPECT_TRUE(c.dsn);
  EXPECT_THAT(c.auth, ElementsAre("PLAIN", "LOGIN"));
  EXPECT_THAT(c.extensions,
              ElementsAre(Pair("SIZE", "2048"), Pair("STARTTLS", ""), Pair("AUTH", "PLAIN\t LOGIN"),
                          Pair("PIPELINING", ""), Pair("DSN", "")));
  EXPECT_EQ(c.ignored_lines, 0u);
}

TEST(ParseEhloTest, GarbageLinesAreIgnoredAndCounted) {
  const EhloCapabilities c =
      ParseEhlo(Reply({"mx", "", "   ", "X_UNDERSCORE", "-LEADING-DASH", "AUTH:PLAIN", "STAR\0TLS"s,
                       "\xc3\x84XT", "\x1b[2JCLEAR", "X-LINK2STATE", "XEXCH50", "8BITMIME"}));
  EXPECT_THAT(c.extensions,
              ElementsAre(Pair("X-LINK2STATE", ""), Pair("XEXCH50", ""), Pair("8BITMIME", "")));
  EXPECT_EQ(c.ignored_lines, 8u);
  EXPECT_FALSE(c.starttls);
  EXPECT_THAT(c.auth, IsEmpty());
}

TEST(ParseEhloTest, RepeatedKeywordIsListedOnceWithItsFirstParameters) {
  const EhloCapabilities c = ParseEhlo(Reply(
      {"mx", "SIZE 100", "AUTH PLAIN", "size 200", "AUTH LOGIN PLAIN", "STARTTLS", "STARTTLS"}));
  EXPECT_THAT(c.extensions,
              ElementsAre(Pair("SIZE", "100"), Pair("AUTH", "PLAIN"), Pair("STARTTLS", "")));
  EXPECT_EQ(c.size, 100u);
  EXPECT_THAT(c.auth, ElementsAre("PLAIN", "LOGIN"));
  EXPECT_EQ(c.ignored_lines, 0u);
}

TEST(ParseEhloTest, SizeParameter) {
  struct SizeCase {
    std::string line;
    std::optional<uint64_t> size;
  };
  const std::vector<SizeCase> cases = {
      {"SIZE 157286400", 157286400},
      {"SIZE 0", 0},  // RFC 1870: no maximum in force
      {"SIZE", std::nullopt},
      {"SIZE ", std::nullopt},
      {"SIZE abc", std::nullopt},
      {"SIZE 10M", std::nullopt},
      {"SIZE -1", std::nullopt},
      {"SIZE 1000 extra", 1000},
      {"SIZE 18446744073709551615", UINT64_MAX},
      {"SIZE 18446744073709551616", std::nullopt},
      {"SIZE 99999999999999999999", std::nullopt},
      {"SIZE 000000000000000000001", std::nullopt},  // 21 digits: past RFC 1870's 20
      {"SIZE 00000000000000000001", 1},
  };
  for (const SizeCase& sc : cases) {
    SCOPED_TRACE(sc.line);
    const EhloCapabilities c = ParseEhlo(Reply({"mx", sc.line}));
    EXPECT_EQ(c.size, sc.size);
    ASSERT_EQ(c.extensions.size(), 1u);
    EXPECT_EQ(c.extensions[0].first, "SIZE");
  }
}

TEST(ParseEhloTest, AuthKeepsOnlySaslMechanismNames) {
  const EhloCapabilities c = ParseEhlo(
      Reply({"mx", "AUTH PLAIN LOGIN=x VERYLONGMECHANISMNAME123 xoauth2 GS2-KRB5 SCRAM-SHA-256 a_b",
             "AUTH", "AUTH="}));
  EXPECT_THAT(c.auth, ElementsAre("PLAIN", "XOAUTH2", "GS2-KRB5", "SCRAM-SHA-256", "A_B"));
  EXPECT_TRUE(c.auth_old_form);
}

TEST(ParseEhloTest, AuthMechanismsAreCapped) {
  std::string line = "AUTH";
  for (int i = 0; i < 100; ++i) line += " M" + std::to_string(i);
  const EhloCapabilities c = ParseEhlo(Reply({"mx", line, "AUTH=OTHER"}));
  EXPECT_EQ(c.auth.size(), kEhloAuthMechanismsMax);
  EXPECT_EQ(c.auth.front(), "M0");
}

TEST(ParseEhloTest, ExtensionsAreCappedButKnownOnesStillCount) {
  std::vector<std::string> lines = {"mx"};
  for (int i = 0; i < 200; ++i) lines.push_back("X-K" + std::to_string(i));
  lines.push_back("STARTTLS");
  lines.push_back("AUTH PLAIN");
  const EhloCapabilities c = ParseEhlo(Reply(std::move(lines)));
  EXPECT_EQ(c.extensions.size(), kEhloExtensionsMax);
  EXPECT_EQ(c.ignored_lines, 200 + 2 - kEhloExtensionsMax);
  EXPECT_TRUE(c.starttls);
  EXPECT_THAT(c.auth, ElementsAre("PLAIN"));
}

TEST(ParseEhloTest, FlagsOfEveryKnownExtension) {
  const EhloCapabilities c =
      ParseEhlo(Reply({"mx", "PIPELINING", "8BITMIME", "SMTPUTF8", "CHUNKING", "BINARYMIME", "DSN",
                       "ENHANCEDSTATUSCODES", "REQUIRETLS", "STARTTLS"}));
  EXPECT_TRUE(c.pipelining && c.eightbitmime && c.smtputf8 && c.chunking && c.binarymime && c.dsn &&
              c.enhancedstatuscodes && c.requiretls && c.starttls);
  // Near misses are other extensions.
  const EhloCapabilities d = ParseEhlo(Reply({"mx", "STARTTLS2", "XPIPELINING", "8BITMIMEX"}));
  EXPECT_FALSE(d.starttls || d.pipelining || d.eightbitmime);
  EXPECT_EQ(d.extensions.size(), 3u);
}

TEST(ParseEhloTest, GreetingOnly) {
  const EhloCapabilities c = ParseWire("250 mx.example.com\r\n");
  EXPECT_EQ(c.greeting_name, "mx.example.com");
  EXPECT_THAT(c.extensions, IsEmpty());
  EXPECT_EQ(ParseEhlo(Reply({""})), EhloCapabilities{});
  EXPECT_EQ(ParseEhlo(Reply({})), EhloCapabilities{});
}

TEST(ParseEhloTest, FirstLineIsNeverAnExtension) {
  const EhloCapabilities c = ParseEhlo(Reply({"STARTTLS"}));
  EXPECT_EQ(c.greeting_name, "STARTTLS");
  EXPECT_FALSE(c.starttls);
}

TEST(ParseEhloTest, HostileBytesNeverCrash) {
  std::string all_bytes;
  for (int b = 0; b < 256; ++b) all_bytes.push_back(static_cast<char>(b));
  const EhloCapabilities c =
      ParseEhlo(Reply({all_bytes, all_bytes, "AUTH " + all_bytes, "AUTH=" + all_bytes,
                       "SIZE " + all_bytes, std::string(5000, 'A'), std::string(5000, ' ')}));
  EXPECT_EQ(c.greeting_name, std::string(all_bytes.substr(0, 9)));  // up to the first tab
  EXPECT_THAT(c.extensions, ElementsAre(Pair("AUTH", ::testing::_), Pair("SIZE", ::testing::_),
                                        Pair(std::string(5000, 'A'), "")));
  EXPECT_EQ(c.size, std::nullopt);
  EXPECT_TRUE(c.auth_old_form);
}

}  // namespace
}  // namespace mxray::engine
