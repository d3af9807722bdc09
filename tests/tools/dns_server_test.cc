// The fleet's DNS server over real loopback sockets: each kind answered as specified over UDP and
// TCP, truncation, EDNS, refusal outside .test, TCP framing and back-pressure, and a miniature
// resolver with mxray's semantics whose result for every domain must equal its expectation line,
// the reputation of every address included (PTR, FCrDNS, each DNSBL zone after its self-test).
// Dropped queries are detected without waiting for a timeout: the server answers in order, so a
// sentinel query's reply arriving first proves the earlier query was dropped.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_join.h"
#include "tools/fleet/dns_wire.h"
#include "tools/fleet/fleet.h"

namespace mxray::fleet {
namespace {

using ::testing::ElementsAre;
using ::testing::SizeIs;

constexpr int kReplyWaitMs = 10'000;  // only reached when something is broken

class Client {
 public:
  Client(const std::string& ip, uint16_t port) {
    std::memset(&addr_, 0, sizeof(addr_));
    auto* v4 = reinterpret_cast<sockaddr_in*>(&addr_);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr_);
    if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
      v4->sin_port = htons(port);
      addr_len_ = sizeof(sockaddr_in);
    } else {
      EXPECT_EQ(inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr), 1);
      v6->sin6_family = AF_INET6;
      v6->sin6_port = htons(port);
      addr_len_ = sizeof(sockaddr_in6);
    }
    udp_ = socket(addr_.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    EXPECT_EQ(connect(udp_, reinterpret_cast<sockaddr*>(&addr_), addr_len_), 0);
  }
  ~Client() { close(udp_); }

  uint16_t NextId() { return next_id_++; }

  // The reply to `query`, or nullopt when the server dropped it.
  std::optional<std::vector<uint8_t>> Udp(const std::vector<uint8_t>& query) {
    std::vector<uint8_t> sentinel = BuildQuery(NextId(), "test", kTypeSoa);
    EXPECT_EQ(send(udp_, query.data(), query.size(), 0), ssize_t(query.size()));
    EXPECT_EQ(send(udp_, sentinel.data(), sentinel.size(), 0), ssize_t(sentinel.size()));
    std::optional<std::vector<uint8_t>> reply;
    for (;;) {
      std::vector<uint8_t> buf(65536);
      pollfd p{udp_, POLLIN, 0};
      if (poll(&p, 1, kReplyWaitMs) != 1) {
        ADD_FAILURE() << "no reply over UDP";
        return std::nullopt;
      }
      ssize_t n = recv(udp_, buf.data(), buf.size(), 0);
      if (n < 2) continue;
      buf.resize(size_t(n));
      if (buf[0] == sentinel[0] && buf[1] == sentinel[1]) return reply;
      if (buf[0] == query[0] && buf[1] == query[1]) reply = std::move(buf);
    }
  }

  // A fresh connection per call; `split` writes the framed query one byte at a time.
  std::vector<uint8_t> Tcp(const std::vector<uint8_t>& query, bool split = false) {
    int fd = Connect();
    std::vector<uint8_t> framed = Frame(query);
    if (split) {
      for (uint8_t b : framed) EXPECT_EQ(write(fd, &b, 1), 1);
    } else {
      WriteAll(fd, framed);
    }
    std::vector<uint8_t> reply = ReadFrame(fd);
    close(fd);
    return reply;
  }

  int Connect() {
    int fd = socket(addr_.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr_), addr_len_), 0);
    return fd;
  }
  static std::vector<uint8_t> Frame(const std::vector<uint8_t>& msg) {
    std::vector<uint8_t> framed = {uint8_t(msg.size() >> 8), uint8_t(msg.size())};
    framed.insert(framed.end(), msg.begin(), msg.end());
    return framed;
  }
  static void WriteAll(int fd, const std::vector<uint8_t>& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = write(fd, bytes.data() + off, bytes.size() - off);
      ASSERT_GT(n, 0);
      off += size_t(n);
    }
  }
  static bool ReadExactly(int fd, uint8_t* out, size_t n) {
    size_t got = 0;
    while (got < n) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, kReplyWaitMs) != 1) return false;
      ssize_t r = read(fd, out + got, n - got);
      if (r <= 0) return false;
      got += size_t(r);
    }
    return true;
  }
  // Empty on EOF.
  static std::vector<uint8_t> ReadFrame(int fd) {
    uint8_t len[2];
    if (!ReadExactly(fd, len, 2)) return {};
    std::vector<uint8_t> msg(size_t(len[0]) << 8 | len[1]);
    if (!ReadExactly(fd, msg.data(), msg.size())) return {};
    return msg;
  }

 private:
  sockaddr_storage addr_;
  socklen_t addr_len_ = 0;
  int udp_ = -1;
  uint16_t next_id_ = 1;
};

