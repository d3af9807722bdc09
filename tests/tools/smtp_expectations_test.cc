// The fleet's SMTP expectations against mxray's own protocol logic: engine::SmtpSession, driven
// over a blocking loopback socket with a BoringSSL handshake wherever it asks for one (after
// STARTTLS, and first thing on 465), probes every (address, port) the population hands out and
// must record exactly the ExpectedPort the expectations promise: state, outcome, greeting code,
// STARTTLS, AUTH and SIZE before TLS, the STARTTLS reply, the TLS version and leaf key, EHLO and
// AUTH inside TLS, the injection. The certificate verdict is computed here from the chain the
// server sent (BoringSSL's verifier with the fleet's CA file, BoringSSL's hostname matcher) and
// compared per domain, against each domain's own exchange name, as mxray judges it. What only a
// deadline can decide (banner_timeout, connect_timeout, command_timeout, tls_timeout) is left to
// smtp_server_test.cc and smtp_tls_test.cc, which show those servers stay silent without waiting
// for a deadline.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/ehlo_capabilities.h"
#include "engine/port_record.h"
#include "engine/smtp_session.h"
#include "tests/tools/smtp_test_client.h"
#include "tools/fleet/fleet.h"

namespace mxray::fleet {
namespace {

using testing_client::ChainFacts;
using testing_client::kGuardMs;
using testing_client::TlsChannel;

// One probe's findings: mxray's record and the TLS facts read here.
struct Probed {
  engine::PortRecord record;
  std::string tls_version;  // empty: no handshake completed
  std::string key_type;
  uint32_t key_bits = 0;
  ChainFacts chain;
};

// One probe as mxray's SmtpProbe makes it, with blocking I/O instead of the ring.
Probed Probe(const std::string& ip, uint16_t logical, uint16_t port, SSL_CTX* tls_ctx,
             const std::string& sni) {
  Probed out;
  engine::PortRecord& record = out.record;
  record.port = logical;
  socklen_t len;
  sockaddr_storage addr = testing_client::Sockaddr(ip, port, &len);
  int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval guard{.tv_sec = kGuardMs / 1000, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof(guard));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &guard, sizeof(guard));
  // The Finished and the EHLO after it are two writes: Nagle would hold the second for the
  // server's delayed ACK (40 ms a handshake).
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    EXPECT_EQ(errno, ECONNREFUSED) << ip << ":" << port;
    record.state = engine::PortState::kClosed;
    record.outcome = engine::ProbeOutcome::kConnectRefused;
    close(fd);
    return out;
  }
  record.state = engine::PortState::kOpen;
  engine::SmtpSessionOptions options;
  options.ehlo_name = "mxray.test";
  engine::SmtpSession session(&options, &record);
  engine::SmtpSession::Next next;
  if (logical == 465) {
    next = session.StartImplicitTls();
  } else {
    session.Start();
  }
  std::unique_ptr<TlsChannel> tls;
  char buf[1024];  // SmtpProbe's receive size
  for (;;) {
    if (next.start_tls) {
      auto channel = std::make_unique<TlsChannel>(tls_ctx, fd, sni);
      std::string received;
      if (channel->Handshake(&received)) {
        SSL* ssl = channel->ssl();
        out.tls_version = testing_client::VersionOf(ssl);
        std::tie(out.key_type, out.key_bits) = testing_client::LeafKey(ssl);
        out.chain = testing_client::JudgeChain(ssl, SSL_CTX_get_cert_store(tls_ctx));
        tls = std::move(channel);
        next = session.OnTlsEstablished();
      } else {
        next = session.OnTlsFailed(received, /*timed_out=*/false);
      }
      continue;
    }
    if (!next.send.empty()) {
      const bool sent = tls ? tls->Write(next.send)
                            : send(fd, next.send.data(), next.send.size(), MSG_NOSIGNAL) ==
                                  ssize_t(next.send.size());
      if (!sent) next = session.OnPeerClosed(true);
    }
    if (next.done) break;
    if (next.start_tls) continue;
    errno = 0;
    const ssize_t n = tls ? tls->Read(buf, sizeof(buf)) : recv(fd, buf, sizeof(buf), 0);
    if (n > 0) {
      next = session.OnData(std::string_view(buf, size_t(n)));
    } else if (n == 0) {
      next = session.OnPeerClosed(false);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      ADD_FAILURE() << ip << ":" << port << " said nothing within the guard time (phase "
                    << int(session.phase()) << ")";
      next = session.OnTimeout();
    } else {
      next = session.OnPeerClosed(true);
    }
  }
  close(fd);
  return out;
}

