// Tests for domain normalization and the streaming input reader: the reason codes are part of
// the JSON contract, and every non-blank, non-comment line must come back exactly once.
#include "engine/domain_input.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mxray::engine {
namespace {

namespace err = input_error;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct NormalizeCase {
  std::string name;  // test-case label, for failure messages
  std::string input;
  std::string domain;      // expected when error is empty
  std::string_view error;  // expected reason code, or empty for success
};

void ExpectCases(const std::vector<NormalizeCase>& cases) {
  for (const NormalizeCase& c : cases) {
    SCOPED_TRACE(c.name);
    NormalizedDomain n = NormalizeDomain(c.input);
    if (c.error.empty()) {
      EXPECT_TRUE(n.ok) << "error: " << n.error;
      EXPECT_EQ(n.domain, c.domain);
      EXPECT_TRUE(n.error.empty());
    } else {
      EXPECT_FALSE(n.ok) << "domain: " << n.domain;
      EXPECT_EQ(n.error, c.error);
      EXPECT_TRUE(n.domain.empty());
    }
  }
}

std::string Labels(std::vector<size_t> sizes) {
  std::string s;
  for (size_t size : sizes) {
    if (!s.empty()) s.push_back('.');
    s.append(size, 'a');
  }
  return s;
}

TEST(NormalizeDomainTest, LowercasesAscii) {
  ExpectCases({
      {"upper", "EXAMPLE.COM", "example.com", {}},
      {"mixed", "Mail.Example.Org", "mail.example.org", {}},
      {"digits and hyphens", "a-1.b2.example", "a-1.b2.example", {}},
      {"leading digit label", "123.example", "123.example", {}},
  });
}

TEST(NormalizeDomainTest, DropsOneTrailingDot) {
  ExpectCases({
      {"one dot", "example.com.", "example.com", {}},
      {"two dots", "example.com..", {}, err::kEmptyLabel},
      {"root only", ".", {}, err::kEmpty},
      {"nothing", "", {}, err::kEmpty},
  });
}

TEST(NormalizeDomainTest, ConvertsUnicodeToALabelsNonTransitionally) {
  ExpectCases({
      {"umlaut", "bücher.example", "xn--bcher-kva.example", {}},
      {"unicode upper case", "ÉXAMPLE.test", "xn--xample-9ua.test", {}},
      // Transitional processing would audit "fass.de", a different domain.
      {"sharp s kept", "faß.de", "xn--fa-hia.de", {}},
      {"fullwidth mapped", "ｅｘａｍｐｌｅ.com", "example.com", {}},
      {"ideographic full stop", "bücher\u3002example", "xn--bcher-kva.example", {}},
      {"ideographic root", "bücher.example\u3002", "xn--bcher-kva.example", {}},
      {"ascii trailing dot", "bücher.example.", "xn--bcher-kva.example", {}},
      {"a-label passes through", "XN--BCHER-KVA.example", "xn--bcher-kva.example", {}},
      // libidn2 refuses "--" in positions 3-4 of any label of a name it converts; only the
      // Unicode label goes to it, so this legal DNS label survives.
      {"r-ldh ascii label beside idn", "ab--cd.bücher.de", "ab--cd.xn--bcher-kva.de", {}},
  });
}

TEST(NormalizeDomainTest, RejectsUnicodeThatIdnaDisallows) {
  ExpectCases({
      {"snowman", "\u2603.example", {}, err::kIdnError},
      {"emoji", "\U0001F600.example", {}, err::kIdnError},
      {"zero width joiner", "a\u200Db\u00FC.example", {}, err::kIdnError},
      {"hyphen edge in unicode label", "-bücher.example", {}, err::kHyphenAtLabelEdge},
      // STD3 processing in libidn2 would silently delete these ASCII bytes.
      {"underscore in unicode label", "bü_cher.example", {}, err::kBadCharacter},
      {"space in unicode label", "bü cher.example", {}, err::kBadCharacter},
      {"maps to non-ldh", "\u2474.com", {}, err::kBadCharacter},  // ⑴ -> "(1)"
      {"maps to nothing", "\u00AD.com", {}, err::kEmptyLabel},    // soft hyphen is ignored
  });
}

TEST(NormalizeDomainTest, EnforcesLabelAndNameLengths) {
  ExpectCases({
      {"label 63", Labels({63, 3}), Labels({63, 3}), {}},
      {"label 64", Labels({64, 3}), {}, err::kLabelTooLong},
      {"name 253", Labels({63, 63, 63, 61}), Labels({63, 63, 63, 61}), {}},
      {"name 253 plus root", Labels({63, 63, 63, 61}) + ".", Labels({63, 63, 63, 61}), {}},
      {"name 254", Labels({63, 63, 63, 62}), {}, err::kNameTooLong},
      {"unicode label too long", std::string(60, 'a') + "ü.example", {}, err::kLabelTooLong},
      {"unicode input past cap",
       [] {
         std::string s;
         for (size_t i = 0; i * 2 <= kMaxDomainInputBytes; ++i) s += "ü";
         return s + ".example";
       }(),
       {},
       err::kNameTooLong},
  });
}

TEST(NormalizeDomainTest, RejectsBadLdhSyntax) {
  ExpectCases({
      {"leading hyphen", "-example.com", {}, err::kHyphenAtLabelEdge},
      {"trailing hyphen", "example-.com", {}, err::kHyphenAtLabelEdge},
      {"hyphen in tld edge", "example.-com", {}, err::kHyphenAtLabelEdge},
      {"underscore", "exa_mple.com", {}, err::kBadCharacter},
      {"service label", "_dmarc.example.com", {}, err::kBadCharacter},
      {"inner space", "exa mple.com", {}, err::kBadCharacter},
      {"inner tab", "example\t.com", {}, err::kBadCharacter},
      {"email address", "user@example.com", {}, err::kBadCharacter},
      {"url", "http://example.com/", {}, err::kBadCharacter},
      {"lone cr", "a.com\rb.com", {}, err::kBadCharacter},
      {"empty middle label", "a..b", {}, err::kEmptyLabel},
      {"leading dot", ".example.com", {}, err::kEmptyLabel},
      {"single label", "localhost", {}, err::kSingleLabel},
      {"single label with root", "com.", {}, err::kSingleLabel},
      {"numeric tld", "example.123", {}, err::kNumericTld},
  });
}

TEST(NormalizeDomainTest, RejectsBytesThatAreNotText) {
  ExpectCases({
      {"nul", std::string("exa\0mple.com", 12), {}, err::kNulByte},
      {"lone continuation", "\x80.com", {}, err::kInvalidUtf8},
      {"invalid lead", "\xff.com", {}, err::kInvalidUtf8},
      {"truncated sequence", "b\xc3.com", {}, err::kInvalidUtf8},
      {"overlong slash", "a\xc0\xaf.com", {}, err::kInvalidUtf8},
      {"surrogate", "a\xed\xa0\x80.com", {}, err::kInvalidUtf8},
      {"past u+10ffff", "a\xf4\x90\x80\x80.com", {}, err::kInvalidUtf8},
  });
}

TEST(NormalizeDomainTest, RejectsIpLiterals) {
  ExpectCases({
      {"dotted quad", "1.2.3.4", {}, err::kIpLiteral},
      {"dotted quad with root", "1.2.3.4.", {}, err::kIpLiteral},
      {"bracketed v4", "[1.2.3.4]", {}, err::kIpLiteral},
      {"bracketed v6 tag", "[IPv6:2001:db8::1]", {}, err::kIpLiteral},
      {"bracketed v6", "[::1]", {}, err::kIpLiteral},
      {"bare v6", "2001:DB8::1", {}, err::kIpLiteral},
      {"short form", "127.1", {}, err::kIpLiteral},
      {"hex form", "0x7f.0.0.1", {}, err::kIpLiteral},
      {"out of range quad", "999.1.1.1", {}, err::kIpLiteral},
      {"fullwidth digits", "１.２.３.４", {}, err::kIpLiteral},
      {"bracketed garbage", "[example.com]", {}, err::kBadCharacter},
  });
}

TEST(NormalizeInputLineTest, TooLongLineIsLineTooLong) {
  InputLine line{"example.com", 7, "f", true};
  NormalizedDomain n = NormalizeInputLine(line);
  EXPECT_FALSE(n.ok);
  EXPECT_EQ(n.error, err::kLineTooLong);
  line.too_long = false;
  EXPECT_EQ(NormalizeInputLine(line).domain, "example.com");
}

TEST(HostnameErrorTest, AcceptsHostNamesInAnyCase) {
  for (std::string_view name : {"mx1.example.com", "MX1.Example.COM", "xn--bcher-kva.example",
                                "a.b", "r3---sn-x.example"}) {
    EXPECT_TRUE(IsValidHostname(name)) << name << ": " << HostnameError(name);
  }
}

TEST(HostnameErrorTest, NamesWhyAnExchangeIsUnusable) {
  struct Case {
    std::string_view name;
    std::string_view error;
  };
  for (const Case& c : std::vector<Case>{
           {"", err::kEmpty},
           {"10.0.0.5", err::kIpLiteral},
           {"[192.0.2.1]", err::kIpLiteral},
           {"mail", err::kSingleLabel},
           {"mx.example.com.", err::kEmptyLabel},  // the resolver strips the root first
           {"_mx.example.com", err::kBadCharacter},
           {"bücher.example", err::kBadCharacter},  // must already be an A-label
           {"mx-.example.com", err::kHyphenAtLabelEdge},
           {"mx.example.42", err::kNumericTld},
       }) {
    EXPECT_EQ(HostnameError(c.name), c.error) << c.name;
    EXPECT_FALSE(IsValidHostname(c.name)) << c.name;
  }
}

// --- InputReader ---

struct Line {
  std::string text;
  uint64_t line_number;
  bool too_long;
  friend bool operator==(const Line&, const Line&) = default;
  friend std::ostream& operator<<(std::ostream& os, const Line& l) {
    return os << "{" << l.line_number << ": \"" << l.text.substr(0, 40) << "\" size "
              << l.text.size() << (l.too_long ? " too_long" : "") << "}";
  }
};

std::vector<Line> ReadAll(InputReader& reader) {
  std::vector<Line> lines;
  InputLine line;
  while (reader.Next(&line)) lines.push_back({line.text, line.line_number, line.too_long});
  EXPECT_TRUE(reader.status().ok()) << reader.status();
  return lines;
}

class InputReaderTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const std::string& path : paths_) std::remove(path.c_str());
  }

  std::string WriteFile(std::string_view content) {
    std::string path =
        absl::StrCat(::testing::TempDir(), "/domain_input_test_", getpid(), "_", paths_.size());
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    EXPECT_GE(fd, 0) << path;
    EXPECT_EQ(write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    close(fd);
    paths_.push_back(path);
    return path;
  }

  std::vector<Line> ReadFile(std::string_view content,
                             size_t max_line_bytes = InputReader::kDefaultMaxLineBytes) {
    absl::StatusOr<InputReaderPtr> reader = InputReader::Open({WriteFile(content)}, max_line_bytes);
    EXPECT_TRUE(reader.ok()) << reader.status();
    if (!reader.ok()) return {};
    return ReadAll(**reader);
  }

  std::vector<std::string> paths_;
};