DnsMessage MustParse(const std::vector<uint8_t>& bytes) {
  absl::StatusOr<DnsMessage> m = ParseMessage(bytes);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *m : DnsMessage();
}

class DnsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Fleet>> fleet =
        Fleet::Start({.seed = 42, .domain_count = 2 * kDomainKindCount});
    ASSERT_TRUE(fleet.ok()) << fleet.status();
    fleet_ = *std::move(fleet);
    client_ = std::make_unique<Client>("127.0.0.1", fleet_->dns_port());
  }
  const Population& population() const { return fleet_->population(); }
  std::string Domain(DomainKind kind) const {
    return population().DomainName(*population().FirstOfKind(kind));
  }
  std::optional<DnsMessage> AskUdp(const std::string& name, uint16_t type, uint16_t edns = 1232) {
    std::optional<std::vector<uint8_t>> reply =
        client_->Udp(BuildQuery(client_->NextId(), name, type, edns));
    if (!reply) return std::nullopt;
    return MustParse(*reply);
  }
  DnsMessage AskTcp(const std::string& name, uint16_t type) {
    return MustParse(client_->Tcp(BuildQuery(client_->NextId(), name, type)));
  }

  std::unique_ptr<Fleet> fleet_;
  std::unique_ptr<Client> client_;
};

TEST_F(DnsServerTest, PlainDomainLikeARecursiveResolver) {
  std::string d = Domain(DomainKind::kPlain);
  std::optional<DnsMessage> m = AskUdp(d, kTypeMx);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->rcode, kRcodeNoError);
  EXPECT_TRUE(m->flags & kFlagQr);
  EXPECT_TRUE(m->flags & kFlagRd);
  EXPECT_TRUE(m->flags & kFlagRa);
  EXPECT_FALSE(m->flags & kFlagAa);
  ASSERT_THAT(m->questions, SizeIs(1));
  EXPECT_EQ(m->questions[0].name, d);
  EXPECT_EQ(m->questions[0].type, kTypeMx);
  ASSERT_THAT(m->answers, SizeIs(1));
  EXPECT_EQ(m->answers[0].name, d);
  EXPECT_EQ(m->answers[0].preference, 10);
  const size_t provider = population().ProviderOf(*population().FirstOfKind(DomainKind::kPlain));
  EXPECT_EQ(m->answers[0].target, Population::ProviderHost(provider, 1));

  m = AskUdp(Population::ProviderHost(provider, 1), kTypeA);
  ASSERT_TRUE(m);
  ASSERT_THAT(m->answers, SizeIs(1));
  EXPECT_EQ(m->answers[0].address,
            Population::AddressText(Population::ProviderAddress(provider, 1)));
  m = AskUdp(Population::ProviderHost(provider, 1), kTypeAaaa);  // NODATA, with the SOA
  ASSERT_TRUE(m);
  EXPECT_EQ(m->rcode, kRcodeNoError);
  EXPECT_THAT(m->answers, SizeIs(0));
  ASSERT_THAT(m->authority, SizeIs(1));
  EXPECT_EQ(m->authority[0].type, kTypeSoa);
}

TEST_F(DnsServerTest, QuestionNameIsCaseInsensitiveAndEchoedAsAsked) {
  std::string d = Domain(DomainKind::kPlain);
  std::string upper = d;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  std::optional<std::vector<uint8_t>> reply =
      client_->Udp(BuildQuery(client_->NextId(), upper, kTypeMx));
  ASSERT_TRUE(reply);
  DnsMessage m = MustParse(*reply);
  EXPECT_EQ(m.rcode, kRcodeNoError);
  EXPECT_THAT(m.answers, SizeIs(1));
  size_t offset = kDnsHeaderBytes;
  std::string echoed;
  ASSERT_TRUE(ReadName(*reply, &offset, &echoed, /*lowercase=*/false));
  EXPECT_EQ(echoed, upper);
}

TEST_F(DnsServerTest, NamesOutsideTestAreRefused) {
  for (const char* name : {"example.com", "localhost", "", "test.example"}) {
    SCOPED_TRACE(name);
    std::optional<DnsMessage> m = AskUdp(name, kTypeA);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->rcode, kRcodeRefused);
    EXPECT_THAT(m->answers, SizeIs(0));
  }
  std::optional<DnsMessage> apex = AskUdp("test", kTypeSoa);
  ASSERT_TRUE(apex);
  EXPECT_EQ(apex->rcode, kRcodeNoError);
  EXPECT_THAT(apex->answers, SizeIs(1));
}

