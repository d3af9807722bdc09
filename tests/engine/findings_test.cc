// JudgeDomain: the certificate verdict of a shared endpoint depends on the exchange name asking,
// and each finding names where it was seen.
#include "engine/findings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mxray::engine {
namespace {

std::vector<std::string> Ids(const DomainRecord& r) {
  std::vector<std::string> ids;
  for (const Finding& f : r.findings) ids.emplace_back(f.id);
  return ids;
}

std::shared_ptr<PortRecord> Port(uint16_t number, ProbeOutcome outcome) {
  auto p = std::make_shared<PortRecord>();
  p->port = number;
  p->state = PortState::kOpen;
  p->outcome = outcome;
  return p;
}

std::unique_ptr<tls::TlsFacts> Cert(std::vector<std::string> names) {
  auto t = std::make_unique<tls::TlsFacts>();
  t->version = "TLSv1.3";
  t->has_certificate = true;
  t->leaf.san_dns = std::move(names);
  t->verify.trusted = true;
  return t;
}

DomainRecord WithExchanges(std::vector<std::string> names, PortRecordPtr port) {
  DomainRecord r;
  for (std::string& name : names) {
    ExchangeRecord e;
    e.exchange = std::move(name);
    AddressRecord a;
    a.ip = *io::IpAddress::Parse("127.0.0.1");
    a.ports.push_back(port);
    e.addresses.push_back(std::move(a));
    r.mx.push_back(std::move(e));
  }
  return r;
}

TEST(JudgeDomainTest, OneSharedCertificateIsJudgedForEachExchangeName) {
  auto port = Port(25, ProbeOutcome::kOk);
  port->tls = Cert({"mx.provider.test"});
  DomainRecord r = WithExchanges({"mx.provider.test", "mail.customer.test"}, port);
  JudgeDomain(&r);
  const CertificateVerdict& good = r.mx[0].addresses[0].verdicts[0];
  const CertificateVerdict& bad = r.mx[1].addresses[0].verdicts[0];
  EXPECT_TRUE(good.judged);
  EXPECT_TRUE(good.hostname_match);
  EXPECT_EQ(good.status, "ok");
  EXPECT_FALSE(bad.hostname_match);
  EXPECT_EQ(bad.status, "hostname_mismatch");
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].id, "cert_hostname_mismatch");
  EXPECT_EQ(r.findings[0].severity, "medium");
  EXPECT_EQ(r.findings[0].exchange, 1);
  EXPECT_EQ(r.findings[0].address, 0);
  EXPECT_EQ(r.findings[0].port, 25);
}

TEST(JudgeDomainTest, EveryCertificateProblemIsItsOwnFinding) {
  auto port = Port(465, ProbeOutcome::kOk);
  auto t = Cert({"other.test"});
  t->version = "TLSv1";
  t->verify.trusted = false;
  t->verify.self_signed = true;
  t->verify.expired = true;
  port->tls = std::move(t);
  DomainRecord r = WithExchanges({"mx.example.test"}, port);
  JudgeDomain(&r);
  EXPECT_THAT(Ids(r), testing::ElementsAre("tls_legacy_version", "cert_expired", "cert_self_signed",
                                           "cert_hostname_mismatch"));
  EXPECT_EQ(r.mx[0].addresses[0].verdicts[0].status, "self_signed");  // the worst one
}

TEST(JudgeDomainTest, UntrustedNotYetValidChain) {
  auto port = Port(25, ProbeOutcome::kOk);
  auto t = Cert({"*.example.test"});
  t->verify.trusted = false;
  t->verify.not_yet_valid = true;
  port->tls = std::move(t);
  DomainRecord r = WithExchanges({"mx.example.test"}, port);
  JudgeDomain(&r);
  EXPECT_THAT(Ids(r), testing::ElementsAre("cert_not_yet_valid", "cert_untrusted"));
  EXPECT_EQ(r.mx[0].addresses[0].verdicts[0].status, "untrusted");
}

TEST(JudgeDomainTest, PlaintextFindings) {
  auto port = Port(587, ProbeOutcome::kStarttlsNotOffered);
  port->capabilities = EhloCapabilities{.auth = {"CRAM-MD5", "LOGIN"}};
  DomainRecord r = WithExchanges({"mx.example.test"}, port);
  JudgeDomain(&r);
  EXPECT_THAT(Ids(r), testing::ElementsAre("no_starttls", "auth_before_tls"));
  EXPECT_TRUE(r.mx[0].addresses[0].verdicts.empty());  // nothing to judge, nothing allocated
}

