// The fleet's SMTP expectations against mxray's own protocol logic: engine::SmtpSession, driven
// over a blocking loopback socket, probes every (address, port) the population hands out and must
// record exactly the ExpectedPort the expectations promise (state, outcome, greeting code,
// STARTTLS, AUTH, SIZE). What only a deadline can decide (banner_timeout, connect_timeout) is left
// to smtp_server_test.cc, which shows those servers stay silent without waiting for a deadline.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <set>
#include <string>
#include <vector>

#include "engine/ehlo_capabilities.h"
#include "engine/port_record.h"
#include "engine/smtp_session.h"
#include "tools/fleet/fleet.h"

namespace mxray::fleet {
namespace {

constexpr int kGuardSeconds = 10;  // only reached when something is broken

// One probe as mxray's SmtpProbe makes it, with blocking I/O instead of the ring.
engine::PortRecord Probe(const std::string& ip, uint16_t logical, uint16_t port) {
  engine::PortRecord record;
  record.port = logical;
  sockaddr_storage addr{};
  socklen_t len;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof(sockaddr_in);
  } else {
    EXPECT_EQ(inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr), 1);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
  }
  int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval guard{.tv_sec = kGuardSeconds, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof(guard));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &guard, sizeof(guard));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    EXPECT_EQ(errno, ECONNREFUSED) << ip << ":" << port;
    record.state = engine::PortState::kClosed;
    record.outcome = engine::ProbeOutcome::kConnectRefused;
    close(fd);
    return record;
  }
  record.state = engine::PortState::kOpen;
  if (logical == 465) {  // as SmtpProbe: reachability only, until implicit TLS
    record.outcome = engine::ProbeOutcome::kOk;
    close(fd);
    return record;
  }
  engine::SmtpSessionOptions options;
  options.ehlo_name = "mxray.test";
  engine::SmtpSession session(&options, &record);
  session.Start();
  char buf[1024];  // SmtpProbe's receive size
  for (;;) {
    engine::SmtpSession::Next next;
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n > 0) {
      next = session.OnData(std::string_view(buf, size_t(n)));
    } else if (n == 0) {
      next = session.OnPeerClosed(false);
    } else if (errno == ECONNRESET) {
      next = session.OnPeerClosed(true);
    } else {
      ADD_FAILURE() << ip << ":" << port << " said nothing within the guard time";
      next = session.OnTimeout();
    }
    if (!next.send.empty() &&
        send(fd, next.send.data(), next.send.size(), MSG_NOSIGNAL) != ssize_t(next.send.size())) {
      next = session.OnPeerClosed(true);
    }
    if (next.done) break;
  }
  close(fd);
  return record;
}

void ExpectRecord(const engine::PortRecord& got, const ExpectedPort& want, const std::string& ip) {
  SCOPED_TRACE(ip + " port " + std::to_string(want.port));
  EXPECT_EQ(engine::PortStateName(got.state), want.state);
  EXPECT_EQ(engine::ProbeOutcomeName(got.outcome), want.outcome) << got.error;
  if (want.banner_code >= 0) {
    ASSERT_TRUE(got.banner.has_value());
    EXPECT_EQ(got.banner->code, want.banner_code);
  } else {
    EXPECT_FALSE(got.banner.has_value()) << got.banner->code;
  }
  if (want.outcome == "ok" && want.port != 465) {
    ASSERT_TRUE(got.capabilities.has_value());
    EXPECT_EQ(got.capabilities->starttls, want.starttls);
    EXPECT_EQ(got.capabilities->auth, want.auth);
    EXPECT_EQ(got.capabilities->size, want.size);
  } else {
    EXPECT_FALSE(want.starttls);
    EXPECT_TRUE(want.auth.empty());
    EXPECT_FALSE(want.size.has_value());
  }
}

// Outcomes that take a deadline to reach: not probed here.
bool NeedsADeadline(const ExpectedPort& want) {
  return want.outcome == "banner_timeout" || want.outcome == "connect_timeout" ||
         want.outcome == "command_timeout";
}

