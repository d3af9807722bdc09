// JsonlWriter and the string escaping under it: exact lines for each kind of record, and hostile
// bytes (NUL, terminal escapes, line breaks, invalid UTF-8) always ending up as one line of valid
// UTF-8 JSON that parses back and satisfies docs/output.schema.json.
#include "report/jsonl_writer.h"

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "engine/domain_record.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/dns_types.h"
#include "io/ip_address.h"
#include "rapidjson/document.h"
#include "rapidjson/encodings.h"
#include "rapidjson/memorystream.h"
#include "report/safe_json_writer.h"
#include "report/schema_validator.h"

namespace mxray::report {
namespace {

using engine::AddressRecord;
using engine::DomainRecord;
using engine::DomainStatus;
using engine::ExchangeRecord;
using engine::ExchangeStatus;
using engine::MxSource;
using io::DnsStatus;

io::IpAddress Ip(std::string_view text) {
  std::optional<io::IpAddress> ip = io::IpAddress::Parse(text);
  EXPECT_TRUE(ip.has_value()) << text;
  return ip.value_or(io::IpAddress());
}

ExchangeRecord OkExchange(uint16_t preference, std::string name,
                          std::vector<std::string_view> ips) {
  ExchangeRecord x;
  x.preference = preference;
  x.exchange = std::move(name);
  x.status = ExchangeStatus::kOk;
  x.a_status = DnsStatus::kOk;
  x.aaaa_status = DnsStatus::kNodata;
  for (std::string_view ip : ips) x.addresses.push_back(AddressRecord{Ip(ip)});
  return x;
}

// The example of docs/output.md.
DomainRecord OkRecord() {
  DomainRecord r;
  r.input = "Example.TEST.";
  r.domain = "example.test";
  r.status = DomainStatus::kOk;
  r.mx_source = MxSource::kMx;
  r.mx_status = DnsStatus::kOk;
  r.mx.push_back(OkExchange(10, "mx1.example.test", {"127.1.0.1", "::1"}));
  r.elapsed_ms = 3;
  return r;
}

DomainRecord InvalidRecord(std::string input) {
  DomainRecord r;
  r.input = std::move(input);
  r.status = DomainStatus::kInvalidInput;
  r.error = "empty_label";
  r.mx_source = MxSource::kNone;
  return r;
}

std::unique_ptr<SchemaValidator> LoadSchema() {
  auto validator = SchemaValidator::LoadFile(MXRAY_SOURCE_DIR "/docs/output.schema.json");
  EXPECT_TRUE(validator.ok()) << validator.status();
  return validator.ok() ? *std::move(validator) : nullptr;
}

bool IsValidUtf8(std::string_view s) {
  rapidjson::MemoryStream stream(s.data(), s.size());
  rapidjson::StringBuffer ignored;
  while (stream.Tell() < s.size()) {
    if (!rapidjson::UTF8<>::Validate(stream, ignored)) return false;
  }
  return true;
}

// Parses a line the way a strict consumer would and returns the document.
rapidjson::Document ParseStrict(std::string_view line) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(line.data(), line.size());
  EXPECT_FALSE(doc.HasParseError()) << "offset " << doc.GetErrorOffset() << " in " << line;
  return doc;
}

std::string StringMember(const rapidjson::Value& object, const char* name) {
  const rapidjson::Value& v = object[name];
  return std::string(v.GetString(), v.GetStringLength());
}

class JsonlWriterTest : public ::testing::Test {
 protected:
  // Formats, then checks what every line must satisfy, whatever the record.
  std::string FormatChecked(const DomainRecord& record) {
    std::string line(writer_.Format(record));
    EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
    for (unsigned char c : line.substr(0, line.size() - 1)) {
      EXPECT_GE(c, 0x20) << "raw control byte in " << line;
      EXPECT_NE(c, 0x7f) << "raw DEL in " << line;
    }
    EXPECT_TRUE(IsValidUtf8(line)) << line;
    ParseStrict(line);
    if (schema_ != nullptr) {
      absl::Status valid = schema_->ValidateLine(line);
      EXPECT_TRUE(valid.ok()) << valid << "\n" << line;
    }
    return line;
  }