TEST_F(InputReaderTest, SkipsBlankAndCommentLinesAndTrims) {
  EXPECT_THAT(
      ReadFile("a.com\n\n   \n# comment\n \t# indented comment\n  b.com \t\nc.com # x\n"),
      ElementsAre(Line{"a.com", 1, false}, Line{"b.com", 6, false}, Line{"c.com # x", 7, false}));
}

TEST_F(InputReaderTest, StripsCrlf) {
  EXPECT_THAT(ReadFile("a.com\r\n\r\nb.com\r\n"),
              ElementsAre(Line{"a.com", 1, false}, Line{"b.com", 3, false}));
}

TEST_F(InputReaderTest, ReadsLastLineWithoutNewline) {
  EXPECT_THAT(ReadFile("a.com\nb.com"),
              ElementsAre(Line{"a.com", 1, false}, Line{"b.com", 2, false}));
  EXPECT_THAT(ReadFile("a.com\n# last comment"), ElementsAre(Line{"a.com", 1, false}));
  EXPECT_THAT(ReadFile(""), ElementsAre());
}

TEST_F(InputReaderTest, KeepsNulInvalidUtf8AndLoneCrInsideTheirLine) {
  std::vector<Line> lines = ReadFile(std::string("a\0b.com\n\xff.com\nx.com\ry.com\n", 25));
  ASSERT_THAT(lines, ElementsAre(Line{std::string("a\0b.com", 7), 1, false},
                                 Line{"\xff.com", 2, false}, Line{"x.com\ry.com", 3, false}));
  EXPECT_EQ(NormalizeDomain(lines[0].text).error, err::kNulByte);
  EXPECT_EQ(NormalizeDomain(lines[1].text).error, err::kInvalidUtf8);
  EXPECT_EQ(NormalizeDomain(lines[2].text).error, err::kBadCharacter);
}

