// SchemaValidator against the real docs/output.schema.json: documented lines pass, and each kind
// of drift (missing or extra field, unknown enum value, broken status rule, not one line, not
// JSON) fails with a message that names the field and the rule.
#include "report/schema_validator.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mxray::report {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr char kOkLine[] =
    R"({"domain":"example.test","input":"Example.TEST.","status":"ok","mx_source":"mx",)"
    R"("dns":{"mx":"ok"},"mx":[{"preference":10,"exchange":"mx1.example.test","status":"ok",)"
    R"("dns":{"a":"ok","aaaa":"nodata"},"addresses":[{"ip":"127.1.0.1"},{"ip":"::1"}]}],)"
    R"("findings":[],"elapsed_ms":3})";

constexpr char kInvalidLine[] =
    R"({"domain":null,"input":"foo..bar","status":"invalid_input","error":"empty_label",)"
    R"("mx_source":"none","dns":{},"mx":[],"findings":[],"elapsed_ms":0})";

class SchemaValidatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = SchemaValidator::LoadFile(MXRAY_SOURCE_DIR "/docs/output.schema.json");
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    validator_ = *std::move(loaded);
  }

  // The ok line with one substring replaced; fails the test if `from` is not in it.
  static std::string OkLineWith(absl::string_view from, absl::string_view to) {
    const std::string line = kOkLine;
    EXPECT_NE(line.find(std::string(from)), std::string::npos) << from;
    return absl::StrReplaceAll(line, {{from, to}});
  }

  std::string Error(std::string_view line) {
    const absl::Status s = validator_->ValidateLine(line);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s << "\n" << line;
    return std::string(s.message());
  }

  std::unique_ptr<SchemaValidator> validator_;
};

TEST_F(SchemaValidatorTest, DocumentedLinesPass) {
  EXPECT_TRUE(validator_->ValidateLine(kOkLine).ok()) << validator_->ValidateLine(kOkLine);
  EXPECT_TRUE(validator_->ValidateLine(std::string(kOkLine) + "\n").ok());
  EXPECT_TRUE(validator_->ValidateLine(kInvalidLine).ok())
      << validator_->ValidateLine(kInvalidLine);
}

// One line per domain status and per special exchange, as docs/output.md describes them.
TEST_F(SchemaValidatorTest, EveryStatusHasAValidShape) {
  const std::vector<std::string> lines = {
      R"({"domain":"gone.test","input":"gone.test","status":"nxdomain","mx_source":"none",)"
      R"("dns":{"mx":"nxdomain"},"mx":[],"findings":[],"elapsed_ms":5})",
      R"({"domain":"nomail.test","input":"nomail.test","status":"null_mx","mx_source":"null_mx",)"
      R"("dns":{"mx":"ok"},"mx":[],"findings":[],"elapsed_ms":1})",
      R"({"domain":"slow.test","input":"slow.test","status":"dns_timeout","mx_source":"none",)"
      R"("dns":{"mx":"timeout"},"mx":[],"findings":[],"elapsed_ms":9000})",
      R"({"domain":"broken.test","input":"broken.test","status":"dns_error","mx_source":"none",)"
      R"("dns":{"mx":"servfail"},"mx":[],"findings":[],"elapsed_ms":40})",
      R"({"domain":"bare.test","input":"bare.test","status":"no_mail_host","mx_source":"implicit",)"
      R"("dns":{"mx":"nodata"},"mx":[{"preference":0,"exchange":"bare.test","status":"no_address",)"
      R"("dns":{"a":"nodata","aaaa":"nodata"},"addresses":[]}],"findings":[],"elapsed_ms":7})",
      R"({"domain":"odd.test","input":"odd.test","status":"no_mail_host","mx_source":"mx",)"
      R"("cname":["alias.odd.test"],"dns":{"mx":"ok"},"mx_truncated":true,"mx":[)"
      R"({"preference":0,"exchange":".","status":"null_mx_mixed","dns":{},"addresses":[]},)"
      R"({"preference":5,"exchange":"192.0.2.1","status":"ip_literal","dns":{},"addresses":[]},)"
      R"({"preference":10,"exchange":"gone.odd.test","status":"nxdomain","dns":{"a":"nxdomain",)"
      R"("aaaa":"nxdomain"},"addresses":[]},)"
      R"({"preference":20,"exchange":"loop.odd.test","status":"cname_loop","cname":["a.test",)"
      R"("b.test"],"dns":{"a":"malformed","aaaa":"malformed"},"addresses":[]},)"
      R"({"preference":30,"exchange":"mx30.odd.test","status":"skipped","dns":{},"addresses":[]}],)"
      R"("findings":[],"elapsed_ms":80})",
  };
  for (const std::string& line : lines) {
    const absl::Status s = validator_->ValidateLine(line);
    EXPECT_TRUE(s.ok()) << s << "\n" << line;
  }
}