  JsonlWriter writer_;
  std::unique_ptr<SchemaValidator> schema_ = LoadSchema();
};

TEST_F(JsonlWriterTest, OkRecordMatchesDocumentedLayout) {
  EXPECT_EQ(FormatChecked(OkRecord()),
            R"({"domain":"example.test","input":"Example.TEST.","status":"ok","mx_source":"mx",)"
            R"("dns":{"mx":"ok"},"mx":[{"preference":10,"exchange":"mx1.example.test",)"
            R"("status":"ok","dns":{"a":"ok","aaaa":"nodata"},)"
            R"("addresses":[{"ip":"127.1.0.1"},{"ip":"::1"}]}],"findings":[],"elapsed_ms":3})"
            "\n");
}

TEST_F(JsonlWriterTest, InvalidInputHasNullDomainErrorAndNoLookups) {
  EXPECT_EQ(FormatChecked(InvalidRecord("foo..bar")),
            R"({"domain":null,"input":"foo..bar","status":"invalid_input","error":"empty_label",)"
            R"("mx_source":"none","dns":{},"mx":[],"findings":[],"elapsed_ms":0})"
            "\n");
}

TEST_F(JsonlWriterTest, InvalidInputIgnoresAnyDomainTheEngineLeftSet) {
  DomainRecord r = InvalidRecord("x..y");
  r.domain = "x..y";
  EXPECT_THAT(FormatChecked(r), ::testing::StartsWith(R"({"domain":null,)"));
}

TEST_F(JsonlWriterTest, NullMxListsNoHosts) {
  DomainRecord r;
  r.input = "nomail.test";
  r.domain = "nomail.test";
  r.status = DomainStatus::kNullMx;
  r.mx_source = MxSource::kNullMx;
  r.mx_status = DnsStatus::kOk;
  r.elapsed_ms = 1;
  EXPECT_EQ(FormatChecked(r),
            R"({"domain":"nomail.test","input":"nomail.test","status":"null_mx",)"
            R"("mx_source":"null_mx","dns":{"mx":"ok"},"mx":[],"findings":[],"elapsed_ms":1})"
            "\n");
}

TEST_F(JsonlWriterTest, ImplicitMxIsTheDomainWithPreferenceZero) {
  DomainRecord r;
  r.input = "bare.test";
  r.domain = "bare.test";
  r.status = DomainStatus::kOk;
  r.mx_source = MxSource::kImplicit;
  r.mx_status = DnsStatus::kNodata;
  ExchangeRecord x = OkExchange(0, "bare.test", {"192.0.2.1", "2001:db8::1"});
  x.aaaa_status = DnsStatus::kOk;
  r.mx.push_back(x);
  r.elapsed_ms = 12;
  EXPECT_EQ(
      FormatChecked(r),
      R"({"domain":"bare.test","input":"bare.test","status":"ok","mx_source":"implicit",)"
      R"("dns":{"mx":"nodata"},"mx":[{"preference":0,"exchange":"bare.test","status":"ok",)"
      R"("dns":{"a":"ok","aaaa":"ok"},"addresses":[{"ip":"192.0.2.1"},{"ip":"2001:db8::1"}]}],)"
      R"("findings":[],"elapsed_ms":12})"
      "\n");
}

TEST_F(JsonlWriterTest, CnameAndTruncationFlagsAppearOnlyWhenSet) {
  DomainRecord r = OkRecord();
  r.mx_cname = {"alias.example.test"};
  r.mx_truncated = true;
  r.mx[0].cname = {"a.example.test", "b.example.test"};
  r.mx[0].addresses_truncated = true;
  EXPECT_EQ(FormatChecked(r),
            R"({"domain":"example.test","input":"Example.TEST.","status":"ok","mx_source":"mx",)"
            R"("cname":["alias.example.test"],"dns":{"mx":"ok"},"mx_truncated":true,)"
            R"("mx":[{"preference":10,"exchange":"mx1.example.test","status":"ok",)"
            R"("cname":["a.example.test","b.example.test"],"dns":{"a":"ok","aaaa":"nodata"},)"
            R"("addresses_truncated":true,"addresses":[{"ip":"127.1.0.1"},{"ip":"::1"}]}],)"
            R"("findings":[],"elapsed_ms":3})"
            "\n");
}

TEST_F(JsonlWriterTest, LookupsNotMadeAreAbsentFromDns) {
  DomainRecord r = OkRecord();
  ExchangeRecord skipped;
  skipped.preference = 20;
  skipped.exchange = "mx2.example.test";
  skipped.status = ExchangeStatus::kSkipped;
  r.mx.push_back(skipped);
  ExchangeRecord half;
  half.preference = 30;
  half.exchange = "mx3.example.test";
  half.status = ExchangeStatus::kDnsTimeout;
  half.a_status = DnsStatus::kTimeout;
  r.mx.push_back(half);
  const std::string line = FormatChecked(r);
  EXPECT_THAT(line, ::testing::HasSubstr(
                        R"({"preference":20,"exchange":"mx2.example.test","status":"skipped",)"
                        R"("dns":{},"addresses":[]})"));
  EXPECT_THAT(line, ::testing::HasSubstr(R"("status":"dns_timeout","dns":{"a":"timeout"},)"));
}

TEST_F(JsonlWriterTest, RootExchangeIsWrittenAsDot) {
  DomainRecord r = OkRecord();
  ExchangeRecord root;
  root.exchange = "";
  root.status = ExchangeStatus::kNullMxMixed;
  r.mx.insert(r.mx.begin(), root);
  EXPECT_THAT(
      FormatChecked(r),
      ::testing::HasSubstr(R"("mx":[{"preference":0,"exchange":".","status":"null_mx_mixed")"));
}

TEST_F(JsonlWriterTest, WritesLargeNumbersExactly) {
  DomainRecord r = OkRecord();
  r.elapsed_ms = UINT64_MAX;
  r.mx[0].preference = 65535;
  const std::string line = FormatChecked(r);
  EXPECT_THAT(line, ::testing::HasSubstr(R"("elapsed_ms":18446744073709551615})"));
  EXPECT_THAT(line, ::testing::HasSubstr(R"("preference":65535,)"));
}

TEST_F(JsonlWriterTest, ReusedWriterStartsEachLineAfresh) {
  const std::string first(writer_.Format(InvalidRecord(std::string(5000, 'x'))));
  const std::string second(writer_.Format(OkRecord()));
  EXPECT_EQ(second, FormatChecked(OkRecord()));
  EXPECT_NE(first, second);
}

TEST_F(JsonlWriterTest, AppendKeepsWhatIsAlreadyThere) {
  std::string out = "previous\n";
  writer_.Append(OkRecord(), &out);
  AppendDomainJson(InvalidRecord("?"), &out);
  EXPECT_EQ(out, "previous\n" + std::string(writer_.Format(OkRecord())) +
                     std::string(writer_.Format(InvalidRecord("?"))));
}

TEST_F(JsonlWriterTest, HostileInputStaysOneValidLine) {
  const std::string input("a\0b\x1b[2J\r\nc\xff\xc3(\xf0\x9f\x93\xa7", 17);
  DomainRecord r = InvalidRecord(input);
  const std::string line = FormatChecked(r);
  EXPECT_THAT(line, ::testing::HasSubstr(R"("input":"a\u0000b\u001b[2J\r\nc)"
                                         "\xef\xbf\xbd\xef\xbf\xbd(\xf0\x9f\x93\xa7\""));
  const rapidjson::Document doc = ParseStrict(line);
  EXPECT_EQ(StringMember(doc, "input"),
            std::string("a\0b\x1b[2J\r\nc\xef\xbf\xbd\xef\xbf\xbd(\xf0\x9f\x93\xa7", 21));
}

TEST_F(JsonlWriterTest, HostileNamesFromDnsStayOneValidLine) {
  DomainRecord r = OkRecord();
  ExchangeRecord bad;
  bad.preference = 5;
  bad.exchange = std::string("evil\x1b]0;title\x07\n\xc2\x9b", 17);
  bad.status = ExchangeStatus::kInvalidName;
  r.mx.insert(r.mx.begin(), bad);
  r.mx[1].cname = {std::string("\x80\xbf", 2)};
  const std::string line = FormatChecked(r);
  EXPECT_THAT(line, ::testing::HasSubstr(R"("exchange":"evil\u001b]0;title\u0007\n\u009b")"));
  EXPECT_THAT(line, ::testing::HasSubstr("\"cname\":[\"\xef\xbf\xbd\xef\xbf\xbd\"]"));
}

