// The fleet's DNS codec: queries in, answers out, compression, limits and the deliberate
// malformations (each must still look like the reply to the query, and must not parse).
#include "tools/fleet/dns_wire.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

namespace mxray::fleet {
namespace {

using ::testing::ElementsAre;
using ::testing::SizeIs;

std::vector<uint8_t> Header(uint16_t id, uint16_t flags, uint16_t qd, uint16_t an = 0,
                            uint16_t ns = 0, uint16_t ar = 0) {
  return {uint8_t(id >> 8), uint8_t(id), uint8_t(flags >> 8), uint8_t(flags),
          uint8_t(qd >> 8), uint8_t(qd), uint8_t(an >> 8),    uint8_t(an),
          uint8_t(ns >> 8), uint8_t(ns), uint8_t(ar >> 8),    uint8_t(ar)};
}

TEST(DnsWireTest, QueryRoundTripKeepsCaseOnWireAndLowercasesText) {
  std::vector<uint8_t> q = BuildQuery(0xBEEF, "Plain-1-AbCd.TEST", kTypeMx, 1232);
  DnsQuery query;
  ASSERT_EQ(ParseQuery(q, &query), QueryParse::kOk);
  EXPECT_EQ(query.id, 0xBEEF);
  EXPECT_TRUE(query.rd);
  EXPECT_EQ(query.qname, "plain-1-abcd.test");
  EXPECT_EQ(query.qtype, kTypeMx);
  EXPECT_EQ(query.qclass, kClassIn);
  EXPECT_TRUE(query.edns);
  EXPECT_EQ(query.edns_udp_bytes, 1232);
  std::string wire_text;
  WireNameToText({query.qname_wire.data(), query.qname_wire_len}, false, &wire_text);
  EXPECT_EQ(wire_text, "Plain-1-AbCd.TEST");
}

TEST(DnsWireTest, QueryWithoutEdns) {
  std::vector<uint8_t> q = BuildQuery(7, "a.test", kTypeA);
  DnsQuery query;
  ASSERT_EQ(ParseQuery(q, &query), QueryParse::kOk);
  EXPECT_FALSE(query.edns);
}

TEST(DnsWireTest, QueryNameMayUseABackwardPointer) {
  // "mx" then a pointer to offset 4, where QDCOUNT's high byte (0) reads as the root label.
  std::vector<uint8_t> q = Header(1, 0, 1);
  q.insert(q.end(), {2, 'm', 'x', 0xC0, 4, 0, kTypeA, 0, kClassIn});
  DnsQuery query;
  ASSERT_EQ(ParseQuery(q, &query), QueryParse::kOk);
  EXPECT_EQ(query.qname, "mx");
  EXPECT_EQ(query.qtype, kTypeA);
}

TEST(DnsWireTest, QueryNamePointerLoopsAndForwardPointersAreFormErr) {
  std::vector<uint8_t> self = Header(1, 0, 1);
  self.insert(self.end(), {0xC0, 12, 0, 1, 0, 1});  // points at itself
  std::vector<uint8_t> forward = Header(1, 0, 1);
  forward.insert(forward.end(), {0xC0, 14, 0, 0, 1, 0, 1});
  std::vector<uint8_t> past_end = Header(1, 0, 1);
  past_end.insert(past_end.end(), {0xFF, 0xFF, 0, 1, 0, 1});
  DnsQuery query;
  EXPECT_EQ(ParseQuery(self, &query), QueryParse::kFormErr);
  EXPECT_EQ(ParseQuery(forward, &query), QueryParse::kFormErr);
  EXPECT_EQ(ParseQuery(past_end, &query), QueryParse::kFormErr);
}

TEST(DnsWireTest, QueryOddities) {
  DnsQuery query;
  std::vector<uint8_t> short_msg = {1, 2, 3};
  EXPECT_EQ(ParseQuery(short_msg, &query), QueryParse::kIgnore);
  std::vector<uint8_t> response = BuildQuery(1, "a.test", kTypeA);
  response[2] |= 0x80;
  EXPECT_EQ(ParseQuery(response, &query), QueryParse::kIgnore);
  std::vector<uint8_t> notify = BuildQuery(1, "a.test", kTypeA);
  notify[2] |= 4 << 3;  // opcode 4: NOTIFY
  EXPECT_EQ(ParseQuery(notify, &query), QueryParse::kNotImp);
  std::vector<uint8_t> two_questions = BuildQuery(1, "a.test", kTypeA);
  two_questions[5] = 2;
  EXPECT_EQ(ParseQuery(two_questions, &query), QueryParse::kFormErr);
  std::vector<uint8_t> cut = BuildQuery(1, "a.test", kTypeA);
  cut.resize(cut.size() - 3);
  EXPECT_EQ(ParseQuery(cut, &query), QueryParse::kFormErr);
  std::vector<uint8_t> reserved_label = Header(1, 0, 1);
  reserved_label.insert(reserved_label.end(), {0x41, 'a', 0, 0, 1, 0, 1});
  EXPECT_EQ(ParseQuery(reserved_label, &query), QueryParse::kFormErr);
}

TEST(DnsWireTest, BuildQueryRejectsBadNames) {
  EXPECT_TRUE(BuildQuery(1, "a..test", kTypeA).empty());
  EXPECT_TRUE(BuildQuery(1, std::string(64, 'a') + ".test", kTypeA).empty());
  std::string long_name;
  for (int i = 0; i < 64; ++i) long_name += "abc.";
  EXPECT_TRUE(BuildQuery(1, long_name + "test", kTypeA).empty());
  EXPECT_FALSE(BuildQuery(1, "", kTypeSoa).empty());  // the root
}

TEST(DnsWireTest, NameOver255BytesIsRejected) {
  // 5 pointers chain back to a 63-byte label repeated: each hop adds 64 bytes.
  std::vector<uint8_t> msg = Header(1, 0, 0);
  size_t first = msg.size();
  msg.push_back(63);
  msg.insert(msg.end(), 63, 'a');
  msg.push_back(0);
  size_t prev = first;
  for (int i = 0; i < 4; ++i) {
    size_t here = msg.size();
    msg.push_back(63);
    msg.insert(msg.end(), 63, 'b');
    msg.push_back(uint8_t(0xC0 | prev >> 8));
    msg.push_back(uint8_t(prev));
    prev = here;
  }
  size_t offset = prev;
  std::string text;
  EXPECT_FALSE(ReadName(msg, &offset, &text));
}

class WriterTest : public ::testing::Test {
 protected:
  void Start(std::string_view qname, uint16_t qtype, size_t limit = kMaxDnsMessageBytes) {
    query_ = BuildQuery(0x1234, qname, qtype);
    ASSERT_EQ(ParseQuery(query_, &q_), QueryParse::kOk);
    buffer_.assign(kMaxDnsMessageBytes, 0);
    writer_ = std::make_unique<DnsMessageWriter>(std::span<uint8_t>(buffer_), limit);
    writer_->Start(q_.id, kFlagQr | kFlagRd | kFlagRa, {q_.qname_wire.data(), q_.qname_wire_len},
                   q_.qtype, q_.qclass);
  }
  DnsMessage Parsed() {
    absl::StatusOr<DnsMessage> m = ParseMessage(writer_->message());
    EXPECT_TRUE(m.ok()) << m.status();
    return m.ok() ? *m : DnsMessage();
  }