TEST_F(InputReaderTest, TruncatesMegabyteLineAndReadsTheNextOne) {
  std::string content = std::string(1 << 20, 'x') + "\nnext.com\n";
  std::vector<Line> lines = ReadFile(content);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].text, std::string(InputReader::kDefaultMaxLineBytes, 'x'));
  EXPECT_TRUE(lines[0].too_long);
  EXPECT_EQ(lines[0].line_number, 1u);
  EXPECT_EQ(lines[1], (Line{"next.com", 2, false}));
}

TEST_F(InputReaderTest, LongBlankRunsDoNotMakeALineTooLong) {
  std::string spaces(1 << 20, ' ');
  EXPECT_THAT(ReadFile(spaces + "lead.com\ntrail.com" + spaces + "\n" + spaces + "\n#" + spaces +
                       "\nlast.com"),
              ElementsAre(Line{"lead.com", 1, false}, Line{"trail.com", 2, false},
                          Line{"last.com", 5, false}));
}

TEST_F(InputReaderTest, LineJustOverTheCapIsTooLong) {
  EXPECT_THAT(ReadFile("abcdefghij\nabcdefghijk\nabcdefghij   \n", 10),
              ElementsAre(Line{"abcdefghij", 1, false}, Line{"abcdefghij", 2, true},
                          Line{"abcdefghij", 3, false}));
}

