// SMTP probing against the simulated fleet: every server behaviour ends in its documented outcome
// and fields, every endpoint is connected exactly once however many domains share it, the
// per-address limit holds, and no descriptor is left behind.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "engine/port_map.h"
#include "tests/engine/fleet_audit.h"
#include "tls/tls_client.h"

namespace mxray::engine {
namespace {

size_t OpenDescriptors() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// Deadlines between the fleet's delays, as its expectations assume (smtp_plan.h): the slow
// greeting (100 ms) arrives in time, the stalled one (5 s) does not.
fleet::FleetOptions SmtpFleet(size_t domains) {
  fleet::FleetOptions o;
  o.domain_count = domains;
  o.smtp.greeting_delay_ms = 100;
  o.smtp.greeting_stall_ms = 5000;
  o.smtp.drip_interval_ms = 50;
  return o;
}

void ProbeFleet(const fleet::Fleet& f, AuditConfig& c) {
  ProbeConfig& p = c.probe;
  p.allow_private = true;  // the fleet lives on loopback
  auto map = ParsePortMap(f.smtp_port_map());
  ASSERT_TRUE(map.ok()) << map.status();
  p.port_map = map->entries();
  // Well above what a loaded CI machine needs for a handshake or 66 KB of endless line, and
  // well below the stalled greeting: the outcomes must not depend on the machine's load.
  p.connect_timeout_ms = 2500;
  p.banner_timeout_ms = 2500;
  p.command_timeout_ms = 2500;
  p.quit_timeout_ms = 1000;
  p.endpoint_timeout_ms = 4500;
  p.tls_timeout_ms = 2500;
  p.retry_delay_ms = 20;    // 421 endpoints are tried twice more, soon
  p.ca_file = f.ca_file();  // the fleet's test root is the only trusted one
  p.session.ehlo_name = "probe.mxray.test";
}

void ExpectPortMatches(const PortRecord& got, const CertificateVerdict* verdict,
                       const fleet::ExpectedPort& want) {
  SCOPED_TRACE("port " + std::to_string(want.port));
  EXPECT_EQ(got.port, want.port);
  EXPECT_EQ(PortStateName(got.state), want.state);
  EXPECT_EQ(ProbeOutcomeName(got.outcome), want.outcome)
      << got.error << (got.tls ? " tls: " + got.tls->error : "");
  // Temporary failures were retried; the 421-then-ok server ends ok after its 421s.
  if (want.state == "open") {
    EXPECT_EQ(got.attempts, want.outcome == "rate_limited" ? 3u : want.attempts);
  }
  if (want.banner_code >= 0) {
    ASSERT_TRUE(got.banner.has_value());
    EXPECT_EQ(got.banner->code, want.banner_code);
  }
  // The plaintext EHLO, whatever came after it.
  if (want.starttls || !want.auth.empty() || want.size) {
    ASSERT_TRUE(got.capabilities.has_value());
    EXPECT_EQ(got.capabilities->starttls, want.starttls);
    EXPECT_EQ(got.capabilities->auth, want.auth);
    EXPECT_EQ(got.capabilities->size, want.size);
  }
  if (want.starttls_code >= 0) {
    ASSERT_TRUE(got.starttls.has_value());
    EXPECT_EQ(got.starttls->code, want.starttls_code);
  } else {
    EXPECT_FALSE(got.starttls.has_value());
  }
  EXPECT_EQ(!got.injected.empty(), want.injected) << got.injected;
  if (want.tls_version.empty()) {
    EXPECT_TRUE(got.tls == nullptr || !got.tls->error.empty());
  } else {
    ASSERT_NE(got.tls, nullptr);
    EXPECT_EQ(got.tls->error, "");
    EXPECT_EQ(got.tls->version, want.tls_version);
    EXPECT_FALSE(got.tls->cipher.empty());
    EXPECT_EQ(got.tls->leaf.key_type, want.key_type);
    EXPECT_EQ(got.tls->leaf.key_bits, want.key_bits);
    ASSERT_NE(verdict, nullptr);
    EXPECT_TRUE(verdict->judged);
    EXPECT_EQ(verdict->status, want.verify_status);
  }
  EXPECT_EQ(got.ehlo_tls.has_value() && got.ehlo_tls->code == 250, want.ehlo_tls);
  if (want.ehlo_tls) {
    ASSERT_TRUE(got.capabilities_tls.has_value());
    EXPECT_EQ(got.capabilities_tls->auth, want.auth_after_tls);
    EXPECT_FALSE(got.capabilities_tls->starttls);
  }
}

TEST(SmtpFleetTest, EveryServerBehaviourYieldsItsDocumentedOutcome) {
  FleetRun run = AuditFleet(SmtpFleet(600), /*keep_records=*/true, ProbeFleet);
  ASSERT_TRUE(run.status.ok()) << run.status;
  // Every SSL was freed when its probe was done with TLS, whatever the outcome.
  EXPECT_EQ(tls::TlsClient::live(), 0u);
  const fleet::Population& pop = run.fleet->population();
  absl::flat_hash_map<std::string, const DomainRecord*> by_domain;
  for (const DomainRecord& r : run.sink->records()) by_domain[r.domain] = &r;
  ASSERT_EQ(by_domain.size(), pop.size());

  absl::flat_hash_set<std::string> outcomes_seen;
  absl::flat_hash_set<std::string> findings_seen;
  const fleet::SmtpStats stats = run.fleet->smtp_stats();
  size_t ports_checked = 0;
  // The one finding each TLS case must raise on its endpoints.
  const absl::flat_hash_map<fleet::DomainKind, std::string> kind_finding = {
      {fleet::DomainKind::kTlsExpired, "cert_expired"},
      {fleet::DomainKind::kTlsNotYetValid, "cert_not_yet_valid"},
      {fleet::DomainKind::kTlsSelfSigned, "cert_self_signed"},
      {fleet::DomainKind::kTlsUntrustedCa, "cert_untrusted"},
      {fleet::DomainKind::kTlsWrongName, "cert_hostname_mismatch"},
      {fleet::DomainKind::kTls10Only, "tls_legacy_version"},
      {fleet::DomainKind::kStarttlsInjection, "starttls_injection"},
      {fleet::DomainKind::kAuthBeforeTls, "auth_before_tls"},
  };
  for (size_t i = 0; i < pop.size(); ++i) {
    fleet::Expectation want = pop.Expect(i);
    const DomainRecord& got = *by_domain[want.domain];
    SCOPED_TRACE(want.domain);
    if (want.status != "ok") continue;
    ASSERT_EQ(got.mx.size(), want.mx.size());
    for (size_t x = 0; x < want.mx.size(); ++x) {
      const fleet::ExpectedExchange& we = want.mx[x];
      ASSERT_EQ(got.mx[x].addresses.size(), we.addresses.size());
      for (size_t a = 0; a < we.ports.size(); ++a) {
        SCOPED_TRACE(we.addresses[a]);
        const AddressRecord& ga = got.mx[x].addresses[a];
        ASSERT_EQ(ga.ports.size(), we.ports[a].size());
        for (size_t p = 0; p < we.ports[a].size(); ++p) {
          ASSERT_NE(ga.ports[p], nullptr);
          ExpectPortMatches(*ga.ports[p], p < ga.verdicts.size() ? &ga.verdicts[p] : nullptr,
                            we.ports[a][p]);
          // SNI is the MX name (TLS kinds have one exchange name per host, so it is theirs).
          const PortRecord& gp = *ga.ports[p];
          if (gp.tls != nullptr && fleet::IsTlsKind(want.kind)) {
            EXPECT_EQ(gp.tls->sni, we.exchange);
            if (gp.tls->error.empty()) {
              EXPECT_EQ(stats.SniAt(we.addresses[a], gp.port), we.exchange);
            }
          }
          outcomes_seen.insert(std::string(ProbeOutcomeName(ga.ports[p]->outcome)));
          ++ports_checked;
        }
      }
    }
  }
  EXPECT_GT(ports_checked, 0u);
  for (const DomainRecord& r : run.sink->records()) {
    for (const Finding& f : r.findings) {
      findings_seen.insert(std::string(f.id));
      // Each finding names an endpoint of the record.
      ASSERT_LT(f.exchange, r.mx.size());
      ASSERT_LT(f.address, r.mx[f.exchange].addresses.size());
      bool port_listed = f.port == 0;  // about the address itself (DNSBL, PTR)
      for (const PortRecordPtr& p : r.mx[f.exchange].addresses[f.address].ports) {
        port_listed |= p->port == f.port;
      }
      EXPECT_TRUE(port_listed) << r.domain << " " << f.id;
    }
  }
  for (size_t i = 0; i < pop.size(); ++i) {
    auto it = kind_finding.find(pop.Kind(i));
    if (it == kind_finding.end()) continue;
    const DomainRecord& got = *by_domain[pop.DomainName(i)];
    std::vector<std::string> ids;
    for (const Finding& f : got.findings) ids.emplace_back(f.id);
    EXPECT_THAT(ids, testing::Contains(it->second)) << got.domain;
  }
  EXPECT_THAT(findings_seen, testing::UnorderedElementsAre(
                                 "no_starttls", "auth_before_tls", "starttls_injection",
                                 "tls_legacy_version", "cert_expired", "cert_not_yet_valid",
                                 "cert_self_signed", "cert_untrusted", "cert_hostname_mismatch",
                                 // The fleet's PTR cases; DNSBL zones are asserted on their own.
                                 "no_ptr", "ptr_not_confirmed"));
  // Every outcome the fleet can provoke was provoked at least once.
  EXPECT_THAT(outcomes_seen,
              testing::IsSupersetOf(
                  {"ok", "connect_refused", "connect_timeout", "banner_timeout", "banner_rejected",
                   "rate_limited", "ehlo_rejected", "command_timeout", "protocol_error",
                   "line_too_long", "reply_too_large", "connection_reset", "closed_early",
                   "starttls_not_offered", "starttls_rejected", "tls_handshake_failed",
                   "tls_timeout", "starttls_injection", "plaintext_on_tls_port"}));
}

TEST(SmtpFleetTest, EachEndpointIsConnectedOncePolitelyAndDescriptorsComeBack) {
  size_t baseline = 0;
  fleet::FleetOptions options = SmtpFleet(10000);
  // DNS over TCP (the oversized answers) leaves the fleet's end of the connection to close at its
  // own pace, which this in-process descriptor count would see; SMTP has WaitForSmtpIdle.
  options.kind_weights = {{fleet::DomainKind::kOversizedMx, 0},
                          {fleet::DomainKind::kOversizedA, 0}};
  FleetRun run =
      AuditFleet(options, /*keep_records=*/true, [&](const fleet::Fleet& f, AuditConfig& c) {
        ProbeFleet(f, c);
        baseline = OpenDescriptors();
      });
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.sink->count(), 10000u);
  EXPECT_EQ(run.sink->domains().size(), 10000u);