// `got` against `want`, the certificate judged for `exchange`.
void ExpectRecord(const Probed& got, const ExpectedPort& want, const std::string& exchange) {
  const engine::PortRecord& r = got.record;
  EXPECT_EQ(engine::PortStateName(r.state), want.state);
  EXPECT_EQ(engine::ProbeOutcomeName(r.outcome), want.outcome) << r.error;
  if (want.banner_code >= 0) {
    ASSERT_TRUE(r.banner.has_value());
    EXPECT_EQ(r.banner->code, want.banner_code);
  } else {
    EXPECT_FALSE(r.banner.has_value()) << r.banner->code;
  }
  // Before TLS.
  if (r.capabilities) {
    EXPECT_EQ(r.capabilities->starttls, want.starttls);
    EXPECT_EQ(r.capabilities->auth, want.auth);
    EXPECT_EQ(r.capabilities->size, want.size);
  } else {
    EXPECT_FALSE(want.starttls);
    EXPECT_TRUE(want.auth.empty());
    EXPECT_FALSE(want.size.has_value());
  }
  EXPECT_EQ(r.starttls ? int(r.starttls->code) : -1, want.starttls_code);
  // The handshake.
  EXPECT_EQ(got.tls_version, want.tls_version);
  EXPECT_EQ(got.key_type, want.key_type);
  EXPECT_EQ(got.key_bits, want.key_bits);
  if (!got.tls_version.empty()) {
    EXPECT_EQ(testing_client::Verdict(got.chain, exchange), want.verify_status) << exchange;
  } else {
    EXPECT_EQ(want.verify_status, "");
  }
  // Inside TLS.
  const bool ehlo_tls = r.ehlo_tls.has_value() && r.ehlo_tls->code == 250;
  EXPECT_EQ(ehlo_tls, want.ehlo_tls);
  EXPECT_EQ(r.capabilities_tls ? r.capabilities_tls->auth : std::vector<std::string>{},
            want.auth_after_tls);
  EXPECT_EQ(!r.injected.empty(), want.injected) << r.injected;
}

// Outcomes that take a deadline to reach: not probed here.
bool NeedsADeadline(const ExpectedPort& want) {
  return want.outcome == "banner_timeout" || want.outcome == "connect_timeout" ||
         want.outcome == "command_timeout" || want.outcome == "tls_timeout";
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

using Probes = std::map<std::pair<std::string, uint16_t>, Probed>;

// Probes every endpoint once (as many times as its record's attempts), with the server's own
// name as SNI (as a domain on it would), and checks it against the expectations for that name.
void ProbeEverything(const Fleet& fleet, Probes* probes, size_t* skipped,
                     std::string_view only_prefix = "") {
  const Population& p = fleet.population();
  bssl::UniquePtr<SSL_CTX> tls_ctx = testing_client::ClientContext(fleet.ca_file());
  for (const std::string& ip : AddressesToProbe(p)) {
    if (!ip.starts_with(only_prefix)) continue;
    const std::string name = p.SmtpHostName(ip);
    std::vector<ExpectedPort> want = p.ExpectPorts(ip);
    ASSERT_EQ(want.size(), 3u);
    for (size_t k = 0; k < 3; ++k) {
      SCOPED_TRACE(ip + " port " + std::to_string(want[k].port));
      if (NeedsADeadline(want[k])) {
        ++*skipped;
        continue;
      }
      // The retry case: mxray's earlier attempts end rate_limited on the 421 greeting, and the
      // record is the last one's.
      for (uint32_t attempt = 1; attempt < want[k].attempts; ++attempt) {
        Probed refused =
            Probe(ip, want[k].port, fleet.smtp_port(want[k].port), tls_ctx.get(), name);
        EXPECT_EQ(engine::ProbeOutcomeName(refused.record.outcome), "rate_limited") << attempt;
        ASSERT_TRUE(refused.record.banner.has_value());
        EXPECT_EQ(refused.record.banner->code, 421);
      }
      Probed got = Probe(ip, want[k].port, fleet.smtp_port(want[k].port), tls_ctx.get(), name);
      ExpectRecord(got, want[k], name);
      probes->emplace(std::make_pair(ip, want[k].port), std::move(got));
    }
  }
}

// Every domain's expectation against the probe of each of its endpoints, the certificate judged
// against the domain's own exchange name.
size_t CheckDomains(const Population& p, const Probes& probes) {
  size_t checked = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const Expectation e = p.Expect(i);
    for (const ExpectedExchange& x : e.mx) {
      for (size_t a = 0; a < x.addresses.size(); ++a) {
        for (const ExpectedPort& want : x.ports[a]) {
          auto it = probes.find({x.addresses[a], want.port});
          if (it == probes.end()) continue;  // a deadline case
          SCOPED_TRACE(e.domain + " " + x.exchange + " " + x.addresses[a] + " port " +
                       std::to_string(want.port));
          ExpectRecord(it->second, want, x.exchange);
          ++checked;
        }
      }
    }
  }
  return checked;
}