  std::vector<uint8_t> query_;
  DnsQuery q_;
  std::vector<uint8_t> buffer_;
  std::unique_ptr<DnsMessageWriter> writer_;
};

TEST_F(WriterTest, AnswersRoundTripWithCompression) {
  Start("Ex-1-abcd.test", kTypeMx);
  writer_->AddCname("ex-1-abcd.test", "real.ex-1-abcd.test", 300);
  writer_->AddMx("real.ex-1-abcd.test", 10, "mx1.provider-3.test", 300);
  writer_->AddMx("real.ex-1-abcd.test", 20, "mx2.provider-3.test", 300);
  writer_->BeginSection(DnsMessageWriter::Section::kAuthority);
  writer_->AddSoa("test", "ns.test", "hostmaster.test", 1, 2, 3, 4, 5, 60);
  writer_->AddOpt(1232);
  DnsMessage m = Parsed();
  EXPECT_EQ(m.id, 0x1234);
  EXPECT_EQ(m.flags & (kFlagQr | kFlagRd | kFlagRa), kFlagQr | kFlagRd | kFlagRa);
  ASSERT_THAT(m.questions, SizeIs(1));
  EXPECT_EQ(m.questions[0].name, "ex-1-abcd.test");
  ASSERT_THAT(m.answers, SizeIs(3));
  EXPECT_EQ(m.answers[0].type, kTypeCname);
  EXPECT_EQ(m.answers[0].target, "real.ex-1-abcd.test");
  EXPECT_EQ(m.answers[1].name, "real.ex-1-abcd.test");
  EXPECT_EQ(m.answers[1].preference, 10);
  EXPECT_EQ(m.answers[1].target, "mx1.provider-3.test");
  EXPECT_EQ(m.answers[2].target, "mx2.provider-3.test");
  ASSERT_THAT(m.authority, SizeIs(1));
  EXPECT_EQ(m.authority[0].target, "ns.test");
  ASSERT_THAT(m.additional, SizeIs(1));
  EXPECT_EQ(m.additional[0].type, kTypeOpt);
  EXPECT_EQ(m.additional[0].klass, 1232);

  // The CNAME owner is the question (case as asked): a pointer to offset 12.
  const size_t answers_at = kDnsHeaderBytes + q_.qname_wire_len + 4;
  EXPECT_EQ(buffer_[answers_at], 0xC0);
  EXPECT_EQ(buffer_[answers_at + 1], kDnsHeaderBytes);
  // "mx2.provider-3.test" shares "provider-3.test" with the record before: label + pointer.
  const auto& rdata = m.answers[2].rdata;
  ASSERT_THAT(rdata, SizeIs(2 + 4 + 2));
  EXPECT_EQ(rdata[2], 3);
  EXPECT_EQ(rdata[6] & 0xC0, 0xC0);
}

TEST_F(WriterTest, RawLabelBytesComeOutEscaped) {
  Start("x.test", kTypeMx);
  writer_->AddMx("x.test", 10, "mail host.x.test", 300);
  writer_->AddMx("x.test", 20, "bad_name!.test", 300);
  writer_->AddMx("x.test", 0, "", 300);
  DnsMessage m = Parsed();
  ASSERT_THAT(m.answers, SizeIs(3));
  EXPECT_EQ(m.answers[0].target, "mail\\032host.x.test");
  EXPECT_EQ(m.answers[1].target, "bad_name!.test");
  EXPECT_EQ(m.answers[2].target, "");
}

TEST_F(WriterTest, TxtAddressesAndTypes) {
  Start("x.test", kTypeTxt);
  writer_->AddTxt("x.test", std::string(300, 't'), 300);
  writer_->AddA("x.test", {127, 1, 2, 3}, 300);
  writer_->AddAaaa("x.test", {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 300);
  DnsMessage m = Parsed();
  ASSERT_THAT(m.answers, SizeIs(3));
  ASSERT_THAT(m.answers[0].texts, SizeIs(2));  // split at 255 bytes
  EXPECT_EQ(m.answers[0].texts[0].size() + m.answers[0].texts[1].size(), 300u);
  EXPECT_EQ(m.answers[1].address, "127.1.2.3");
  EXPECT_EQ(m.answers[2].address, "::1");
  EXPECT_EQ(TypeName(kTypeAaaa), "AAAA");
  EXPECT_EQ(TypeName(99), "TYPE99");
}

TEST_F(WriterTest, RecordPastTheLimitIsNotWrittenAndFlagsOverflow) {
  Start("x.test", kTypeA, 512);
  int written = 0;
  while (!writer_->overflowed()) {
    writer_->AddA("x.test", {127, 3, 0, uint8_t(written)}, 300);
    if (!writer_->overflowed()) ++written;
  }
  EXPECT_LE(writer_->size(), 512u);
  EXPECT_EQ(writer_->answer_count(), written);
  DnsMessage m = Parsed();
  EXPECT_THAT(m.answers, SizeIs(written));
  writer_->ResetToQuestion();
  EXPECT_FALSE(writer_->overflowed());
  EXPECT_EQ(writer_->answer_count(), 0);
  writer_->SetFlag(kFlagTc);
  m = Parsed();
  EXPECT_TRUE(m.truncated());
  EXPECT_THAT(m.answers, SizeIs(0));
  EXPECT_THAT(m.questions, SizeIs(1));
}

TEST_F(WriterTest, EveryMalformationKeepsIdAndQuestionButDoesNotParse) {
  for (Malformation kind : {Malformation::kTruncated, Malformation::kPointerLoop,
                            Malformation::kPointerRange, Malformation::kGarbage}) {
    SCOPED_TRACE(int(kind));
    Start("bad-1-abcd.test", kTypeMx);
    writer_->AddMx("bad-1-abcd.test", 10, "mx1.provider-0.test", 300);
    writer_->WriteMalformed(kind);
    std::span<const uint8_t> msg = writer_->message();
    EXPECT_FALSE(ParseMessage(msg).ok());
    // What a client checks before it believes a reply: id, QR, and the question.
    ASSERT_GE(msg.size(), kDnsHeaderBytes);
    EXPECT_EQ(msg[0] << 8 | msg[1], 0x1234);
    EXPECT_TRUE(msg[2] & 0x80);
    EXPECT_EQ(msg[6] << 8 | msg[7], 1);  // ANCOUNT
    size_t offset = kDnsHeaderBytes;
    std::string qname;
    ASSERT_TRUE(ReadName(msg, &offset, &qname));
    EXPECT_EQ(qname, "bad-1-abcd.test");
  }
}

TEST(DnsWireTest, ParseMessageRejectsTrailingBytesAndShortRdata) {
  std::vector<uint8_t> q = BuildQuery(1, "a.test", kTypeA);
  q.push_back(0);
  EXPECT_FALSE(ParseMessage(q).ok());
  std::vector<uint8_t> a = Header(1, 0x8000, 0, 1);
  a.insert(a.end(), {0, 0, kTypeA, 0, 1, 0, 0, 0, 1, 0, 3, 127, 0, 0});
  EXPECT_FALSE(ParseMessage(a).ok());
}

}  // namespace
}  // namespace mxray::fleet