TEST_F(SchemaValidatorTest, ValidatorIsReusableAfterAFailure) {
  EXPECT_FALSE(validator_->ValidateLine("{}").ok());
  EXPECT_TRUE(validator_->ValidateLine(kOkLine).ok());
}

TEST_F(SchemaValidatorTest, MissingFieldIsNamed) {
  EXPECT_THAT(Error(OkLineWith(R"(,"elapsed_ms":3)", "")),
              AllOf(HasSubstr("\"required\""), HasSubstr("\"elapsed_ms\""), HasSubstr("at #:")));
  EXPECT_THAT(Error(OkLineWith(R"("preference":10,)", "")),
              AllOf(HasSubstr("at #/mx/0"), HasSubstr("\"preference\"")));
}

TEST_F(SchemaValidatorTest, UnknownEnumValueIsNamedWithItsPointer) {
  EXPECT_THAT(Error(OkLineWith(R"("status":"ok","mx_source")", R"("status":"bogus","mx_source")")),
              AllOf(HasSubstr("at #/status"), HasSubstr("\"enum\""), HasSubstr("\"bogus\""),
                    HasSubstr("\"no_mail_host\"")));
  EXPECT_THAT(Error(OkLineWith(R"("aaaa":"nodata")", R"("aaaa":"NODATA")")),
              AllOf(HasSubstr("at #/mx/0/dns/aaaa"), HasSubstr("\"NODATA\"")));
}

TEST_F(SchemaValidatorTest, ExtraFieldIsNamed) {
  EXPECT_THAT(Error(OkLineWith(R"("elapsed_ms":3})", R"("elapsed_ms":3,"extra":1})")),
              AllOf(HasSubstr("at #/extra"), HasSubstr("\"additionalProperties\""),
                    HasSubstr("unexpected property \"extra\"")));
  // Address objects stay closed until ports, tls, dnsbl and ptr are added to the schema.
  EXPECT_THAT(
      Error(OkLineWith(R"({"ip":"::1"})", R"({"ip":"::1","tls":{}})")),
      AllOf(HasSubstr("at #/mx/0/addresses/1/tls"), HasSubstr("unexpected property \"tls\"")));
  EXPECT_THAT(Error(OkLineWith(R"("dns":{"mx":"ok"})", R"("dns":{"mx":"ok","txt":"ok"})")),
              AllOf(HasSubstr("at #/dns/txt"), HasSubstr("unexpected property \"txt\"")));
}

TEST_F(SchemaValidatorTest, WrongTypeIsReported) {
  EXPECT_THAT(Error(OkLineWith(R"("elapsed_ms":3)", R"("elapsed_ms":"3")")),
              AllOf(HasSubstr("at #/elapsed_ms"), HasSubstr("\"type\"")));
  EXPECT_THAT(Error(OkLineWith(R"("preference":10)", R"("preference":70000)")),
              AllOf(HasSubstr("at #/mx/0/preference"), HasSubstr("\"maximum\"")));
}

TEST_F(SchemaValidatorTest, NamesMustBeNormalized) {
  EXPECT_THAT(Error(OkLineWith(R"("domain":"example.test")", R"("domain":"Example.test")")),
              AllOf(HasSubstr("at #/domain"), HasSubstr("\"pattern\"")));
  EXPECT_FALSE(
      validator_
          ->ValidateLine(OkLineWith(R"("domain":"example.test")", R"("domain":"example.test.")"))
          .ok());
  EXPECT_THAT(Error(OkLineWith(R"({"ip":"::1"})", R"({"ip":"localhost"})")),
              HasSubstr("at #/mx/0/addresses/1/ip"));
}