// Every address the expectations name, plus the plan's, plus a few outside it.
std::vector<std::string> AddressesToProbe(const Population& p) {
  std::set<std::string> all;
  for (size_t i = 0; i < p.size(); ++i) {
    for (const ExpectedExchange& x : p.Expect(i).mx) {
      EXPECT_EQ(x.ports.size(), x.addresses.size()) << p.DomainName(i);
      all.insert(x.addresses.begin(), x.addresses.end());
    }
  }
  for (const std::string& a : p.SmtpAddresses()) all.insert(a);
  for (const char* outside : {"127.2.3.250", "127.1.255.250", "127.4.0.1", "127.3.0.200"}) {
    all.insert(outside);
  }
  return {all.begin(), all.end()};
}

void ProbeEverything(const Fleet& fleet, size_t* probed, size_t* skipped,
                     std::string_view only_prefix = "") {
  const Population& p = fleet.population();
  for (const std::string& ip : AddressesToProbe(p)) {
    if (!ip.starts_with(only_prefix)) continue;
    std::vector<ExpectedPort> want = p.ExpectPorts(ip);
    ASSERT_EQ(want.size(), 3u);
    for (size_t k = 0; k < 3; ++k) {
      if (NeedsADeadline(want[k])) {
        ++*skipped;
        continue;
      }
      ExpectRecord(Probe(ip, want[k].port, fleet.smtp_port(want[k].port)), want[k], ip);
      ++*probed;
    }
  }
}

TEST(SmtpExpectationsTest, MxraysSessionRecordsWhatTheExpectationsSay) {
  FleetOptions options;
  options.seed = 5;
  options.domain_count = 2000;
  options.smtp.greeting_delay_ms = 20;
  absl::StatusOr<std::unique_ptr<Fleet>> fleet = Fleet::Start(options);
  ASSERT_TRUE(fleet.ok()) << fleet.status();
  size_t probed = 0, skipped = 0;
  ProbeEverything(**fleet, &probed, &skipped);
  EXPECT_GT(probed, 1000u);
  // Stalled, drip, silent and silent after EHLO on 25 and 587 of each of their 4 hosts;
  // filtered 25 of 4 hosts.
  EXPECT_EQ(skipped, 4u * 4u * 2u + 4u);
  EXPECT_TRUE((*fleet)->WaitForSmtpIdle(kGuardSeconds * 1000));
}

TEST(SmtpExpectationsTest, WideAreaLatencyChangesNoOutcome) {
  FleetOptions options;
  options.domain_count = kDomainKindCount;
  options.smtp.latency_ms = 5;
  options.smtp.greeting_delay_ms = 5;
  options.smtp.hosts_per_kind = 2;
  absl::StatusOr<std::unique_ptr<Fleet>> fleet = Fleet::Start(options);
  ASSERT_TRUE(fleet.ok()) << fleet.status();
  size_t probed = 0, skipped = 0;
  ProbeEverything(**fleet, &probed, &skipped, "127.4.");  // the cases; ordinary ones are alike
  EXPECT_GT(probed, 80u);
}

TEST(SmtpExpectationsTest, EveryOutcomeOfTheCasesIsCovered) {
  // The kinds reach every outcome mxray has for a server (all but blocked, unreachable and the
  // local ones), so a run over the fleet exercises each of them.
  absl::StatusOr<Population> p = Population::Create({.domain_count = kDomainKindCount});
  ASSERT_TRUE(p.ok());
  std::set<std::string> outcomes;
  for (const std::string& ip : p->SmtpAddresses()) {
    for (const ExpectedPort& port : p->ExpectPorts(ip)) outcomes.insert(std::string(port.outcome));
  }
  outcomes.insert("connect_refused");  // outside the plan
  EXPECT_THAT(outcomes,
              ::testing::UnorderedElementsAre(
                  "ok", "connect_refused", "connect_timeout", "banner_timeout", "banner_rejected",
                  "rate_limited", "ehlo_rejected", "command_timeout", "protocol_error",
                  "line_too_long", "reply_too_large", "connection_reset", "closed_early"));
}

}  // namespace
}  // namespace mxray::fleet