TEST_F(InputReaderTest, TruncationDoesNotSplitAUtf8Character) {
  // "a" then five two-byte characters: the cut at 10 bytes falls inside the fifth.
  EXPECT_THAT(ReadFile("aüüüüü\n", 10), ElementsAre(Line{"aüüüü", 1, true}));
}

TEST_F(InputReaderTest, DropsByteOrderMarkAtStartOfEachSource) {
  EXPECT_THAT(ReadFile("\xEF\xBB\xBF"
                       "a.com\n\xEF\xBB\xBF"
                       "b.com\n"),
              ElementsAre(Line{"a.com", 1, false}, Line{"\xEF\xBB\xBF"
                                                        "b.com",
                                                        2, false}));
  EXPECT_THAT(ReadFile("\xEF\xBB\xBF# header\na.com\n"), ElementsAre(Line{"a.com", 2, false}));
}

TEST_F(InputReaderTest, ReadsLinesThatCrossBufferBoundaries) {
  // Well past the 64 KiB read buffer, with line lengths that do not divide it.
  std::string content;
  std::vector<Line> expected;
  for (int i = 0; i < 30000; ++i) {
    std::string domain = absl::StrCat("host", i, std::string(i % 7, 'z'), ".example");
    absl::StrAppend(&content, domain, i % 3 == 0 ? "\r\n" : "\n");
    expected.push_back({domain, static_cast<uint64_t>(i + 1), false});
  }
  EXPECT_EQ(ReadFile(content), expected);
}

TEST_F(InputReaderTest, ReadsSeveralFilesInOrder) {
  std::string first = WriteFile("a.com\nb.com");  // no final newline: must not join c.com
  std::string second = WriteFile("# header\nc.com\n");
  absl::StatusOr<InputReaderPtr> reader = InputReader::Open({first, second, first});
  ASSERT_TRUE(reader.ok()) << reader.status();
  std::vector<std::pair<std::string, std::string>> seen;
  InputLine line;
  while ((*reader)->Next(&line)) {
    seen.emplace_back(std::string(line.source), absl::StrCat(line.text, "@", line.line_number));
  }
  EXPECT_TRUE((*reader)->status().ok());
  EXPECT_THAT(seen, ElementsAre(std::pair(first, "a.com@1"), std::pair(first, "b.com@2"),
                                std::pair(second, "c.com@2"), std::pair(first, "a.com@1"),
                                std::pair(first, "b.com@2")));
}

