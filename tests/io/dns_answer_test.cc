// Answer interpretation over messages built by the fleet's independent codec: chains, loops,
// caps, wrong owners and every kind of broken packet.
#include "io/dns_answer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "tools/fleet/dns_wire.h"

namespace mxray::io {
namespace {

using fleet::DnsMessageWriter;

class Message {
 public:
  Message(std::string_view qname, uint16_t qtype) : writer_(buf_, buf_.size()) {
    std::vector<uint8_t> q = fleet::BuildQuery(7, qname, qtype);
    size_t off = 12;
    std::array<uint8_t, fleet::kMaxNameWireBytes> wire;
    size_t wire_len = 0;
    fleet::ReadNameWire(q, &off, &wire, &wire_len);
    writer_.Start(7, fleet::kFlagQr | fleet::kFlagRd | fleet::kFlagRa, {wire.data(), wire_len},
                  qtype, fleet::kClassIn);
  }
  DnsMessageWriter& w() { return writer_; }
  std::span<const uint8_t> bytes() const { return writer_.message(); }

 private:
  std::array<uint8_t, 65535> buf_{};
  DnsMessageWriter writer_;
};

TEST(DnsAnswerTest, MxSortedByPreferenceThenNameAndLowercased) {
  Message m("Example.TEST", fleet::kTypeMx);
  m.w().AddMx("example.test", 20, "MX2.example.test", 60);
  m.w().AddMx("example.test", 10, "mx1.example.test", 60);
  m.w().AddMx("example.test", 10, "a.example.test", 60);
  MxAnswer a;
  Interpretation r = InterpretMx(m.bytes(), "example.test", {}, &a);
  EXPECT_EQ(r.status, DnsStatus::kOk);
  ASSERT_EQ(a.records.size(), 3u);
  EXPECT_EQ(a.records[0].exchange, "a.example.test");
  EXPECT_EQ(a.records[1].exchange, "mx1.example.test");
  EXPECT_EQ(a.records[2].exchange, "mx2.example.test");
  EXPECT_EQ(a.records[2].preference, 20);
}

TEST(DnsAnswerTest, NullMxIsTheEmptyExchange) {
  Message m("null.test", fleet::kTypeMx);
  m.w().AddMx("null.test", 0, "", 60);
  MxAnswer a;
  EXPECT_EQ(InterpretMx(m.bytes(), "null.test", {}, &a).status, DnsStatus::kOk);
  ASSERT_EQ(a.records.size(), 1u);
  EXPECT_EQ(a.records[0].exchange, "");
}

TEST(DnsAnswerTest, FollowsCnameChainInsideOneAnswer) {
  Message m("alias.test", fleet::kTypeA);
  m.w().AddCname("alias.test", "hop.test", 60);
  m.w().AddCname("hop.test", "host.test", 60);
  m.w().AddA("host.test", {127, 1, 0, 1}, 60);
  m.w().AddA("other.test", {127, 9, 9, 9}, 60);  // not on the chain: ignored
  AddressAnswer a;
  Interpretation r = InterpretAddress(m.bytes(), "alias.test", DnsType::kA, {}, &a);
  EXPECT_EQ(r.status, DnsStatus::kOk);
  EXPECT_THAT(a.cname_chain, testing::ElementsAre("hop.test", "host.test"));
  ASSERT_EQ(a.addresses.size(), 1u);
  EXPECT_EQ(a.addresses[0].ToString(), "127.1.0.1");
  EXPECT_TRUE(r.next_name.empty());
}

TEST(DnsAnswerTest, ChainEndingWithoutDataAsksForTheTarget) {
  Message m("alias.test", fleet::kTypeMx);
  m.w().AddCname("alias.test", "elsewhere.test", 60);
  MxAnswer a;
  Interpretation r = InterpretMx(m.bytes(), "alias.test", {}, &a);
  EXPECT_EQ(r.next_name, "elsewhere.test");
  EXPECT_THAT(a.cname_chain, testing::ElementsAre("elsewhere.test"));
}

TEST(DnsAnswerTest, CnameLoopIsMalformedAndFlagged) {
  Message m("a.test", fleet::kTypeMx);
  m.w().AddCname("a.test", "b.test", 60);
  m.w().AddCname("b.test", "a.test", 60);
  MxAnswer a;
  Interpretation r = InterpretMx(m.bytes(), "a.test", {}, &a);
  EXPECT_EQ(r.status, DnsStatus::kMalformed);
  EXPECT_TRUE(a.cname_loop);
  EXPECT_TRUE(r.next_name.empty());
}

TEST(DnsAnswerTest, ChainLongerThanHopLimitIsALoop) {
  Message m("h0.test", fleet::kTypeA);
  for (int i = 0; i < 12; ++i) {
    m.w().AddCname("h" + std::to_string(i) + ".test", "h" + std::to_string(i + 1) + ".test", 60);
  }
  AddressAnswer a;
  EXPECT_EQ(InterpretAddress(m.bytes(), "h0.test", DnsType::kA, {}, &a).status,
            DnsStatus::kMalformed);
  EXPECT_TRUE(a.cname_loop);
  EXPECT_EQ(a.cname_chain.size(), 11u);
}

TEST(DnsAnswerTest, RecordsOnlyForAnotherOwnerAreIgnored) {
  Message m("asked.test", fleet::kTypeMx);
  m.w().AddMx("other.test", 10, "mx.other.test", 60);
  MxAnswer a;
  EXPECT_EQ(InterpretMx(m.bytes(), "asked.test", {}, &a).status, DnsStatus::kNodata);
  EXPECT_TRUE(a.records.empty());
}

TEST(DnsAnswerTest, OtherTypesForTheNameMeanNodata) {
  Message m("host.test", fleet::kTypeAaaa);
  m.w().AddA("host.test", {127, 0, 0, 1}, 60);
  AddressAnswer a;
  EXPECT_EQ(InterpretAddress(m.bytes(), "host.test", DnsType::kAaaa, {}, &a).status,
            DnsStatus::kNodata);
}

TEST(DnsAnswerTest, RecordsBeyondTheCapAreDroppedAndFlagged) {
  Message m("big.test", fleet::kTypeA);
  for (int i = 0; i < 100; ++i) m.w().AddA("big.test", {127, 2, 0, uint8_t(i)}, 60);
  AddressAnswer a;
  AnswerLimits limits;
  limits.max_records = 16;
  EXPECT_EQ(InterpretAddress(m.bytes(), "big.test", DnsType::kA, limits, &a).status,
            DnsStatus::kOk);
  EXPECT_EQ(a.addresses.size(), 16u);
  EXPECT_TRUE(a.truncated_records);
}

TEST(DnsAnswerTest, DuplicateAddressesCollapse) {
  Message m("dup.test", fleet::kTypeA);
  m.w().AddA("dup.test", {127, 0, 0, 5}, 60);
  m.w().AddA("dup.test", {127, 0, 0, 5}, 60);
  AddressAnswer a;
  InterpretAddress(m.bytes(), "dup.test", DnsType::kA, {}, &a);
  EXPECT_EQ(a.addresses.size(), 1u);
}

TEST(DnsAnswerTest, HostileLabelBytesAreEscapedNeverPassedThrough) {
  Message m("evil.test", fleet::kTypeMx);
  m.w().AddMx("evil.test", 10, std::string("bad name\x1b!.test"), 60);
  MxAnswer a;
  ASSERT_EQ(InterpretMx(m.bytes(), "evil.test", {}, &a).status, DnsStatus::kOk);
  EXPECT_EQ(a.records[0].exchange, "bad\\032name\\027!.test");
}

TEST(DnsAnswerTest, TxtJoinsCharacterStrings) {
  Message m("txt.test", fleet::kTypeTxt);
  m.w().AddTxt("txt.test", "v=spf1 -all", 60);
  TxtAnswer a;
  ASSERT_EQ(InterpretTxt(m.bytes(), "txt.test", {}, &a).status, DnsStatus::kOk);
  EXPECT_THAT(a.texts, testing::ElementsAre("v=spf1 -all"));
}

class MalformedTest : public testing::TestWithParam<fleet::Malformation> {};

TEST_P(MalformedTest, BrokenPacketIsMalformedNeverACrash) {
  Message m("broken.test", fleet::kTypeMx);
  m.w().AddMx("broken.test", 10, "mx.broken.test", 60);
  m.w().WriteMalformed(GetParam());
  MxAnswer a;
  EXPECT_EQ(InterpretMx(m.bytes(), "broken.test", {}, &a).status, DnsStatus::kMalformed);
  EXPECT_TRUE(a.records.empty());
}

INSTANTIATE_TEST_SUITE_P(AllKinds, MalformedTest,
                         testing::Values(fleet::Malformation::kTruncated,
                                         fleet::Malformation::kPointerLoop,
                                         fleet::Malformation::kPointerRange,
                                         fleet::Malformation::kGarbage));

TEST(DnsAnswerTest, EveryTruncationOfAValidAnswerIsSafe) {
  Message m("cut.test", fleet::kTypeMx);
  m.w().AddCname("cut.test", "real.test", 60);
  m.w().AddMx("real.test", 10, "mx1.real.test", 60);
  m.w().AddMx("real.test", 20, "mx2.real.test", 60);
  std::span<const uint8_t> full = m.bytes();
  for (size_t n = 0; n < full.size(); ++n) {
    MxAnswer a;
    Interpretation r = InterpretMx(full.first(n), "cut.test", {}, &a);
    EXPECT_NE(r.status, DnsStatus::kOk) << n;
  }
}

TEST(DnsNameTest, RejectsForwardPointers) {
  // A name that is a pointer to itself.
  std::vector<uint8_t> msg(12, 0);
  msg.push_back(0xC0);
  msg.push_back(12);
  size_t off = 12;
  std::string name;
  EXPECT_FALSE(ReadDnsName(msg, &off, &name));
}

}  // namespace
}  // namespace mxray::io