TEST_F(DnsServerTest, UnknownNamesUnderTestAreNxdomain) {
  std::string d = Domain(DomainKind::kPlain);
  std::string wrong_tag = d;
  wrong_tag[wrong_tag.size() - 6] = wrong_tag[wrong_tag.size() - 6] == 'a' ? 'b' : 'a';
  for (const std::string& name :
       {wrong_tag, std::string("nothing.test"), "x." + d, std::string("provider-99999.test"),
        std::string("mx4.provider-0.test"), std::string("bad_name!.test")}) {
    SCOPED_TRACE(name);
    std::optional<DnsMessage> m = AskUdp(name, kTypeA);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->rcode, kRcodeNxDomain);
    EXPECT_THAT(m->authority, SizeIs(1));
  }
}

TEST_F(DnsServerTest, TlsKindsPointAtTheirHostsOwnName) {
  // Every domain on one TLS case host shares its exchange name, so the certificate verdict is
  // the same for all of them; the name's A record is the host's address.
  const std::string d = Domain(DomainKind::kTlsWildcard);
  std::optional<DnsMessage> m = AskUdp(d, kTypeMx);
  ASSERT_TRUE(m);
  ASSERT_THAT(m->answers, SizeIs(1));
  const Ipv4 host = population().SmtpHostOf(*population().FirstOfKind(DomainKind::kTlsWildcard));
  const std::string name = "tls-wildcard-" + std::to_string(host[3]) + ".fleet.test";
  EXPECT_EQ(m->answers[0].target, name);
  EXPECT_EQ(population().SmtpHostName(Population::AddressText(host)), name);
  m = AskUdp(name, kTypeA);
  ASSERT_TRUE(m);
  ASSERT_THAT(m->answers, SizeIs(1));
  EXPECT_EQ(m->answers[0].address, Population::AddressText(host));
  m = AskUdp(name, kTypeAaaa);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->rcode, kRcodeNoError);
  EXPECT_THAT(m->answers, SizeIs(0));
  // The plaintext cases' hosts have names too; past the plan, other spellings and other
  // hosts under fleet.test do not exist.
  m = AskUdp("smtp-drip-1.fleet.test", kTypeA);
  ASSERT_TRUE(m);
  EXPECT_THAT(m->answers, SizeIs(1));
  const std::string past_plan = "tls-wildcard-" +
                                std::to_string(population().options().smtp.hosts_per_kind + 1) +
                                ".fleet.test";
  for (const std::string& other :
       {past_plan, std::string("tls-wildcard-01.fleet.test"),
        std::string("tls_wildcard-1.fleet.test"), std::string("plain-1.fleet.test"),
        std::string("x.tls-wildcard-1.fleet.test"), std::string("mx-127-2-0-05.fleet.test"),
        std::string(kWrongCertName)}) {
    SCOPED_TRACE(other);
    m = AskUdp(other, kTypeA);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->rcode, kRcodeNxDomain);
  }
  // The own pool's and bulk hosts' names (their PTR names) resolve to them, ::1's to AAAA.
  m = AskUdp("mx-127-2-0-5.fleet.test", kTypeA);
  ASSERT_TRUE(m);
  ASSERT_THAT(m->answers, SizeIs(1));
  EXPECT_EQ(m->answers[0].address, "127.2.0.5");
  m = AskUdp(std::string(Population::kIpv6HostName), kTypeAaaa);
  ASSERT_TRUE(m);
  ASSERT_THAT(m->answers, SizeIs(1));
  EXPECT_EQ(m->answers[0].address, "::1");
}

TEST_F(DnsServerTest, EdnsOptAnsweredOnlyWhenAsked) {
  std::string d = Domain(DomainKind::kPlain);
  std::optional<DnsMessage> with = AskUdp(d, kTypeMx, 4096);
  ASSERT_TRUE(with);
  ASSERT_THAT(with->additional, SizeIs(1));
  EXPECT_EQ(with->additional[0].type, kTypeOpt);
  EXPECT_EQ(with->additional[0].klass, 1232);
  std::optional<DnsMessage> without = AskUdp(d, kTypeMx, 0);
  ASSERT_TRUE(without);
  EXPECT_THAT(without->additional, SizeIs(0));
}

TEST_F(DnsServerTest, OversizedMxTruncatedOverUdpFullOverTcp) {
  std::string d = Domain(DomainKind::kOversizedMx);
  std::optional<DnsMessage> udp = AskUdp(d, kTypeMx, 4096);
  ASSERT_TRUE(udp);
  EXPECT_TRUE(udp->truncated());
  EXPECT_THAT(udp->answers, SizeIs(0));
  EXPECT_THAT(udp->questions, SizeIs(1));
  DnsMessage tcp = AskTcp(d, kTypeMx);
  EXPECT_FALSE(tcp.truncated());
  ASSERT_THAT(tcp.answers, SizeIs(Population::kOversizedMxCount));
  EXPECT_EQ(tcp.answers[0].preference, Population::kOversizedMxCount);  // served worst first
  EXPECT_EQ(tcp.answers.back().target, "mx1." + d);
  EXPECT_GE(fleet_->dns_stats().truncated, 1u);
}