TEST(SmtpExpectationsTest, MxraysSessionRecordsWhatTheExpectationsSay) {
  FleetOptions options;
  options.seed = 5;
  options.domain_count = 2000;
  options.smtp.greeting_delay_ms = 20;
  absl::StatusOr<std::unique_ptr<Fleet>> fleet = Fleet::Start(options);
  ASSERT_TRUE(fleet.ok()) << fleet.status();
  Probes probes;
  size_t skipped = 0;
  ProbeEverything(**fleet, &probes, &skipped);
  EXPECT_GT(probes.size(), 1000u);
  // Stalled, drip, silent and silent after EHLO on 25 and 587 of each of their 4 hosts;
  // filtered 25 of 4 hosts; the TLS stall on every port of its 4 hosts.
  EXPECT_EQ(skipped, 4u * 4u * 2u + 4u + 4u * 3u);
  EXPECT_GT(CheckDomains((*fleet)->population(), probes), 2000u);
  EXPECT_TRUE((*fleet)->WaitForSmtpIdle(kGuardMs));
  // Every TLS probe that completed was a handshake the server counted.
  size_t handshakes = 0;
  for (const auto& [endpoint, got] : probes) handshakes += !got.tls_version.empty();
  EXPECT_EQ((*fleet)->smtp_stats().tls_handshakes, handshakes);
}

TEST(SmtpExpectationsTest, WideAreaLatencyChangesNoOutcome) {
  FleetOptions options;
  options.domain_count = kDomainKindCount;
  options.smtp.latency_ms = 5;
  options.smtp.greeting_delay_ms = 5;
  options.smtp.hosts_per_kind = 2;
  absl::StatusOr<std::unique_ptr<Fleet>> fleet = Fleet::Start(options);
  ASSERT_TRUE(fleet.ok()) << fleet.status();
  Probes probes;
  size_t skipped = 0;
  ProbeEverything(**fleet, &probes, &skipped, "127.4.");  // the cases; ordinary ones are alike
  EXPECT_GT(probes.size(), 150u);
}

TEST(SmtpExpectationsTest, WithoutTlsTheSessionsStayPlaintext) {
  FleetOptions options;
  options.domain_count = kDomainKindCount;
  options.smtp.greeting_delay_ms = 5;
  options.smtp.hosts_per_kind = 1;
  options.smtp.tls = false;
  absl::StatusOr<std::unique_ptr<Fleet>> fleet = Fleet::Start(options);
  ASSERT_TRUE(fleet.ok()) << fleet.status();
  Probes probes;
  size_t skipped = 0;
  ProbeEverything(**fleet, &probes, &skipped, "127.4.");
  EXPECT_GT(probes.size(), 70u);
  EXPECT_EQ((*fleet)->smtp_stats().tls_handshakes, 0u);
}

TEST(SmtpExpectationsTest, EveryOutcomeAndVerdictOfTheCasesIsCovered) {
  // The kinds reach every outcome mxray has for a server (all but blocked, unreachable and the
  // local ones), and every certificate verdict, so a run over the fleet exercises each of them.
  absl::StatusOr<Population> p = Population::Create({.domain_count = kDomainKindCount});
  ASSERT_TRUE(p.ok());
  std::set<std::string> outcomes, verdicts;
  for (size_t i = 0; i < p->size(); ++i) {
    for (const ExpectedExchange& x : p->Expect(i).mx) {
      for (const std::vector<ExpectedPort>& ports : x.ports) {
        for (const ExpectedPort& port : ports) {
          outcomes.insert(std::string(port.outcome));
          if (!port.verify_status.empty()) verdicts.insert(std::string(port.verify_status));
        }
      }
    }
  }
  outcomes.insert("connect_refused");  // outside the plan
  EXPECT_THAT(outcomes,
              ::testing::UnorderedElementsAre(
                  "ok", "connect_refused", "connect_timeout", "banner_timeout", "banner_rejected",
                  "rate_limited", "ehlo_rejected", "command_timeout", "protocol_error",
                  "line_too_long", "reply_too_large", "connection_reset", "closed_early",
                  "starttls_not_offered", "starttls_rejected", "tls_handshake_failed",
                  "tls_timeout", "starttls_injection", "plaintext_on_tls_port"));
  EXPECT_THAT(verdicts,
              ::testing::UnorderedElementsAre("ok", "hostname_mismatch", "expired", "not_yet_valid",
                                              "self_signed", "untrusted"));
}

}  // namespace
}  // namespace mxray::fleet