TEST_F(SchemaValidatorTest, StatusRulesNameTheBrokenRule) {
  // invalid_input needs a null domain.
  EXPECT_THAT(Error(absl::StrReplaceAll(kInvalidLine, {{R"("domain":null)", R"("domain":"x")"}})),
              AllOf(HasSubstr("\"allOf\""),
                    HasSubstr("domain is null and error is present exactly when status is "
                              "invalid_input")));
  // error only with invalid_input.
  EXPECT_THAT(
      Error(OkLineWith(R"("status":"ok","mx_source")", R"("status":"ok","error":"x","mx_source")")),
      HasSubstr("exactly when status is invalid_input"));
  // An ok domain needs an ok host.
  EXPECT_THAT(
      Error(OkLineWith(R"("status":"ok","mx_source")", R"("status":"dns_error","mx_source")")),
      HasSubstr("status ok exactly when some mail host has status ok"));
  // An ok host needs addresses.
  EXPECT_THAT(
      Error(OkLineWith(R"("addresses":[{"ip":"127.1.0.1"},{"ip":"::1"}])", R"("addresses":[])")),
      AllOf(HasSubstr("at #/mx/0"),
            HasSubstr("an exchange has status ok exactly when it lists addresses")));
  // An implicit MX is one host with preference 0.
  EXPECT_THAT(Error(OkLineWith(R"("mx_source":"mx","dns":{"mx":"ok"})",
                               R"("mx_source":"implicit","dns":{"mx":"nodata"})")),
              HasSubstr("mx_source implicit"));
  // A flag that is present must be true.
  EXPECT_THAT(Error(OkLineWith(R"("mx":[)", R"("mx_truncated":false,"mx":[)")),
              AllOf(HasSubstr("at #/mx_truncated"), HasSubstr("\"enum\"")));
}

TEST_F(SchemaValidatorTest, RecordMustBeOneLine) {
  EXPECT_THAT(Error(OkLineWith(R"(,"elapsed_ms")", ",\n\"elapsed_ms\"")), HasSubstr("raw LF"));
  EXPECT_THAT(Error(OkLineWith(R"(,"elapsed_ms")", ",\r\"elapsed_ms\"")), HasSubstr("raw CR"));
  EXPECT_THAT(Error(std::string(kOkLine) + "\n\n"), HasSubstr("raw LF"));
  EXPECT_THAT(Error(std::string(kOkLine) + std::string("\0junk", 5)), HasSubstr("raw NUL"));
}

TEST_F(SchemaValidatorTest, NotJsonIsReported) {
  EXPECT_THAT(Error(""), HasSubstr("not JSON"));
  EXPECT_THAT(Error(R"({"domain":)"), HasSubstr("not JSON"));
  EXPECT_THAT(Error(std::string(kOkLine) + " {}"), HasSubstr("not JSON"));
  EXPECT_THAT(Error(OkLineWith("Example.TEST.", "Example\xff")), HasSubstr("not JSON"));
}

TEST_F(SchemaValidatorTest, DuplicateKeyIsReported) {
  EXPECT_THAT(Error(OkLineWith(R"("status":"ok","mx_source")",
                               R"("status":"ok","status":"ok","mx_source")")),
              HasSubstr("duplicate key \"status\""));
  // The same key in sibling objects is fine.
  EXPECT_TRUE(validator_->ValidateLine(kOkLine).ok());
}

TEST(SchemaValidatorLoadTest, MissingFileIsNotFound) {
  auto loaded = SchemaValidator::LoadFile("/nonexistent/output.schema.json");
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kNotFound);
}

TEST(SchemaValidatorLoadTest, BrokenSchemasAreRejected) {
  EXPECT_EQ(SchemaValidator::FromJson("{").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SchemaValidator::FromJson("[]").status().code(), absl::StatusCode::kInvalidArgument);
  auto dangling =
      SchemaValidator::FromJson(R"({"properties":{"a":{"$ref":"#/definitions/nope"}}})");
  EXPECT_THAT(dangling.status().message(), HasSubstr("#/definitions/nope"));
}

}  // namespace
}  // namespace mxray::report