TEST_F(DnsServerTest, OversizedAddressSetTruncatedOverUdpFullOverTcp) {
  std::string exchange = "mx." + Domain(DomainKind::kOversizedA);
  std::optional<DnsMessage> udp = AskUdp(exchange, kTypeA);
  ASSERT_TRUE(udp);
  EXPECT_TRUE(udp->truncated());
  EXPECT_THAT(udp->answers, SizeIs(0));
  DnsMessage tcp = AskTcp(exchange, kTypeA);
  ASSERT_THAT(tcp.answers, SizeIs(Population::kOversizedACount));
  EXPECT_EQ(tcp.answers[0].address, "127.3.0.1");
  EXPECT_EQ(tcp.answers[99].address, "127.3.0.100");
  // Its MX answer is small and comes over UDP.
  std::optional<DnsMessage> mx = AskUdp(Domain(DomainKind::kOversizedA), kTypeMx);
  ASSERT_TRUE(mx);
  EXPECT_FALSE(mx->truncated());
}

TEST_F(DnsServerTest, NeverAnsweringNamesAreDroppedOverUdpAndTcp) {
  uint64_t dropped = fleet_->dns_stats().dropped;
  EXPECT_FALSE(AskUdp(Domain(DomainKind::kTimeout), kTypeMx).has_value());
  EXPECT_FALSE(AskUdp("mx." + Domain(DomainKind::kExchangeTimeout), kTypeA).has_value());
  // Over TCP: the next query on the same connection is answered, the dropped one never is.
  int fd = client_->Connect();
  std::vector<uint8_t> dropped_query = BuildQuery(500, Domain(DomainKind::kTimeout), kTypeA);
  std::vector<uint8_t> answered_query = BuildQuery(501, Domain(DomainKind::kPlain), kTypeMx);
  std::vector<uint8_t> both = Client::Frame(dropped_query);
  std::vector<uint8_t> second = Client::Frame(answered_query);
  both.insert(both.end(), second.begin(), second.end());
  Client::WriteAll(fd, both);
  DnsMessage m = MustParse(Client::ReadFrame(fd));
  EXPECT_EQ(m.id, 501);
  close(fd);
  // The server's counter is updated before it answers the sentinel that follows each query.
  EXPECT_GE(fleet_->dns_stats().dropped, dropped + 2);
}

TEST_F(DnsServerTest, ErrorKindsAnswerTheirRcode) {
  struct Case {
    std::string name;
    uint8_t rcode;
  };
  for (const Case& c : std::vector<Case>{
           {Domain(DomainKind::kServfail), kRcodeServFail},
           {"mx." + Domain(DomainKind::kServfail), kRcodeServFail},
           {Domain(DomainKind::kRefused), kRcodeRefused},
           {Domain(DomainKind::kNxdomain), kRcodeNxDomain},
           {"mx." + Domain(DomainKind::kExchangeNxdomain), kRcodeNxDomain},
           {"mx." + Domain(DomainKind::kExchangeServfail), kRcodeServFail},
       }) {
    SCOPED_TRACE(c.name);
    std::optional<DnsMessage> m = AskUdp(c.name, kTypeA);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->rcode, c.rcode);
    EXPECT_THAT(m->answers, SizeIs(0));
  }
}

TEST_F(DnsServerTest, MalformedKindsKeepIdAndQuestionButDoNotParse) {
  for (DomainKind kind : {DomainKind::kMalformedTruncated, DomainKind::kMalformedPointerLoop,
                          DomainKind::kMalformedPointerRange, DomainKind::kMalformedGarbage}) {
    SCOPED_TRACE(DomainKindName(kind));
    for (bool tcp : {false, true}) {
      std::vector<uint8_t> query = BuildQuery(client_->NextId(), Domain(kind), kTypeMx);
      std::vector<uint8_t> reply = tcp ? client_->Tcp(query) : *client_->Udp(query);
      ASSERT_GE(reply.size(), kDnsHeaderBytes);
      EXPECT_FALSE(ParseMessage(reply).ok());
      EXPECT_EQ(reply[0], query[0]);
      EXPECT_EQ(reply[1], query[1]);
      size_t offset = kDnsHeaderBytes;
      std::string qname;
      ASSERT_TRUE(ReadName(reply, &offset, &qname));
      EXPECT_EQ(qname, Domain(kind));
    }
  }
}

