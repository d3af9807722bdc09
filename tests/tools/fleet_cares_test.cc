// The fleet as seen by an independent client: c-ares (the library mxray resolves with) queries
// every kind over real sockets, retries truncated answers over TCP by itself, and must read the
// fleet's answers exactly as the fleet's own codec does, rejecting the malformed ones.
#include <ares.h>
#include <arpa/nameser.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netdb.h>
#include <sys/select.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "tools/fleet/fleet.h"

namespace mxray::fleet {
namespace {

using ::testing::SizeIs;

struct CaresResult {
  bool done = false;
  int status = ARES_ENODATA;
  std::vector<uint8_t> answer;
};

class CaresClient {
 public:
  CaresClient(const std::string& server, int timeout_ms) {
    EXPECT_EQ(ares_library_init(ARES_LIB_INIT_ALL), ARES_SUCCESS);
    ares_options options{};
    options.timeout = timeout_ms;
    options.tries = 1;
    // As mxray's resolver: EDNS, and NOCHECKRESP so that SERVFAIL and REFUSED reach us as such
    // (without it c-ares 1.18 tries the next server and reports ECONNREFUSED).
    options.flags =
        ARES_FLAG_EDNS | ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_NOCHECKRESP;
    EXPECT_EQ(ares_init_options(&channel_, &options,
                                ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS),
              ARES_SUCCESS);
    EXPECT_EQ(ares_set_servers_ports_csv(channel_, server.c_str()), ARES_SUCCESS);
  }
  ~CaresClient() {
    ares_destroy(channel_);
    ares_library_cleanup();
  }

  CaresResult Query(const std::string& name, int type) {
    CaresResult result;
    ares_query(
        channel_, name.c_str(), ns_c_in, type,
        [](void* arg, int status, int, unsigned char* abuf, int alen) {
          auto* r = static_cast<CaresResult*>(arg);
          r->done = true;
          r->status = status;
          if (abuf) r->answer.assign(abuf, abuf + alen);
        },
        &result);
    while (!result.done) {
      fd_set read_fds, write_fds;
      FD_ZERO(&read_fds);
      FD_ZERO(&write_fds);
      int nfds = ares_fds(channel_, &read_fds, &write_fds);
      timeval tv;
      timeval* wait = ares_timeout(channel_, nullptr, &tv);
      select(nfds, &read_fds, &write_fds, nullptr, wait);
      ares_process(channel_, &read_fds, &write_fds);
    }
    return result;
  }

 private:
  ares_channel channel_ = nullptr;
};

// What ares_parse_mx_reply makes of an answer: its status and the exchanges, sorted as mxray
// sorts them.
int ParseMx(const CaresResult& r, std::vector<std::pair<int, std::string>>* exchanges) {
  ares_mx_reply* mx = nullptr;
  int status = ares_parse_mx_reply(r.answer.data(), int(r.answer.size()), &mx);
  for (ares_mx_reply* m = mx; m; m = m->next) exchanges->emplace_back(m->priority, m->host);
  ares_free_data(mx);
  std::sort(exchanges->begin(), exchanges->end());
  return status;
}

class FleetCaresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // DNS only: the SMTP sockets would push c-ares' descriptors past select()'s FD_SETSIZE.
    auto fleet =
        Fleet::Start({.seed = 3, .domain_count = kDomainKindCount, .smtp = {.enabled = false}});
    ASSERT_TRUE(fleet.ok()) << fleet.status();
    fleet_ = *std::move(fleet);
    // Long enough never to fire on a real answer; only the never-answering kinds wait for it.
    client_ = std::make_unique<CaresClient>(fleet_->dns_server(), 300);
  }
  std::string Domain(DomainKind kind) const {
    return fleet_->population().DomainName(*fleet_->population().FirstOfKind(kind));
  }

  std::unique_ptr<Fleet> fleet_;
  std::unique_ptr<CaresClient> client_;
};