  // Every endpoint that accepts connections was connected exactly once, however many domains
  // share it (and once more per retry after a temporary failure, as its record says).
  absl::flat_hash_map<std::pair<std::string, uint16_t>, uint8_t> endpoints;
  size_t references = 0, retried = 0;
  for (const DomainRecord& r : run.sink->records()) {
    for (const ExchangeRecord& e : r.mx) {
      for (const AddressRecord& a : e.addresses) {
        for (const PortRecordPtr& p : a.ports) {
          ++references;
          if (p->state == PortState::kOpen) endpoints[{a.ip.ToString(), p->port}] = p->attempts;
        }
      }
    }
  }
  fleet::SmtpStats stats = run.fleet->smtp_stats();
  for (const auto& [endpoint, attempts] : endpoints) {
    const auto& [ip, port] = endpoint;
    EXPECT_EQ(stats.ConnectionsTo(ip, port), attempts) << ip << ":" << port;
    if (attempts > 1) ++retried;
  }
  EXPECT_GT(retried, 0u);                       // the 421 servers were tried again
  EXPECT_GT(references, 2 * endpoints.size());  // sharing really happened
  EXPECT_EQ(run.stats.endpoints.per_address_peak, 1u);
  EXPECT_LE(stats.MaxConcurrentPerAddress(), 1u);
  // The fleet shares this process: wait (bounded) for its side of the connections to close.
  ASSERT_TRUE(run.fleet->WaitForSmtpIdle(10'000));
  EXPECT_EQ(OpenDescriptors(), baseline);
}

}  // namespace
}  // namespace mxray::engine

namespace mxray::engine {
namespace {

TEST(SmtpFleetPolicyTest, LoopbackFoundInDnsIsNeverContactedWithoutAllowPrivate) {
  FleetRun run =
      AuditFleet(SmtpFleet(300), /*keep_records=*/true, [](const fleet::Fleet& f, AuditConfig& c) {
        ProbeFleet(f, c);
        c.probe.allow_private = false;
      });
  ASSERT_TRUE(run.status.ok()) << run.status;
  size_t ports = 0;
  for (const DomainRecord& r : run.sink->records()) {
    for (const ExchangeRecord& e : r.mx) {
      for (const AddressRecord& a : e.addresses) {
        for (const PortRecordPtr& p : a.ports) {
          ++ports;
          EXPECT_EQ(p->state, PortState::kBlocked);
          EXPECT_EQ(p->outcome, ProbeOutcome::kBlocked);
          EXPECT_EQ(p->blocked_reason, "loopback");
        }
      }
    }
  }
  EXPECT_GT(ports, 0u);
  ASSERT_TRUE(run.fleet->WaitForSmtpIdle(10'000));
  EXPECT_EQ(run.fleet->smtp_stats().TotalConnections(), 0u);
}

TEST(SmtpFleetPolicyTest, BlocklistedAddressesAreNeverContactedEvenWhenPrivateIsAllowed) {
  char path[] = "/tmp/mxray-blocklist-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string list = "# providers are off limits\n127.1.0.0/16\n";
  ASSERT_EQ(write(fd, list.data(), list.size()), ssize_t(list.size()));
  close(fd);
  FleetRun run =
      AuditFleet(SmtpFleet(300), /*keep_records=*/true, [&](const fleet::Fleet& f, AuditConfig& c) {
        ProbeFleet(f, c);
        c.probe.blocklist_path = path;
      });
  unlink(path);
  ASSERT_TRUE(run.status.ok()) << run.status;
  size_t blocked = 0, probed = 0;
  for (const DomainRecord& r : run.sink->records()) {
    for (const ExchangeRecord& e : r.mx) {
      for (const AddressRecord& a : e.addresses) {
        bool provider = a.ip.ToString().starts_with("127.1.");
        for (const PortRecordPtr& p : a.ports) {
          if (provider) {
            ++blocked;
            EXPECT_EQ(p->blocked_reason, "blocklist");
          } else {
            probed += p->state != PortState::kBlocked;
          }
        }
      }
    }
  }
  EXPECT_GT(blocked, 0u);
  EXPECT_GT(probed, 0u);
  ASSERT_TRUE(run.fleet->WaitForSmtpIdle(10'000));
  fleet::SmtpStats stats = run.fleet->smtp_stats();
  for (const auto& [key, count] : stats.accepted) {
    EXPECT_FALSE(key.first.starts_with("127.1.")) << key.first;
  }
}

}  // namespace
}  // namespace mxray::engine