TEST_F(DnsServerTest, CnameChainsComeWholeInOneAnswer) {
  std::string d = Domain(DomainKind::kCnameChain);
  std::optional<DnsMessage> m = AskUdp(d, kTypeMx);
  ASSERT_TRUE(m);
  ASSERT_THAT(m->answers, SizeIs(Population::kChainHops + 1));
  for (int h = 0; h < Population::kChainHops; ++h) {
    EXPECT_EQ(m->answers[h].type, kTypeCname);
    EXPECT_EQ(m->answers[h].target, "c" + std::to_string(h + 1) + "." + d);
  }
  EXPECT_EQ(m->answers.back().type, kTypeMx);
  EXPECT_EQ(m->answers.back().name, "c4." + d);

  std::string loop = Domain(DomainKind::kCnameLoop);
  m = AskUdp(loop, kTypeMx);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->rcode, kRcodeNoError);
  ASSERT_THAT(m->answers, SizeIs(3));  // domain -> a -> b -> a, then the resolver stops
  EXPECT_EQ(m->answers[2].name, "b." + loop);
  EXPECT_EQ(m->answers[2].target, "a." + loop);

  std::string exchange = "mx." + Domain(DomainKind::kExchangeCname);
  m = AskUdp(exchange, kTypeA);
  ASSERT_TRUE(m);
  ASSERT_THAT(m->answers, SizeIs(2));
  EXPECT_EQ(m->answers[0].type, kTypeCname);
  EXPECT_EQ(m->answers[1].type, kTypeA);
  m = AskUdp(exchange, kTypeCname);  // a CNAME query gets the CNAME alone
  ASSERT_TRUE(m);
  EXPECT_THAT(m->answers, SizeIs(1));
}

TEST_F(DnsServerTest, TcpCarriesPipelinedAndSplitQueries) {
  int fd = client_->Connect();
  std::vector<uint8_t> all;
  for (uint16_t id = 1000; id < 1010; ++id) {
    std::vector<uint8_t> framed =
        Client::Frame(BuildQuery(id, Domain(DomainKind::kMultiMx), kTypeMx));
    all.insert(all.end(), framed.begin(), framed.end());
  }
  Client::WriteAll(fd, all);
  for (uint16_t id = 1000; id < 1010; ++id) {
    DnsMessage m = MustParse(Client::ReadFrame(fd));
    EXPECT_EQ(m.id, id);
    EXPECT_THAT(m.answers, SizeIs(3));
  }
  // Half-close after the query: the answer still comes, then the server closes.
  std::vector<uint8_t> last = Client::Frame(BuildQuery(7, Domain(DomainKind::kPlain), kTypeMx));
  Client::WriteAll(fd, last);
  shutdown(fd, SHUT_WR);
  EXPECT_EQ(MustParse(Client::ReadFrame(fd)).id, 7);
  EXPECT_TRUE(Client::ReadFrame(fd).empty());
  close(fd);

  DnsMessage split =
      MustParse(client_->Tcp(BuildQuery(9, Domain(DomainKind::kPlain), kTypeMx), true));
  EXPECT_EQ(split.id, 9);
  EXPECT_THAT(split.answers, SizeIs(1));
}

TEST_F(DnsServerTest, TcpClientThatReadsLateGetsEverythingInOrder) {
  // ~1.7 KB per answer, 3000 answers: far past the server's output high-water mark, so it must
  // stop reading, wait for us, and resume without losing or reordering anything.
  constexpr int kQueries = 3000;
  int fd = client_->Connect();
  std::string exchange = "mx." + Domain(DomainKind::kOversizedA);
  std::thread writer([&] {
    for (int i = 0; i < kQueries; ++i) {
      Client::WriteAll(fd, Client::Frame(BuildQuery(uint16_t(i), exchange, kTypeA)));
    }
  });
  for (int i = 0; i < kQueries; ++i) {
    std::vector<uint8_t> reply = Client::ReadFrame(fd);
    ASSERT_FALSE(reply.empty()) << i;
    ASSERT_EQ(reply[0] << 8 | reply[1], i);
  }
  writer.join();
  close(fd);
}