TEST_F(FleetCaresTest, EveryKindsMxAnswerReadsAsExpected) {
  const Population& population = fleet_->population();
  for (size_t i = 0; i < population.size(); ++i) {
    const Expectation want = population.Expect(i);
    SCOPED_TRACE(want.domain);
    CaresResult r = client_->Query(want.domain, ns_t_mx);
    std::vector<std::pair<int, std::string>> exchanges;
    switch (want.kind) {
      case DomainKind::kNxdomain:
        EXPECT_EQ(r.status, ARES_ENOTFOUND);
        continue;
      case DomainKind::kServfail:
        EXPECT_EQ(r.status, ARES_ESERVFAIL);
        continue;
      case DomainKind::kRefused:
        EXPECT_EQ(r.status, ARES_EREFUSED);
        continue;
      case DomainKind::kTimeout:
        EXPECT_EQ(r.status, ARES_ETIMEOUT);
        continue;
      case DomainKind::kMalformedTruncated:
      case DomainKind::kMalformedPointerLoop:
      case DomainKind::kMalformedPointerRange:
      case DomainKind::kMalformedGarbage: {
        // Taken as the reply (id and question match), then refused by the parser: EBADRESP, or
        // EBADNAME when the broken part is a name.
        EXPECT_EQ(r.status, ARES_SUCCESS);
        int parse = ParseMx(r, &exchanges);
        EXPECT_TRUE(parse == ARES_EBADRESP || parse == ARES_EBADNAME) << ares_strerror(parse);
        continue;
      }
      case DomainKind::kImplicitA:
      case DomainKind::kImplicitDual:
      case DomainKind::kImplicitAaaa:
      case DomainKind::kNoMailHost:
        EXPECT_EQ(r.status, ARES_ENODATA);
        continue;
      case DomainKind::kForeignOwner:
      case DomainKind::kCnameLoop:
      case DomainKind::kCnameTooLong:
        // c-ares does not check owners or chains: mxray must (see dns_server_test).
        EXPECT_EQ(r.status, ARES_SUCCESS);
        continue;
      case DomainKind::kNullMx:
        ASSERT_EQ(r.status, ARES_SUCCESS);
        ASSERT_EQ(ParseMx(r, &exchanges), ARES_SUCCESS);
        EXPECT_THAT(exchanges, ::testing::ElementsAre(std::pair<int, std::string>(0, "")));
        continue;
      default:
        break;
    }
    ASSERT_EQ(r.status, ARES_SUCCESS);
    ASSERT_EQ(ParseMx(r, &exchanges), ARES_SUCCESS);
    ASSERT_THAT(exchanges, SizeIs(want.mx.size()));
    for (size_t k = 0; k < exchanges.size(); ++k) {
      EXPECT_EQ(exchanges[k].first, want.mx[k].preference);
      // c-ares leaves a space raw where mxray writes \032; every other name reads the same.
      if (want.kind != DomainKind::kInvalidName) {
        EXPECT_EQ(exchanges[k].second, want.mx[k].exchange);
      }
    }
  }
}

TEST_F(FleetCaresTest, OversizedAddressSetArrivesWholeOverTcp) {
  CaresResult r = client_->Query("mx." + Domain(DomainKind::kOversizedA), ns_t_a);
  ASSERT_EQ(r.status, ARES_SUCCESS);
  hostent* host = nullptr;
  ares_addrttl ttls[128];
  int count = 128;
  ASSERT_EQ(ares_parse_a_reply(r.answer.data(), int(r.answer.size()), &host, ttls, &count),
            ARES_SUCCESS);
  ares_free_hostent(host);
  EXPECT_EQ(count, Population::kOversizedACount);
  EXPECT_GE(fleet_->dns_stats().queries_tcp, 1u);
}

TEST_F(FleetCaresTest, DualStackExchangeHasBothFamilies) {
  const std::string exchange = "mx." + Domain(DomainKind::kDualStack);
  CaresResult a = client_->Query(exchange, ns_t_a);
  CaresResult aaaa = client_->Query(exchange, ns_t_aaaa);
  ASSERT_EQ(a.status, ARES_SUCCESS);
  ASSERT_EQ(aaaa.status, ARES_SUCCESS);
  ares_addr6ttl v6[4];
  int count = 4;
  hostent* host = nullptr;
  ASSERT_EQ(ares_parse_aaaa_reply(aaaa.answer.data(), int(aaaa.answer.size()), &host, v6, &count),
            ARES_SUCCESS);
  ares_free_hostent(host);
  ASSERT_EQ(count, 1);
  static const uint8_t kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  EXPECT_EQ(std::memcmp(&v6[0].ip6addr, kLoopback, 16), 0);
}

}  // namespace
}  // namespace mxray::fleet