struct EscapeCase {
  std::string_view name;
  std::string input;
  std::string expected;  // the literal, quotes included
};

TEST(AppendJsonStringTest, EscapesAndRepairsEachCase) {
  const std::vector<EscapeCase> cases = {
      {"empty", "", R"("")"},
      {"plain", "mx1.example.test", R"("mx1.example.test")"},
      {"quote and backslash", R"(a"b\c)", R"("a\"b\\c")"},
      {"NUL", std::string("a\0b", 3), R"("a\u0000b")"},
      {"ESC", "\x1b[31mred", R"("\u001b[31mred")"},
      {"short escapes", "\b\t\n\f\r", R"("\b\t\n\f\r")"},
      {"lone CR and LF", "a\rb\nc", R"("a\rb\nc")"},
      {"other C0", "\x01\x1f", R"("\u0001\u001f")"},
      {"DEL", "\x7f", R"("\u007f")"},
      {"C1 CSI", "\xc2\x9b", R"("\u009b")"},
      {"C1 NEL", "\xc2\x85", R"("\u0085")"},
      {"NBSP kept", "\xc2\xa0", "\"\xc2\xa0\""},
      {"2-byte kept", "caf\xc3\xa9", "\"caf\xc3\xa9\""},
      {"3-byte kept", "\xe2\x82\xac", "\"\xe2\x82\xac\""},
      {"U+2027 kept", "\xe2\x80\xa7", "\"\xe2\x80\xa7\""},
      {"U+2028", "\xe2\x80\xa8", R"("\u2028")"},
      {"U+2029", "\xe2\x80\xa9", R"("\u2029")"},
      {"4-byte kept", "\xf0\x9f\x93\xa7", "\"\xf0\x9f\x93\xa7\""},
      {"U+10FFFF kept", "\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\""},
      {"0xFF", "\xff", "\"\xef\xbf\xbd\""},
      {"stray continuation", "a\x80z", "\"a\xef\xbf\xbdz\""},
      {"overlong slash", "\xc0\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\""},
      {"overlong 3-byte", "\xe0\x80\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
      {"surrogate", "\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
      {"above U+10FFFF", "\xf4\x90\x80\x80",
       "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
      {"truncated at end", "x\xe2\x82", "\"x\xef\xbf\xbd\xef\xbf\xbd\""},
      {"truncated mid-string", "\xe2\x82x", "\"\xef\xbf\xbd\xef\xbf\xbdx\""},
      {"truncated 4-byte then ASCII", "\xf0\x9f\x93\"",
       "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\\\"\""},
      {"Latin-1 byte", "caf\xe9!", "\"caf\xef\xbf\xbd!\""},
  };
  for (const EscapeCase& c : cases) {
    EXPECT_EQ(JsonStringLiteral(c.input), c.expected) << c.name;
  }
}

TEST(AppendJsonStringTest, AppendsAfterExistingContent) {
  rapidjson::StringBuffer buffer;
  buffer.Put('[');
  AppendJsonString("a\x01", &buffer);
  EXPECT_EQ(std::string_view(buffer.GetString(), buffer.GetSize()), R"([")"
                                                                    R"(a\u0001")");
}

// Random bytes, weighted towards the troublesome ones: the result always parses as strict UTF-8
// JSON, and input that was valid UTF-8 comes back unchanged.
TEST_F(JsonlWriterTest, RandomBytesRoundTripOrAreRepaired) {
  std::mt19937 rng(20240601);
  const std::vector<uint8_t> interesting = {0x00, 0x0a, 0x0d, 0x1b, 0x22, 0x5c, 0x7f, 0x80,
                                            0x9b, 0xbf, 0xc0, 0xc2, 0xe0, 0xe2, 0xed, 0xef,
                                            0xf0, 0xf4, 0xf5, 0xff, 0xa8, 0xa9};
  std::uniform_int_distribution<int> length_dist(0, 40);
  std::uniform_int_distribution<int> kind_dist(0, 3);
  std::uniform_int_distribution<int> byte_dist(0, 255);
  std::uniform_int_distribution<size_t> pick(0, interesting.size() - 1);
  int valid_inputs = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string input;
    const int length = length_dist(rng);
    for (int i = 0; i < length; ++i) {
      const int kind = kind_dist(rng);
      if (kind == 0) {
        input.push_back(static_cast<char>(interesting[pick(rng)]));
      } else if (kind == 1) {
        input.append("\xf0\x9f\x93\xa7");
      } else {
        input.push_back(static_cast<char>(kind == 2 ? byte_dist(rng) : 'a' + i % 26));
      }
    }
    DomainRecord r = InvalidRecord(input);
    const std::string line = FormatChecked(r);
    const rapidjson::Document doc = ParseStrict(line);
    if (IsValidUtf8(input)) {
      ++valid_inputs;
      EXPECT_EQ(StringMember(doc, "input"), input);
    }
  }
  EXPECT_GT(valid_inputs, 100);  // the generator exercises both paths
}

}  // namespace
}  // namespace mxray::report