TEST_F(DnsServerTest, GarbageQueriesGetFormErrOrNothing) {
  int fd = client_->Connect();
  // A header with QDCOUNT 0: FORMERR with the same id.
  std::vector<uint8_t> no_question = {0x12, 0x34, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  Client::WriteAll(fd, Client::Frame(no_question));
  DnsMessage m = MustParse(Client::ReadFrame(fd));
  EXPECT_EQ(m.id, 0x1234);
  EXPECT_EQ(m.rcode, kRcodeFormErr);
  // Shorter than a header: ignored; the connection goes on.
  Client::WriteAll(fd, Client::Frame({1, 2, 3}));
  Client::WriteAll(fd, Client::Frame(BuildQuery(77, Domain(DomainKind::kPlain), kTypeMx)));
  EXPECT_EQ(MustParse(Client::ReadFrame(fd)).id, 77);
  // A zero-length frame cannot be DNS: the server hangs up.
  Client::WriteAll(fd, {0, 0});
  EXPECT_TRUE(Client::ReadFrame(fd).empty());
  close(fd);
}

// ---------------------------------------------------------------------------------------------
// A resolver with mxray's semantics (domain_record.h), in miniature, to check that what the fleet
// serves and what it expects agree for every kind.

struct LookupResult {
  std::string status;  // ok nodata nxdomain servfail refused timeout malformed
  std::vector<std::string> chain;
  bool loop = false;
  std::vector<DnsRecord> records;
};

class ReferenceResolver {
 public:
  ReferenceResolver(Client* client, const PopulationOptions& caps) : client_(client), caps_(caps) {}

  LookupResult Lookup(const std::string& name, uint16_t type) {
    LookupResult r;
    std::vector<uint8_t> query = BuildQuery(client_->NextId(), name, type, 1232);
    std::optional<std::vector<uint8_t>> reply = client_->Udp(query);
    if (!reply) return {.status = "timeout"};
    absl::StatusOr<DnsMessage> m = ParseMessage(*reply);
    if (m.ok() && m->truncated()) m = ParseMessage(client_->Tcp(query));
    if (!m.ok()) return {.status = "malformed"};
    if (m->rcode == kRcodeNxDomain) return {.status = "nxdomain"};
    if (m->rcode == kRcodeServFail) return {.status = "servfail"};
    if (m->rcode == kRcodeRefused) return {.status = "refused"};
    std::string current = name;
    for (;;) {
      auto alias = std::find_if(m->answers.begin(), m->answers.end(), [&](const DnsRecord& rr) {
        return rr.type == kTypeCname && rr.name == current;
      });
      if (alias == m->answers.end()) break;
      bool seen = alias->target == name ||
                  std::find(r.chain.begin(), r.chain.end(), alias->target) != r.chain.end();
      r.chain.push_back(alias->target);
      if (seen || r.chain.size() > 10) {
        r.loop = true;
        r.chain.clear();
        r.status = "malformed";
        return r;
      }
      current = alias->target;
    }
    for (const DnsRecord& rr : m->answers) {
      if (rr.type == type && rr.name == current) r.records.push_back(rr);  // other owners ignored
    }
    r.status = r.records.empty() ? "nodata" : "ok";
    return r;
  }

  static bool IsIpLiteral(const std::string& name) {
    if (name.starts_with('[') && name.ends_with(']')) return true;
    in_addr v4;
    return inet_pton(AF_INET, name.c_str(), &v4) == 1;
  }
  static bool IsHostName(const std::string& name) {
    size_t start = 0;
    while (start <= name.size()) {
      size_t dot = name.find('.', start);
      std::string label = name.substr(start, dot == std::string::npos ? dot : dot - start);
      if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
        return false;
      }
      for (char c : label) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
      }
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    return true;
  }

  ExpectedExchange ResolveExchange(uint16_t preference, const std::string& name) {
    ExpectedExchange x{.preference = preference, .exchange = name};
    if (name.empty()) {
      x.status = "null_mx_mixed";
      return x;
    }
    if (IsIpLiteral(name)) {
      x.status = "ip_literal";
      return x;
    }
    if (!IsHostName(name)) {
      x.status = "invalid_name";
      return x;
    }
    LookupResult a = Lookup(name, kTypeA);
    LookupResult aaaa = Lookup(name, kTypeAaaa);
    for (const LookupResult* l : {&a, &aaaa}) {
      for (const DnsRecord& rr : l->records) {
        if (x.addresses.size() == caps_.max_addresses) {
          x.addresses_truncated = true;
          break;
        }
        x.addresses.push_back(rr.address);
      }
    }
    x.cname = a.chain;
    auto either = [&](std::string_view s) { return a.status == s || aaaa.status == s; };
    x.status = !x.addresses.empty()                                             ? "ok"
               : a.loop || aaaa.loop                                            ? "cname_loop"
               : either("nxdomain")                                             ? "nxdomain"
               : either("timeout")                                              ? "dns_timeout"
               : either("servfail") || either("refused") || either("malformed") ? "dns_error"
                                                                                : "no_address";
    return x;
  }

  // "4.3.2.1.<suffix>" for 1.2.3.4, 32 reversed nibbles for IPv6, as mxray builds them.
  static std::string ReverseName(const std::string& ip, std::string_view suffix) {
    std::array<uint8_t, 16> b{};
    std::string out;
    if (inet_pton(AF_INET, ip.c_str(), b.data()) == 1) {
      for (int k = 3; k >= 0; --k) out += std::to_string(b[k]) + ".";
    } else {
      EXPECT_EQ(inet_pton(AF_INET6, ip.c_str(), b.data()), 1) << ip;
      static constexpr char kHex[] = "0123456789abcdef";
      for (int k = 15; k >= 0; --k) {
        out += {kHex[b[k] & 0xF], '.', kHex[b[k] >> 4], '.'};
      }
    }
    return out.append(suffix);
  }

  // RFC 5782 §5, as mxray runs it at the start.
  bool SelfTestPasses(std::string_view zone) {
    LookupResult listed = Lookup("2.0.0.127." + std::string(zone), kTypeA);
    LookupResult unlisted = Lookup("1.0.0.127." + std::string(zone), kTypeA);
    return listed.status == "ok" && listed.records.size() == 1 &&
           listed.records[0].address == "127.0.0.2" && unlisted.status == "nxdomain";
  }

  // The reputation of one address with RELIABILITY.md's rules, from the answers alone.
  ExpectedReputation Reputation(const std::string& ip, const std::vector<bool>& trusted) {
    ExpectedReputation r;
    const bool v6 = ip.find(':') != std::string::npos;
    LookupResult ptr = Lookup(ReverseName(ip, v6 ? "ip6.arpa" : "in-addr.arpa"), kTypePtr);
    r.ptr_status = ptr.status == "ok" ? "ok" : ptr.status == "nxdomain" ? "nxdomain" : "other";
    if (ptr.status == "ok") {
      EXPECT_THAT(ptr.records, SizeIs(1)) << ip;
      r.ptr = ptr.records[0].target;
      for (const DnsRecord& rr : Lookup(r.ptr, v6 ? kTypeAaaa : kTypeA).records) {
        r.fcrdns |= rr.address == ip;
      }
    }
    for (size_t z = 0; z < kDnsblZoneCount; ++z) {
      ExpectedDnsbl d{.zone = kDnsblZones[z]};
      const std::string name = ReverseName(ip, kDnsblZones[z]);
      LookupResult a = trusted[z] ? Lookup(name, kTypeA) : LookupResult{};
      if (!trusted[z]) {
        d.status = "unreliable";
      } else if (a.status == "nxdomain") {
        d.status = "not_listed";
      } else if (a.status != "ok") {
        d.status = "error";  // SERVFAIL, timeout
      } else {
        bool error = false, outside = false;
        for (const DnsRecord& rr : a.records) {
          d.codes.push_back(rr.address);
          error |= rr.address == "127.255.255.252" || rr.address == "127.255.255.254" ||
                   rr.address == "127.255.255.255";
          outside |= !rr.address.starts_with("127.");
        }
        std::sort(d.codes.begin(), d.codes.end());
        d.status = error ? "error" : outside ? "unknown" : "listed";
        if (d.status == "listed") {
          LookupResult txt = Lookup(name, kTypeTxt);
          EXPECT_THAT(txt.records, SizeIs(1)) << name;
          if (!txt.records.empty()) d.txt = absl::StrJoin(txt.records[0].texts, "");
        }
      }
      r.dnsbl.push_back(std::move(d));
    }
    return r;
  }

  Expectation Resolve(const std::string& domain, DomainKind kind) {
    Expectation e{.domain = domain, .kind = kind};
    LookupResult mx = Lookup(domain, kTypeMx);
    if (mx.status == "timeout") return Fail(e, "dns_timeout");
    if (mx.status == "nxdomain") return Fail(e, "nxdomain");
    if (mx.status != "ok" && mx.status != "nodata") return Fail(e, "dns_error");
    if (mx.status == "nodata") {
      ExpectedExchange self = ResolveExchange(0, domain);
      if (self.addresses.empty()) return Fail(e, "no_mail_host");
      e.status = "ok";
      e.mx_source = "implicit";
      self.cname.clear();
      e.mx.push_back(std::move(self));
      return e;
    }
    std::sort(mx.records.begin(), mx.records.end(), [](const DnsRecord& a, const DnsRecord& b) {
      return a.preference != b.preference ? a.preference < b.preference : a.target < b.target;
    });
    if (mx.records.size() == 1 && mx.records[0].target.empty()) {
      e.status = "null_mx";
      e.mx_source = "null_mx";
      return e;
    }
    e.mx_cname = mx.chain;
    e.mx_source = "mx";
    bool any_address = false, any_timeout = false, any_error = false;
    for (size_t k = 0; k < mx.records.size(); ++k) {
      if (k >= caps_.max_exchanges) {
        e.mx_truncated = true;
        e.mx.push_back({.preference = mx.records[k].preference,
                        .exchange = mx.records[k].target,
                        .status = "skipped"});
        continue;
      }
      e.mx.push_back(ResolveExchange(mx.records[k].preference, mx.records[k].target));
      any_address |= !e.mx.back().addresses.empty();
      any_timeout |= e.mx.back().status == "dns_timeout";
      any_error |= e.mx.back().status == "dns_error" || e.mx.back().status == "cname_loop";
    }
    e.status = any_address   ? "ok"
               : any_timeout ? "dns_timeout"
               : any_error   ? "dns_error"
                             : "no_mail_host";
    return e;
  }

 private:
  static Expectation Fail(Expectation e, std::string_view status) {
    e.status = status;
    e.mx_source = "none";
    return e;
  }

  Client* client_;
  PopulationOptions caps_;
};