TEST(JudgeDomainTest, InjectionAndAuthOnlyInsideTlsAreToldApart) {
  auto port = Port(25, ProbeOutcome::kStarttlsInjection);
  port->capabilities = EhloCapabilities{.starttls = true, .auth = {"CRAM-MD5"}};
  port->capabilities_tls = EhloCapabilities{.auth = {"PLAIN", "LOGIN"}};  // fine: inside TLS
  port->injected = "250 x\r\n";
  port->tls = Cert({"mx.example.test"});
  DomainRecord r = WithExchanges({"mx.example.test"}, port);
  JudgeDomain(&r);
  EXPECT_THAT(Ids(r), testing::ElementsAre("starttls_injection"));
}

TEST(JudgeDomainTest, AFailedHandshakeIsNotJudged) {
  auto port = Port(25, ProbeOutcome::kTlsHandshakeFailed);
  port->tls = std::make_unique<tls::TlsFacts>();
  auto failed = std::make_unique<tls::TlsFacts>();
  failed->error = "WRONG_VERSION_NUMBER";
  port->tls = std::move(failed);
  DomainRecord r = WithExchanges({"mx.example.test"}, port);
  JudgeDomain(&r);
  EXPECT_TRUE(r.findings.empty());
  EXPECT_FALSE(r.mx[0].addresses[0].verdicts[0].judged);
}

TEST(JudgeDomainTest, ReputationFindingsNameTheAddressWithoutAPort) {
  auto zone = std::make_shared<DnsblZone>(DnsblZone{.zone = "zen.spamhaus.org", .passed = true});
  auto port = Port(25, ProbeOutcome::kOk);
  DomainRecord r = WithExchanges({"mx.example.test", "mx2.example.test"}, port);
  auto listed = std::make_shared<ReputationRecord>();
  DnsblResult pbl{.zone = zone};
  pbl.verdict.status = DnsblStatus::kListed;
  pbl.verdict.severity = "info";
  DnsblResult error{.zone = zone};
  error.verdict.status = DnsblStatus::kError;
  listed->dnsbl = {pbl, error};
  listed->ptr_status = io::DnsStatus::kOk;
  listed->ptr = {"host.example.test"};
  listed->fcrdns = false;
  r.mx[0].addresses[0].reputation = listed;
  auto unknown = std::make_shared<ReputationRecord>();
  unknown->ptr_status = io::DnsStatus::kServfail;  // nothing is known: no finding
  r.mx[1].addresses[0].reputation = unknown;
  JudgeDomain(&r);
  ASSERT_THAT(Ids(r), testing::ElementsAre("dnsbl_listed", "ptr_not_confirmed"));
  EXPECT_EQ(r.findings[0].severity, "info");
  EXPECT_EQ(r.findings[0].port, 0);
  EXPECT_EQ(r.findings[1].severity, "low");

  auto none = std::make_shared<ReputationRecord>();
  none->ptr_status = io::DnsStatus::kNxdomain;
  r.mx[1].addresses[0].reputation = none;
  JudgeDomain(&r);
  EXPECT_THAT(Ids(r), testing::ElementsAre("dnsbl_listed", "ptr_not_confirmed", "no_ptr"));
  EXPECT_EQ(r.findings[2].exchange, 1);
}

TEST(JudgeDomainTest, PtrIsComparedWithTheMxNameAndTheGreetingName) {
  auto port = Port(25, ProbeOutcome::kOk);
  port->banner = SmtpReply{.code = 220, .lines = {"smtp.provider.test ESMTP ready"}};
  DomainRecord r = WithExchanges({"mx.customer.test", "SMTP.Provider.test."}, port);
  auto rep = std::make_shared<ReputationRecord>();
  rep->ptr_status = io::DnsStatus::kOk;
  rep->ptr = {"smtp.provider.test"};
  rep->fcrdns = true;
  r.mx[0].addresses[0].reputation = rep;
  r.mx[1].addresses[0].reputation = rep;
  JudgeDomain(&r);
  const AddressRecord& vanity = r.mx[0].addresses[0];
  const AddressRecord& own = r.mx[1].addresses[0];
  EXPECT_EQ(vanity.ptr_matches_mx, false);
  EXPECT_EQ(vanity.ptr_matches_greeting, true);
  EXPECT_EQ(own.ptr_matches_mx, true);  // case and trailing dot do not matter
  EXPECT_EQ(own.ptr_matches_greeting, true);

  auto none = std::make_shared<ReputationRecord>();
  none->ptr_status = io::DnsStatus::kNxdomain;
  r.mx[0].addresses[0].reputation = none;
  JudgeDomain(&r);
  EXPECT_FALSE(r.mx[0].addresses[0].ptr_matches_mx.has_value());
  EXPECT_FALSE(r.mx[0].addresses[0].ptr_matches_greeting.has_value());
}

}  // namespace
}  // namespace mxray::engine