namespace mxray::report {
namespace {

std::shared_ptr<engine::PortRecord> TlsPort() {
  auto p = std::make_shared<engine::PortRecord>();
  p->port = 25;
  p->state = engine::PortState::kOpen;
  p->connect_ms = 1;
  p->outcome = engine::ProbeOutcome::kStarttlsInjection;
  p->banner = engine::SmtpReply{.code = 220, .lines = {"mx1.example.test ESMTP"}};
  p->ehlo = engine::SmtpReply{.code = 250, .lines = {"mx1.example.test", "STARTTLS", "AUTH PLAIN"}};
  p->capabilities = engine::EhloCapabilities{.starttls = true, .auth = {"PLAIN"}};
  p->starttls = engine::SmtpReply{.code = 220, .lines = {"go ahead"}};
  p->injected = "250 injected\r\n";
  auto t = std::make_unique<tls::TlsFacts>();
  t->sni = "mx1.example.test";
  t->version = "TLSv1";
  t->cipher = "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA";
  t->group = "X25519";
  t->handshake_ms = 2;
  t->has_certificate = true;
  t->leaf.subject = "CN=mx1.example.test";
  t->leaf.issuer = "CN=Test CA";
  t->leaf.serial = "0a1b";
  t->leaf.san_dns = {"mx1.example.test"};
  t->leaf.not_before = 1700000000;
  t->leaf.not_after = 1800000000;
  t->leaf.days_left = -3;
  t->leaf.key_type = "RSA";
  t->leaf.key_bits = 2048;
  t->leaf.signature_algorithm = "sha256WithRSAEncryption";
  t->leaf.sha256 = std::string(64, 'a');
  t->intermediates.push_back({.subject = "CN=Test CA", .issuer = "CN=Test Root"});
  t->verify.trusted = true;
  t->verify.expired = true;
  p->tls = std::move(t);
  p->ehlo_tls = engine::SmtpReply{.code = 250, .lines = {"mx1.example.test", "AUTH PLAIN LOGIN"}};
  p->capabilities_tls = engine::EhloCapabilities{.auth = {"PLAIN", "LOGIN"}};
  return p;
}

TEST_F(JsonlWriterTest, TlsFactsVerdictAndFindingsFollowTheSchema) {
  DomainRecord r = OkRecord();
  AddressRecord& a = r.mx[0].addresses[0];
  a.ports.push_back(TlsPort());
  a.verdicts.push_back({.judged = true, .hostname_match = true, .status = "expired"});
  r.findings.push_back(
      {.id = "cert_expired", .severity = "high", .exchange = 0, .address = 0, .port = 25});
  std::string line = FormatChecked(r);
  EXPECT_THAT(line, ::testing::HasSubstr(R"("starttls":{"code":220,"text":["go ahead"]},)"
                                         R"("injected":"250 injected\r\n","tls":{)"
                                         R"("sni":"mx1.example.test","handshake_ms":2,)"
                                         R"("version":"TLSv1",)"));
  EXPECT_THAT(line, ::testing::HasSubstr(R"("not_before":"2023-11-14T22:13:20Z",)"
                                         R"("not_after":"2027-01-15T08:00:00Z","days_left":-3,)"));
  EXPECT_THAT(line,
              ::testing::HasSubstr(R"("intermediates":[{"subject":"CN=Test CA",)"
                                   R"("issuer":"CN=Test Root"}],"verify":{"status":"expired",)"
                                   R"("hostname_match":true,"trusted":true,"expired":true,)"));
  EXPECT_THAT(line, ::testing::HasSubstr(R"("auth":{"before_tls":["PLAIN"],)"
                                         R"("after_tls":["PLAIN","LOGIN"]})"));
  EXPECT_THAT(line, ::testing::HasSubstr(R"("findings":[{"id":"cert_expired","severity":"high",)"
                                         R"("where":{"exchange":"mx1.example.test",)"
                                         R"("address":"127.1.0.1","port":25}}])"));
}

TEST_F(JsonlWriterTest, AFailedHandshakeCarriesOnlyItsError) {
  DomainRecord r = OkRecord();
  auto p = std::make_shared<engine::PortRecord>();
  p->port = 465;
  p->state = engine::PortState::kOpen;
  p->connect_ms = 0;
  p->outcome = engine::ProbeOutcome::kTlsHandshakeFailed;
  auto t = std::make_unique<tls::TlsFacts>();
  t->sni = "mx1.example.test";
  t->error = "WRONG_VERSION_NUMBER";
  p->tls = std::move(t);
  r.mx[0].addresses[0].ports.push_back(p);
  EXPECT_THAT(FormatChecked(r), ::testing::HasSubstr(R"("outcome":"tls_handshake_failed","tls":{)"
                                                     R"("sni":"mx1.example.test","handshake_ms":0,)"
                                                     R"("error":"WRONG_VERSION_NUMBER"},)"));
}

}  // namespace
}  // namespace mxray::report