TEST_F(DnsServerTest, EveryDomainResolvesToItsExpectation) {
  ReferenceResolver resolver(client_.get(), population().options());
  // The zones' self-tests, as the expectations state them.
  std::vector<bool> trusted;
  for (const ExpectedDnsblZone& z : Population::ExpectDnsblZones()) {
    trusted.push_back(resolver.SelfTestPasses(z.zone));
    EXPECT_EQ(trusted.back(), z.passed) << z.zone;
  }
  std::vector<bool> seen(kDomainKindCount);
  for (size_t i = 0; i < population().size(); ++i) {
    const DomainKind kind = population().Kind(i);
    seen[size_t(kind)] = true;
    SCOPED_TRACE(population().DomainName(i));
    // DNS only: the SMTP part of the expectation is another test's (smtp_server_test.cc). The
    // reputation of every address is DNS, and resolved here too.
    Expectation expected = population().Expect(i);
    for (ExpectedExchange& x : expected.mx) x.ports.clear();
    Expectation resolved = resolver.Resolve(population().DomainName(i), kind);
    for (ExpectedExchange& x : resolved.mx) {
      for (const std::string& ip : x.addresses) {
        x.reputation.push_back(resolver.Reputation(ip, trusted));
      }
    }
    std::string want, got;
    Population::ExpectationToJson(expected, &want);
    Population::ExpectationToJson(resolved, &got);
    EXPECT_EQ(got, want);
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), true), long(kDomainKindCount));
}