TEST_F(InputReaderTest, ReadsFromAPipeFedOneByteAtATime) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const std::string content = "a.com\r\n\n# c\n" + std::string(5000, 'y') + "\nb.com";
  std::thread writer([&] {
    for (char c : content) {
      if (write(fds[1], &c, 1) != 1) break;
    }
    close(fds[1]);
  });
  InputReaderPtr reader = InputReader::FromFd(fds[0], "pipe");
  InputLine line;
  std::vector<Line> lines;
  while (reader->Next(&line)) {
    EXPECT_EQ(line.source, "pipe");
    lines.push_back({line.text, line.line_number, line.too_long});
  }
  writer.join();
  close(fds[0]);
  EXPECT_TRUE(reader->status().ok());
  EXPECT_THAT(lines, ElementsAre(Line{"a.com", 1, false},
                                 Line{std::string(InputReader::kDefaultMaxLineBytes, 'y'), 4, true},
                                 Line{"b.com", 5, false}));
}

TEST_F(InputReaderTest, DashReadsStdin) {
  std::string path = WriteFile("stdin.example\n");
  int saved = dup(STDIN_FILENO);
  ASSERT_GE(saved, 0);
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(dup2(fd, STDIN_FILENO), STDIN_FILENO);
  close(fd);
  absl::StatusOr<InputReaderPtr> reader = InputReader::Open({"-"});
  std::vector<Line> lines;
  InputLine line;
  std::string source;
  if (reader.ok()) {
    while ((*reader)->Next(&line)) {
      lines.push_back({line.text, line.line_number, line.too_long});
      source = std::string(line.source);
    }
    reader->reset();  // must not close stdin
  }
  EXPECT_NE(fcntl(STDIN_FILENO, F_GETFD), -1);
  dup2(saved, STDIN_FILENO);
  close(saved);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_THAT(lines, ElementsAre(Line{"stdin.example", 1, false}));
  EXPECT_EQ(source, "-");
}

TEST_F(InputReaderTest, MissingFileFailsAtOpenNamingThePath) {
  std::string good = WriteFile("a.com\n");
  std::string missing = absl::StrCat(::testing::TempDir(), "/domain_input_test_no_such_file");
  absl::StatusOr<InputReaderPtr> reader = InputReader::Open({good, missing});
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(reader.status().message()), HasSubstr(missing));
}

TEST_F(InputReaderTest, UnreadableFileIsPermissionDenied) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads files whatever their mode";
  std::string path = WriteFile("a.com\n");
  ASSERT_EQ(chmod(path.c_str(), 0), 0);
  absl::StatusOr<InputReaderPtr> reader = InputReader::Open({path});
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(reader.status().message()), HasSubstr(path));
}

TEST_F(InputReaderTest, DirectoryOrNoInputIsInvalidArgument) {
  std::string dir = ::testing::TempDir();
  absl::StatusOr<InputReaderPtr> reader = InputReader::Open({dir});
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(reader.status().message()), HasSubstr(dir));
  EXPECT_EQ(InputReader::Open({}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(InputReaderTest, ReadErrorEndsTheStreamWithAStatus) {
  int fd = open(::testing::TempDir().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  InputReaderPtr reader = InputReader::FromFd(fd, "dir");
  InputLine line;
  EXPECT_FALSE(reader->Next(&line));
  EXPECT_FALSE(reader->status().ok());
  EXPECT_THAT(std::string(reader->status().message()), HasSubstr("dir"));
  close(fd);
}

TEST_F(InputReaderTest, YieldsOneRecordPerNonBlankNonCommentLine) {
  // Hostile lines of every kind; each must produce exactly one normalization result.
  const std::vector<std::string> kLines = {
      "ok.example",
      std::string("nul\0.example", 13),
      "\xff\xfe",
      "a..b",
      "[1.2.3.4]",
      "bücher.example",
      "x\ry",
      std::string(9000, 'q'),
      "   padded.example",
      "-bad.example",
      "single",
      "\xEF\xBB\xBF",
  };
  std::string content;
  for (const std::string& l : kLines) absl::StrAppend(&content, l, "\n\n# comment\n");
  absl::StatusOr<InputReaderPtr> reader = InputReader::Open({WriteFile(content)});
  ASSERT_TRUE(reader.ok());
  InputLine line;
  size_t records = 0;
  while ((*reader)->Next(&line)) {
    NormalizedDomain n = NormalizeInputLine(line);
    EXPECT_NE(n.ok, !n.error.empty());
    ++records;
  }
  EXPECT_EQ(records, kLines.size());
}

}  // namespace
}  // namespace mxray::engine