namespace mxray::report {
namespace {

TEST_F(JsonlWriterTest, ReputationFieldsAndAddressFindingsFollowTheSchema) {
  auto kZen = std::make_shared<engine::DnsblZone>(
      engine::DnsblZone{.zone = "zen.spamhaus.org", .passed = true});
  auto kRewritten = std::make_shared<engine::DnsblZone>(
      engine::DnsblZone{.zone = "dnsbl.example.test", .passed = true});
  DomainRecord r = OkRecord();
  auto rep = std::make_shared<engine::ReputationRecord>();
  rep->ptr_status = DnsStatus::kOk;
  rep->ptr = {"mx1.example.test"};
  rep->fcrdns = true;
  engine::DnsblResult listed{.zone = kZen};
  listed.verdict.status = engine::DnsblStatus::kListed;
  listed.verdict.codes = {"127.0.0.2", "127.0.0.4"};
  listed.verdict.lists = {"SBL", "XBL"};
  listed.verdict.meanings = {"spam source", "exploited host"};
  listed.txt = {"https://check.spamhaus.org/listed"};
  engine::DnsblResult unknown{.zone = kRewritten};
  unknown.verdict.status = engine::DnsblStatus::kUnknown;
  unknown.verdict.codes = {"198.51.100.7"};
  unknown.verdict.reason = "answer outside 127.0.0.0/8";
  rep->dnsbl = {listed, unknown};
  r.mx[0].addresses[0].reputation = rep;
  auto none = std::make_shared<engine::ReputationRecord>();
  none->ptr_status = DnsStatus::kNxdomain;
  r.mx[0].addresses[1].reputation = none;
  r.findings.push_back({.id = "dnsbl_listed", .severity = "high", .exchange = 0, .address = 0});
  r.findings.push_back({.id = "no_ptr", .severity = "low", .exchange = 0, .address = 1});
  std::string line = FormatChecked(r);
  EXPECT_THAT(line,
              ::testing::HasSubstr(
                  R"({"ip":"127.1.0.1","ptr":["mx1.example.test"],"fcrdns":true,"dnsbl":[)"
                  R"({"zone":"zen.spamhaus.org","status":"listed",)"
                  R"("codes":["127.0.0.2","127.0.0.4"],"lists":["SBL","XBL"],)"
                  R"("meaning":["spam source","exploited host"],)"
                  R"("txt":["https://check.spamhaus.org/listed"]},)"
                  R"({"zone":"dnsbl.example.test","status":"unknown","codes":["198.51.100.7"],)"
                  R"("reason":"answer outside 127.0.0.0/8"}]})"));
  EXPECT_THAT(line, ::testing::HasSubstr(
                        R"({"ip":"::1","ptr":[],"ptr_status":"nxdomain","fcrdns":false})"));
  EXPECT_THAT(line,
              ::testing::HasSubstr(R"({"id":"no_ptr","severity":"low",)"
                                   R"("where":{"exchange":"mx1.example.test","address":"::1"}})"));
}

}  // namespace
}  // namespace mxray::report