TEST(DnsServerStandaloneTest, ServesOnIpv6Loopback) {
  absl::StatusOr<std::unique_ptr<Fleet>> fleet =
      Fleet::Start({.domain_count = 10, .dns_ip = "::1"});
  ASSERT_TRUE(fleet.ok()) << fleet.status();
  EXPECT_EQ((*fleet)->dns_server(), "[::1]:" + std::to_string((*fleet)->dns_port()));
  Client client("::1", (*fleet)->dns_port());
  std::vector<uint8_t> query =
      BuildQuery(3, (*fleet)->population().DomainName(0), kTypeMx);  // index 0 is plain
  std::optional<std::vector<uint8_t>> udp = client.Udp(query);
  ASSERT_TRUE(udp);
  EXPECT_THAT(MustParse(*udp).answers, SizeIs(1));
  EXPECT_THAT(MustParse(client.Tcp(query)).answers, SizeIs(1));
}

TEST(DnsServerStandaloneTest, RefusesToListenBeyondLoopback) {
  for (const char* ip : {"0.0.0.0", "10.0.0.1", "::", "192.168.1.1", "not-an-ip"}) {
    absl::StatusOr<std::unique_ptr<Fleet>> fleet = Fleet::Start({.domain_count = 10, .dns_ip = ip});
    EXPECT_EQ(fleet.status().code(), absl::StatusCode::kInvalidArgument) << ip;
  }
}

TEST(DnsServerStandaloneTest, ExplicitPortBindsUdpAndTcp) {
  absl::StatusOr<std::unique_ptr<Fleet>> first = Fleet::Start({.domain_count = 10});
  ASSERT_TRUE(first.ok());
  // The same port again is in use: a clear error, not a half-bound server.
  absl::StatusOr<std::unique_ptr<Fleet>> second =
      Fleet::Start({.domain_count = 10, .dns_port = (*first)->dns_port()});
  EXPECT_FALSE(second.ok());
}

TEST(DnsServerStandaloneTest, ConnectionsOverTheLimitAreClosed) {
  absl::StatusOr<std::unique_ptr<EpollLoop>> loop = EpollLoop::Create();
  ASSERT_TRUE(loop.ok());
  absl::StatusOr<Population> population = Population::Create({.domain_count = 10});
  ASSERT_TRUE(population.ok());
  PopulationZone zone(&*population);
  absl::StatusOr<std::unique_ptr<DnsServer>> server =
      DnsServer::Create(loop->get(), {&zone}, {.max_tcp_connections = 2});
  ASSERT_TRUE(server.ok()) << server.status();
  (*loop)->Start();
  Client client("127.0.0.1", (*server)->port());
  int a = client.Connect();
  int b = client.Connect();
  int c = client.Connect();
  EXPECT_TRUE(Client::ReadFrame(c).empty());  // accepted and closed at once
  std::vector<uint8_t> query = BuildQuery(5, population->DomainName(0), kTypeMx);
  for (int fd : {a, b}) {
    Client::WriteAll(fd, Client::Frame(query));
    EXPECT_EQ(MustParse(Client::ReadFrame(fd)).id, 5);
  }
  for (int fd : {a, b, c}) close(fd);
  (*loop)->Stop();
  EXPECT_EQ((*server)->stats().tcp_rejected, 1u);
  EXPECT_EQ((*server)->stats().tcp_accepted, 2u);
}

}  // namespace
}  // namespace mxray::fleet
