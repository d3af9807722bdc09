// The responder without sockets: zone dispatch by longest apex, header conventions, EDNS, UDP
// size limits and truncation, and the zone's drop/malformed actions.
#include "tools/fleet/dns_responder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mxray::fleet {
namespace {

using ::testing::SizeIs;

// Answers every name with `count` A records; names starting with "drop." or "bad." get those
// actions. Records which zone answered in the TXT of the first record.
class FakeZone : public Zone {
 public:
  FakeZone(std::string apex, int count) : apex_(std::move(apex)), count_(count) {}
  std::string_view apex() const override { return apex_; }
  ZoneResult Answer(std::string_view qname, uint16_t qtype, DnsMessageWriter* w) const override {
    ZoneResult r;
    if (qname.starts_with("drop.")) {
      r.action = ZoneResult::Action::kDrop;
      return r;
    }
    if (qname.starts_with("bad.")) {
      r.action = ZoneResult::Action::kMalformed;
      r.malformation = Malformation::kPointerRange;
      return r;
    }
    w->AddTxt(qname, apex_, 60);
    for (int i = 0; i < count_; ++i) w->AddA(qname, {127, 3, 0, uint8_t(i)}, 60);
    return r;
  }

 private:
  std::string apex_;
  int count_;
};

class DnsResponderTest : public ::testing::Test {
 protected:
  DnsResponderTest()
      : outer_("test", 1), inner_("dnsbl.test", 100), responder_({&outer_, &inner_}) {}

  std::vector<uint8_t> Respond(const std::vector<uint8_t>& query, Transport transport,
                               ResponseInfo* info = nullptr) {
    ResponseInfo ignored;
    std::vector<uint8_t> out(kMaxDnsMessageBytes);
    out.resize(responder_.Respond(query, transport, out, info ? info : &ignored));
    return out;
  }
  DnsMessage Ask(const std::string& name, Transport transport, uint16_t edns = 0,
                 ResponseInfo* info = nullptr) {
    absl::StatusOr<DnsMessage> m =
        ParseMessage(Respond(BuildQuery(42, name, kTypeA, edns), transport, info));
    EXPECT_TRUE(m.ok()) << m.status();
    return m.ok() ? *m : DnsMessage();
  }

  FakeZone outer_;
  FakeZone inner_;
  DnsResponder responder_;
};

TEST_F(DnsResponderTest, LongestApexAnswers) {
  DnsMessage m = Ask("x.test", Transport::kTcp);
  ASSERT_THAT(m.answers, SizeIs(2));
  EXPECT_EQ(m.answers[0].texts[0], "test");
  m = Ask("127.0.0.2.dnsbl.test", Transport::kTcp);
  ASSERT_THAT(m.answers, SizeIs(101));
  EXPECT_EQ(m.answers[0].texts[0], "dnsbl.test");
  m = Ask("dnsbl.test", Transport::kTcp);
  EXPECT_EQ(m.answers[0].texts[0], "dnsbl.test");
  m = Ask("xdnsbl.test", Transport::kTcp);  // a label boundary is required
  EXPECT_EQ(m.answers[0].texts[0], "test");
  ResponseInfo info;
  m = Ask("example.com", Transport::kUdp, 0, &info);
  EXPECT_EQ(m.rcode, kRcodeRefused);
  EXPECT_EQ(info.rcode, kRcodeRefused);
}

TEST_F(DnsResponderTest, HeaderFollowsTheQuery) {
  std::vector<uint8_t> q = BuildQuery(0xABCD, "x.test", kTypeA, 0, /*rd=*/false);
  absl::StatusOr<DnsMessage> m = ParseMessage(Respond(q, Transport::kUdp));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->id, 0xABCD);
  EXPECT_FALSE(m->flags & kFlagRd);
  EXPECT_TRUE(m->flags & kFlagRa);
  EXPECT_TRUE(m->flags & kFlagQr);
}

TEST_F(DnsResponderTest, UdpAnswersBeyondTheClientsSizeAreTruncated) {
  ResponseInfo info;
  std::vector<uint8_t> plain =
      Respond(BuildQuery(1, "a.dnsbl.test", kTypeA), Transport::kUdp, &info);
  EXPECT_LE(plain.size(), 512u);
  EXPECT_TRUE(info.truncated);
  absl::StatusOr<DnsMessage> m = ParseMessage(plain);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->truncated());
  EXPECT_THAT(m->answers, SizeIs(0));
  EXPECT_THAT(m->questions, SizeIs(1));

  // 100 A records (~1.7 KB) fit in a 4096-byte EDNS buffer, not in 1232.
  DnsMessage big = Ask("a.dnsbl.test", Transport::kUdp, 4096);
  EXPECT_FALSE(big.truncated());
  EXPECT_THAT(big.answers, SizeIs(101));
  ASSERT_THAT(big.additional, SizeIs(1));
  EXPECT_EQ(big.additional[0].type, kTypeOpt);
  std::vector<uint8_t> mid =
      Respond(BuildQuery(1, "a.dnsbl.test", kTypeA, 1232), Transport::kUdp, &info);
  EXPECT_LE(mid.size(), 1232u);
  EXPECT_TRUE(info.truncated);
  m = ParseMessage(mid);
  ASSERT_TRUE(m.ok());
  EXPECT_THAT(m->additional, SizeIs(1));  // OPT survives truncation

  // Over TCP everything comes.
  EXPECT_THAT(Ask("a.dnsbl.test", Transport::kTcp).answers, SizeIs(101));
}

TEST_F(DnsResponderTest, ZoneActionsDropAndMalform) {
  ResponseInfo info;
  EXPECT_TRUE(Respond(BuildQuery(1, "drop.x.test", kTypeA), Transport::kUdp, &info).empty());
  EXPECT_TRUE(info.dropped);
  std::vector<uint8_t> bad = Respond(BuildQuery(1, "bad.x.test", kTypeA), Transport::kUdp, &info);
  EXPECT_TRUE(info.malformed);
  EXPECT_FALSE(ParseMessage(bad).ok());
}

TEST_F(DnsResponderTest, QueriesWeCannotAnswer) {
  ResponseInfo info;
  std::vector<uint8_t> chaos = BuildQuery(5, "x.test", kTypeTxt);
  chaos[chaos.size() - 1] = 3;  // class CH
  EXPECT_EQ(ParseMessage(Respond(chaos, Transport::kUdp))->rcode, kRcodeRefused);

  std::vector<uint8_t> no_question = {0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  absl::StatusOr<DnsMessage> m = ParseMessage(Respond(no_question, Transport::kUdp, &info));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->id, 9);
  EXPECT_EQ(m->rcode, kRcodeFormErr);

  std::vector<uint8_t> update = BuildQuery(6, "x.test", kTypeA);
  update[2] |= 5 << 3;  // opcode UPDATE
  m = ParseMessage(Respond(update, Transport::kUdp));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->rcode, kRcodeNotImp);

  EXPECT_TRUE(Respond({1, 2, 3}, Transport::kUdp, &info).empty());
  EXPECT_TRUE(info.dropped);
}

}  // namespace
}  // namespace mxray::fleet
