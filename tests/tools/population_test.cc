// The fleet's population: deterministic names and kinds, every kind present even when small,
// names that parse back, loopback-only addresses, the expectation lines' exact form, and the
// SMTP plan: which address serves what, its caps, and the port records it makes mxray expect.
#include "tools/fleet/population.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

namespace mxray::fleet {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

Population Make(uint64_t seed, size_t count, PopulationOptions options = {}) {
  options.seed = seed;
  options.domain_count = count;
  absl::StatusOr<Population> p = Population::Create(options);
  EXPECT_TRUE(p.ok()) << p.status();
  return *std::move(p);
}

TEST(PopulationTest, SameSeedSameNamesAndKinds) {
  Population a = Make(7, 5000);
  Population b = Make(7, 5000);
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a.DomainName(i), b.DomainName(i));
    ASSERT_EQ(a.Kind(i), b.Kind(i));
    ASSERT_EQ(a.ProviderOf(i), b.ProviderOf(i));
  }
}

TEST(PopulationTest, OtherSeedOtherNamesAndMix) {
  Population a = Make(1, 2000);
  Population b = Make(2, 2000);
  size_t same_names = 0, same_kinds = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    same_names += a.DomainName(i) == b.DomainName(i);
    same_kinds += a.Kind(i) == b.Kind(i);
  }
  EXPECT_LT(same_names, 10u);
  EXPECT_LT(same_kinds, 1900u);  // the first kDomainKindCount are the same by design
}

TEST(PopulationTest, EveryKindPresentInTheSmallestPopulation) {
  Population p = Make(3, kDomainKindCount);
  std::set<DomainKind> kinds;
  for (size_t i = 0; i < p.size(); ++i) kinds.insert(p.Kind(i));
  EXPECT_EQ(kinds.size(), kDomainKindCount);
  for (size_t k = 0; k < kDomainKindCount; ++k) {
    EXPECT_TRUE(p.FirstOfKind(DomainKind(k)).has_value()) << DomainKindName(DomainKind(k));
  }
}

TEST(PopulationTest, MixFollowsTheWeights) {
  Population p = Make(11, 200'000);
  std::vector<size_t> count(kDomainKindCount);
  for (size_t i = 0; i < p.size(); ++i) ++count[size_t(p.Kind(i))];
  for (size_t k = 0; k < kDomainKindCount; ++k) {
    double expected = double(DefaultKindWeight(DomainKind(k))) / 100'000 * double(p.size());
    EXPECT_NEAR(double(count[k]), expected, 5 * std::sqrt(expected) + 2)
        << DomainKindName(DomainKind(k));
    // "each rare case at least two per thousand"
    EXPECT_GE(count[k], p.size() * 17 / 10'000) << DomainKindName(DomainKind(k));
  }
}

TEST(PopulationTest, ZeroWeightRemovesAKindAndOverridesApply) {
  PopulationOptions options;
  options.kind_weights = {{DomainKind::kTimeout, 0}, {DomainKind::kExchangeTimeout, 0}};
  Population p = Make(5, 20'000, options);
  for (size_t i = 0; i < p.size(); ++i) {
    ASSERT_NE(p.Kind(i), DomainKind::kTimeout);
    ASSERT_NE(p.Kind(i), DomainKind::kExchangeTimeout);
  }
  PopulationOptions only_plain;
  for (size_t k = 1; k < kDomainKindCount; ++k)
    only_plain.kind_weights.push_back({DomainKind(k), 0});
  Population plain = Make(5, 1000, only_plain);
  for (size_t i = 0; i < plain.size(); ++i) ASSERT_EQ(plain.Kind(i), DomainKind::kPlain);

  PopulationOptions none;
  for (size_t k = 0; k < kDomainKindCount; ++k) none.kind_weights.push_back({DomainKind(k), 0});
  none.domain_count = 10;
  EXPECT_FALSE(Population::Create(none).ok());
}

TEST(PopulationTest, NamesParseBackAndNothingElseDoes) {
  Population p = Make(9, 3000);
  for (size_t i = 0; i < p.size(); ++i) {
    std::string name = p.DomainName(i);
    ASSERT_TRUE(name.ends_with(".test")) << name;
    std::string label = name.substr(0, name.size() - 5);
    ASSERT_EQ(p.FindDomain(label), i) << name;
  }
  std::string label = p.DomainName(42);
  label.resize(label.size() - 5);
  std::string wrong_tag = label;
  wrong_tag.back() = wrong_tag.back() == 'a' ? 'b' : 'a';
  EXPECT_FALSE(p.FindDomain(wrong_tag).has_value());
  EXPECT_FALSE(p.FindDomain("plain-3000-abcd").has_value());  // beyond the population
  EXPECT_FALSE(p.FindDomain("plain-007-abcd").has_value());
  EXPECT_FALSE(p.FindDomain("plain--abcd").has_value());
  EXPECT_FALSE(p.FindDomain("").has_value());
  // Another seed's name for the same index does not exist here.
  Population other = Make(10, 3000);
  std::string foreign = other.DomainName(42);
  foreign.resize(foreign.size() - 5);
  if (foreign != label) {
    EXPECT_FALSE(p.FindDomain(foreign).has_value());
  }
}

TEST(PopulationTest, NamesAreValidHostNames) {
  Population p = Make(4, 2000);
  for (size_t i = 0; i < p.size(); ++i) {
    std::string name = p.DomainName(i);
    for (char c : name) {
      ASSERT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.') << name;
    }
    ASSERT_LE(name.find('.'), 63u);
  }
}

TEST(PopulationTest, EveryAddressIsLoopback) {
  Population p = Make(6, 5000, {.provider_count = 1024});
  for (size_t i = 0; i < p.size(); ++i) {
    for (const ExpectedExchange& x : p.Expect(i).mx) {
      for (const std::string& a : x.addresses) {
        ASSERT_TRUE(a.starts_with("127.") || a == "::1") << a;
      }
    }
  }
  std::set<Ipv4> seen;
  for (size_t provider = 0; provider < 1024; ++provider) {
    for (int host = 1; host <= Population::kProviderHosts; ++host) {
      Ipv4 ip = Population::ProviderAddress(provider, host);
      ASSERT_EQ(ip[0], 127);
      ASSERT_EQ(ip[1], 1);
      ASSERT_NE(ip[3], 0);
      ASSERT_TRUE(seen.insert(ip).second) << Population::AddressText(ip);
    }
  }
}

TEST(PopulationTest, ExchangesAreSharedByManyDomains) {
  Population p = Make(8, 10'000);
  std::map<std::string, int> users;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p.Kind(i) == DomainKind::kPlain) ++users[p.Expect(i).mx[0].exchange];
  }
  EXPECT_EQ(users.size(), p.provider_count());
  for (const auto& [exchange, n] : users) EXPECT_GT(n, 100) << exchange;
}

TEST(PopulationTest, ExpectationLinesHaveTheDocumentedForm) {
  // Without SMTP the lines are the DNS expectations alone (the form before SMTP existed).
  Population p = Make(1, 100, {.smtp = {.enabled = false}});
  std::string line;
  size_t i = *p.FirstOfKind(DomainKind::kNullMx);
  p.WriteExpectation(i, &line);
  EXPECT_EQ(line, "{\"domain\":\"" + p.DomainName(i) +
                      "\",\"kind\":\"null_mx\",\"status\":\"null_mx\",\"mx_source\":\"null_mx\","
                      "\"mx\":[]}");

  i = *p.FirstOfKind(DomainKind::kPlain);
  p.WriteExpectation(i, &line);
  size_t provider = p.ProviderOf(i);
  // Each address's reputation comes with it, SMTP or not: its PTR and every DNSBL zone.
  EXPECT_EQ(line, "{\"domain\":\"" + p.DomainName(i) +
                      "\",\"kind\":\"plain\",\"status\":\"ok\",\"mx_source\":\"mx\",\"mx\":["
                      "{\"preference\":10,\"exchange\":\"" +
                      Population::ProviderHost(provider, 1) +
                      "\",\"status\":\"ok\",\"addresses\":[\"" +
                      Population::AddressText(Population::ProviderAddress(provider, 1)) +
                      "\"],\"reputation\":[{\"ptr_status\":\"ok\",\"ptr\":\"" +
                      Population::ProviderHost(provider, 1) +
                      "\",\"fcrdns\":true,\"dnsbl\":["
                      "{\"zone\":\"zen.dnsbl.fleet.test\",\"status\":\"not_listed\"},"
                      "{\"zone\":\"rewrite.dnsbl.fleet.test\",\"status\":\"not_listed\"},"
                      "{\"zone\":\"broken.dnsbl.fleet.test\",\"status\":\"unreliable\"},"
                      "{\"zone\":\"slow.dnsbl.fleet.test\",\"status\":\"unreliable\"},"
                      "{\"zone\":\"servfail.dnsbl.fleet.test\",\"status\":\"error\"}]}]}]}");

  i = *p.FirstOfKind(DomainKind::kDnsblMulti);
  p.WriteExpectation(i, &line);
  const std::string ip = p.Expect(i).mx[0].addresses[0];
  EXPECT_THAT(line, HasSubstr("{\"zone\":\"zen.dnsbl.fleet.test\",\"status\":\"listed\","
                              "\"codes\":[\"127.0.0.2\",\"127.0.0.4\"],"
                              "\"txt\":\"https://www.spamhaus.org/query/ip/" +
                              ip + "\"}"));
  i = *p.FirstOfKind(DomainKind::kPtrNone);
  p.WriteExpectation(i, &line);
  EXPECT_THAT(line, HasSubstr("\"reputation\":[{\"ptr_status\":\"nxdomain\",\"ptr\":\"\","
                              "\"fcrdns\":false,"));

  i = *p.FirstOfKind(DomainKind::kInvalidName);
  p.WriteExpectation(i, &line);
  EXPECT_THAT(line, HasSubstr("\"exchange\":\"bad_name!.test\",\"status\":\"invalid_name\""));
  EXPECT_THAT(line, HasSubstr("\"exchange\":\"mail\\\\032host."));  // JSON-escaped backslash

  i = *p.FirstOfKind(DomainKind::kCnameDomain);
  p.WriteExpectation(i, &line);
  EXPECT_THAT(line, HasSubstr("\"mx_cname\":[\"real." + p.DomainName(i) + "\"]"));
}

TEST(PopulationTest, ExpectationLinesCarryThePortsOfEachAddress) {
  Population p = Make(1, 100);
  std::string line;
  std::optional<size_t> postfix;
  for (size_t i = 0; i < p.size() && !postfix; ++i) {
    if (p.Kind(i) == DomainKind::kPlain && p.ProviderOf(i) % 4 == 0) postfix = i;
  }
  ASSERT_TRUE(postfix.has_value());
  p.WriteExpectation(*postfix, &line);
  const std::string tls =
      "\"tls_version\":\"TLSv1.3\",\"verify_status\":\"ok\",\"key_type\":\"RSA\","
      "\"key_bits\":2048,\"ehlo_tls\":true,\"auth_after_tls\":[],\"injected\":false}";
  const std::string esmtp =
      "\"state\":\"open\",\"outcome\":\"ok\",\"banner_code\":220,\"starttls\":true,\"auth\":[],"
      "\"size\":10240000,\"starttls_code\":220," +
      tls;
  EXPECT_THAT(line,
              HasSubstr("\"],\"ports\":[[{\"port\":25," + esmtp +
                        ",{\"port\":465,\"state\":\"open\",\"outcome\":\"ok\",\"banner_code\":"
                        "220,\"starttls\":false,\"auth\":[]," +
                        tls + ",{\"port\":587," + esmtp + "]],\"reputation\":["));

  size_t i = *p.FirstOfKind(DomainKind::kSmtpClosedPort);
  p.WriteExpectation(i, &line);
  EXPECT_THAT(line, HasSubstr("{\"port\":587,\"state\":\"closed\",\"outcome\":\"connect_refused\","
                              "\"starttls\":false,\"auth\":[],\"ehlo_tls\":false,"
                              "\"auth_after_tls\":[],\"injected\":false}"));
  i = *p.FirstOfKind(DomainKind::kStarttlsInjection);
  p.WriteExpectation(i, &line);
  EXPECT_THAT(line,
              HasSubstr("\"outcome\":\"starttls_injection\",\"banner_code\":220,"
                        "\"starttls\":true,\"auth\":[],\"size\":10240000,\"starttls_code\":220,"
                        "\"tls_version\":\"TLSv1.3\",\"verify_status\":\"ok\",\"key_type\":"
                        "\"EC\",\"key_bits\":256,\"ehlo_tls\":true,\"auth_after_tls\":[],"
                        "\"injected\":true}"));
  i = *p.FirstOfKind(DomainKind::kStarttls454);
  p.WriteExpectation(i, &line);
  EXPECT_THAT(line,
              HasSubstr("\"outcome\":\"starttls_rejected\",\"banner_code\":220,"
                        "\"starttls\":true,\"auth\":[],\"size\":10240000,\"starttls_code\":454,"
                        "\"ehlo_tls\":false,\"auth_after_tls\":[],\"injected\":false}"));
  i = *p.FirstOfKind(DomainKind::kDualStack);  // two addresses: two lists
  p.WriteExpectation(i, &line);
  EXPECT_THAT(line, HasSubstr("\"ports\":[[{\"port\":25,"));
  EXPECT_THAT(line, HasSubstr("}],[{\"port\":25,"));
  i = *p.FirstOfKind(DomainKind::kNxdomain);  // no exchange, no ports
  p.WriteExpectation(i, &line);
  EXPECT_THAT(line, Not(HasSubstr("ports")));
}

// The record each SMTP kind's host must produce, written out independently of smtp_plan.cc.
struct KindPorts {
  DomainKind kind;
  std::string_view outcome_25, outcome_587;
  int banner_code;
  std::string_view state_25 = "open", state_587 = "open";
};

TEST(PopulationTest, SmtpKindsPointAtTheirOwnHostsAndExpectTheirCase) {
  const KindPorts kTable[] = {
      {DomainKind::kSmtpHeloOnly, "ehlo_rejected", "ehlo_rejected", 220},
      {DomainKind::kSmtpSlowGreeting, "ok", "ok", 220},
      {DomainKind::kSmtpStalledGreeting, "banner_timeout", "banner_timeout", -1},
      {DomainKind::kSmtpGreeting421, "rate_limited", "rate_limited", 421},
      {DomainKind::kSmtpGreeting554, "banner_rejected", "banner_rejected", 554},
      {DomainKind::kSmtpEhlo421, "rate_limited", "rate_limited", 220},
      {DomainKind::kSmtpDrip, "banner_timeout", "banner_timeout", -1},
      {DomainKind::kSmtpSilent, "banner_timeout", "banner_timeout", -1},
      {DomainKind::kSmtpResetMidReply, "connection_reset", "connection_reset", 220},
      {DomainKind::kSmtpEndlessLine, "line_too_long", "line_too_long", 220},
      {DomainKind::kSmtpEndlessContinuation, "reply_too_large", "reply_too_large", 220},
      {DomainKind::kSmtpCodeChange, "protocol_error", "protocol_error", 220},
      {DomainKind::kSmtpEarlyTalker, "protocol_error", "protocol_error", 220},
      {DomainKind::kSmtpCloseAfterEhlo, "closed_early", "closed_early", 220},
      {DomainKind::kSmtpClosedPort, "ok", "connect_refused", 220, "open", "closed"},
      {DomainKind::kSmtpFilteredPort, "connect_timeout", "ok", 220, "filtered", "open"},
      {DomainKind::kSmtpPlain465, "ok", "ok", 220},
      {DomainKind::kSmtpSilentAfterEhlo, "command_timeout", "command_timeout", 220},
  };
  Population p = Make(2, 4000);
  size_t checked = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const DomainKind kind = p.Kind(i);
    if (!IsSmtpKind(kind) || IsTlsKind(kind) || IsReputationKind(kind)) continue;
    SCOPED_TRACE(p.DomainName(i));
    Expectation e = p.Expect(i);
    EXPECT_EQ(e.status, "ok");
    EXPECT_EQ(e.mx_source, "mx");
    ASSERT_THAT(e.mx, SizeIs(1));
    EXPECT_EQ(e.mx[0].exchange, "mx." + p.DomainName(i));
    ASSERT_THAT(e.mx[0].addresses, SizeIs(1));
    const std::string& ip = e.mx[0].addresses[0];
    const std::string prefix = "127.4." + std::to_string(int(kind)) + ".";
    ASSERT_TRUE(ip.starts_with(prefix)) << ip;
    const int n = std::stoi(ip.substr(prefix.size()));
    EXPECT_GE(n, 1);
    EXPECT_LE(n, 4);
    ASSERT_THAT(e.mx[0].ports, SizeIs(1));
    const std::vector<ExpectedPort>& ports = e.mx[0].ports[0];
    ASSERT_THAT(ports, SizeIs(3));
    EXPECT_EQ(ports[0].port, 25);
    EXPECT_EQ(ports[1].port, 465);
    EXPECT_EQ(ports[2].port, 587);
    // 465 is an ordinary implicit-TLS Postfix for the names it was issued to, which are not
    // mx.<domain>; except where 465 is the case.
    if (kind == DomainKind::kSmtpPlain465) {
      EXPECT_EQ(ports[1].outcome, "plaintext_on_tls_port");
      EXPECT_EQ(ports[1].banner_code, 220);
      EXPECT_EQ(ports[1].tls_version, "");
    } else {
      EXPECT_EQ(ports[1].state, "open");
      EXPECT_EQ(ports[1].outcome, "ok");
      EXPECT_EQ(ports[1].banner_code, 220);
      EXPECT_EQ(ports[1].tls_version, "TLSv1.3");
      EXPECT_EQ(ports[1].verify_status, "hostname_mismatch");
      EXPECT_EQ(ports[1].key_type, "RSA");
      EXPECT_TRUE(ports[1].ehlo_tls);
    }
    EXPECT_FALSE(ports[1].starttls);
    EXPECT_EQ(ports[1].starttls_code, -1);
    if (kind == DomainKind::kSmtpBadCode) {
      // "22O" on odd hosts leaves no code to keep; "2200" on even ones keeps 220.
      EXPECT_EQ(ports[0].outcome, "protocol_error");
      EXPECT_EQ(ports[0].banner_code, n % 2 == 1 ? -1 : 220);
      ++checked;
      continue;
    }
    const KindPorts* want = nullptr;
    for (const KindPorts& k : kTable) {
      if (k.kind == kind) want = &k;
    }
    ASSERT_NE(want, nullptr) << DomainKindName(kind);
    EXPECT_EQ(ports[0].state, want->state_25);
    EXPECT_EQ(ports[0].outcome, want->outcome_25);
    EXPECT_EQ(ports[2].state, want->state_587);
    EXPECT_EQ(ports[2].outcome, want->outcome_587);
    if (ports[0].state == "open") {
      EXPECT_EQ(ports[0].banner_code, want->banner_code);
    }
    for (const ExpectedPort& port : ports) {
      if (port.outcome != "ok" || port.port == 465) {
        EXPECT_FALSE(port.starttls);
        EXPECT_THAT(port.auth, IsEmpty());
        EXPECT_FALSE(port.size.has_value());
        if (port.port != 465) {
          EXPECT_EQ(port.tls_version, "");  // they fail before STARTTLS
        }
      } else {
        EXPECT_TRUE(port.starttls);  // the cases talk like Postfix otherwise
        EXPECT_EQ(port.size, 10240000u);
        EXPECT_EQ(port.starttls_code, 220);
        EXPECT_EQ(port.tls_version, "TLSv1.3");
        EXPECT_EQ(port.verify_status, "hostname_mismatch");  // mx.<domain> on a case's host
        EXPECT_TRUE(port.ehlo_tls);
      }
    }
    ++checked;
  }
  EXPECT_GT(checked, 19u);
}

// The record each TLS kind's host must produce, written out independently of smtp_plan.cc.
struct TlsKindPorts {
  DomainKind kind;
  std::string_view outcome_25, outcome_465;
  int starttls_code;
  std::string_view tls_version, verify_status, key_type;  // on 25 (and 465 unless noted)
  std::vector<std::string> auth, auth_after_tls;
  bool injected = false;
};

TEST(PopulationTest, TlsKindsUseTheirHostsNameAndExpectTheirCase) {
  const std::vector<std::string> none, plain_login = {"PLAIN", "LOGIN"};
  const TlsKindPorts kTable[] = {
      {DomainKind::kTlsExpired, "ok", "ok", 220, "TLSv1.3", "expired", "RSA", none, none},
      {DomainKind::kTlsNotYetValid, "ok", "ok", 220, "TLSv1.3", "not_yet_valid", "EC", none, none},
      {DomainKind::kTlsSelfSigned, "ok", "ok", 220, "TLSv1.3", "self_signed", "RSA", none, none},
      {DomainKind::kTlsUntrustedCa, "ok", "ok", 220, "TLSv1.3", "untrusted", "EC", none, none},
      {DomainKind::kTlsWrongName, "ok", "ok", 220, "TLSv1.3", "hostname_mismatch", "RSA", none,
       none},
      {DomainKind::kTlsWildcard, "ok", "ok", 220, "TLSv1.3", "ok", "EC", none, none},
      {DomainKind::kTls12Only, "ok", "ok", 220, "TLSv1.2", "ok", "RSA", none, none},
      {DomainKind::kTls10Only, "ok", "ok", 220, "TLSv1", "ok", "RSA", none, none},
      {DomainKind::kTlsRsa, "ok", "ok", 220, "TLSv1.3", "ok", "RSA", none, none},
      {DomainKind::kTlsEcdsa, "ok", "ok", 220, "TLSv1.3", "ok", "EC", none, none},
      {DomainKind::kStarttls454, "starttls_rejected", "ok", 454, "", "", "", none, none},
      {DomainKind::kStarttlsGarbage, "tls_handshake_failed", "tls_handshake_failed", 220, "", "",
       "", none, none},
      {DomainKind::kStarttlsInjection, "starttls_injection", "ok", 220, "TLSv1.3", "ok", "EC", none,
       none, true},
      {DomainKind::kTlsStall, "tls_timeout", "tls_timeout", 220, "", "", "", none, none},
      {DomainKind::kAuthAfterTls, "ok", "ok", 220, "TLSv1.3", "ok", "RSA", none, plain_login},
      {DomainKind::kAuthBeforeTls, "ok", "ok", 220, "TLSv1.3", "ok", "EC", plain_login,
       plain_login},
  };
  static_assert(std::size(kTable) == size_t(kLastTlsKind) + 1 - size_t(kFirstTlsKind));
  Population p = Make(2, 8000);
  std::set<DomainKind> seen;
  for (size_t i = 0; i < p.size(); ++i) {
    const DomainKind kind = p.Kind(i);
    if (!IsTlsKind(kind)) continue;
    SCOPED_TRACE(p.DomainName(i));
    const TlsKindPorts* want = nullptr;
    for (const TlsKindPorts& k : kTable) {
      if (k.kind == kind) want = &k;
    }
    ASSERT_NE(want, nullptr) << DomainKindName(kind);
    seen.insert(kind);
    Expectation e = p.Expect(i);
    EXPECT_EQ(e.status, "ok");
    ASSERT_THAT(e.mx, SizeIs(1));
    ASSERT_THAT(e.mx[0].addresses, SizeIs(1));
    const std::string& ip = e.mx[0].addresses[0];
    const std::string prefix = "127.4." + std::to_string(int(kind)) + ".";
    ASSERT_TRUE(ip.starts_with(prefix)) << ip;
    EXPECT_EQ(e.mx[0].exchange,
              std::string(DomainKindLabel(kind)) + "-" + ip.substr(prefix.size()) + ".fleet.test");
    EXPECT_EQ(e.mx[0].exchange, p.SmtpHostName(ip));
    const std::vector<ExpectedPort>& ports = e.mx[0].ports[0];
    for (size_t k : {0, 2}) {
      EXPECT_EQ(ports[k].outcome, want->outcome_25);
      EXPECT_EQ(ports[k].banner_code, 220);
      EXPECT_TRUE(ports[k].starttls);
      EXPECT_EQ(ports[k].auth, want->auth);
      EXPECT_EQ(ports[k].starttls_code, want->starttls_code);
      EXPECT_EQ(ports[k].tls_version, want->tls_version);
      EXPECT_EQ(ports[k].verify_status, want->verify_status);
      EXPECT_EQ(ports[k].key_type, want->key_type);
      EXPECT_EQ(ports[k].key_bits, want->key_type == "RSA"  ? 2048u
                                   : want->key_type == "EC" ? 256u
                                                            : 0u);
      EXPECT_EQ(ports[k].ehlo_tls, !want->tls_version.empty());
      EXPECT_EQ(ports[k].auth_after_tls, want->auth_after_tls);
      EXPECT_EQ(ports[k].injected, want->injected);
    }
    const ExpectedPort& tls = ports[1];
    EXPECT_EQ(tls.outcome, want->outcome_465);
    EXPECT_FALSE(tls.starttls);
    EXPECT_THAT(tls.auth, IsEmpty());
    EXPECT_EQ(tls.starttls_code, -1);
    EXPECT_FALSE(tls.injected);
    if (tls.outcome == "ok") {
      EXPECT_EQ(tls.banner_code, 220);
      EXPECT_EQ(tls.tls_version, want->tls_version.empty() ? "TLSv1.3" : want->tls_version);
      EXPECT_EQ(tls.verify_status, want->verify_status.empty() ? "ok" : want->verify_status);
      EXPECT_TRUE(tls.ehlo_tls);
      EXPECT_EQ(tls.auth_after_tls, want->auth_after_tls);
    } else {
      EXPECT_EQ(tls.banner_code, -1);  // the handshake failed: no greeting was read
      EXPECT_EQ(tls.tls_version, "");
      EXPECT_FALSE(tls.ehlo_tls);
    }
  }
  EXPECT_EQ(seen.size(), std::size(kTable));
}

TEST(PopulationTest, VerdictsAreJudgedAgainstEachDomainsExchange) {
  Population p = Make(1, kDomainKindCount);
  // A provider host's certificate is for the name its domains use.
  const std::string provider = Population::AddressText(Population::ProviderAddress(0, 1));
  EXPECT_EQ(p.ExpectPorts(provider, "mx1.provider-0.test")[0].verify_status, "ok");
  EXPECT_EQ(p.ExpectPorts(provider, "MX1.Provider-0.test.")[0].verify_status, "ok");
  EXPECT_EQ(p.ExpectPorts(provider, "mx.vanity.test")[0].verify_status, "hostname_mismatch");
  EXPECT_EQ(p.ExpectPorts(provider)[1].verify_status, "ok");  // its own name
  // An own-pool host is a shared host with a name of its own: mx.<domain> does not match.
  Expectation dual = p.Expect(*p.FirstOfKind(DomainKind::kDualStack));
  ASSERT_THAT(dual.mx[0].ports, SizeIs(2));
  ASSERT_EQ(dual.mx[0].addresses[1], "::1");
  EXPECT_EQ(dual.mx[0].ports[1][1].verify_status, "hostname_mismatch");
  EXPECT_EQ(p.ExpectPorts("127.2.0.1", "mx.some-domain.test")[1].verify_status,
            "hostname_mismatch");
  // A CNAME'd exchange is judged by the name the MX record gives, not the CNAME's target.
  Expectation cname = p.Expect(*p.FirstOfKind(DomainKind::kExchangeCname));
  EXPECT_EQ(cname.mx[0].ports[0][1].verify_status, "hostname_mismatch");
  // The wildcard matches one label only; precedence puts the chain's faults first.
  const std::string wildcard =
      Population::AddressText(Population::SmtpKindAddress(DomainKind::kTlsWildcard, 1));
  EXPECT_EQ(p.ExpectPorts(wildcard, "anything.fleet.test")[1].verify_status, "ok");
  EXPECT_EQ(p.ExpectPorts(wildcard, "a.b.fleet.test")[1].verify_status, "hostname_mismatch");
  EXPECT_EQ(p.ExpectPorts(wildcard, "fleet.test")[1].verify_status, "hostname_mismatch");
  const std::string expired =
      Population::AddressText(Population::SmtpKindAddress(DomainKind::kTlsExpired, 1));
  EXPECT_EQ(p.ExpectPorts(expired, "elsewhere.test")[1].verify_status, "expired");
}

TEST(PopulationTest, RfcNameMatching) {
  EXPECT_TRUE(DnsNameMatches("mx.example.test", "mx.example.test"));
  EXPECT_TRUE(DnsNameMatches("MX.Example.Test.", "mx.example.test"));
  EXPECT_TRUE(DnsNameMatches("mx.example.test", "*.example.test"));
  EXPECT_FALSE(DnsNameMatches("a.mx.example.test", "*.example.test"));
  EXPECT_FALSE(DnsNameMatches("example.test", "*.example.test"));
  EXPECT_FALSE(DnsNameMatches("x.test", "*.test"));  // too wide to be honoured
  EXPECT_FALSE(DnsNameMatches("mx.example.test", "m*.example.test"));
  EXPECT_FALSE(DnsNameMatches("", "*.example.test"));
  EXPECT_FALSE(DnsNameMatches("mx.example.test", ""));
  EXPECT_THAT(CertDnsNames(TlsCert::kWildcard, "tls-wildcard-1.fleet.test"),
              ElementsAre("*.fleet.test"));
  EXPECT_THAT(CertDnsNames(TlsCert::kValid, "mx1.provider-0.test"),
              ElementsAre("mx1.provider-0.test"));
  EXPECT_THAT(CertDnsNames(TlsCert::kWrongName, "x.fleet.test"),
              ElementsAre(std::string(kWrongCertName)));
}

TEST(PopulationTest, OrdinaryFlavoursVaryByProvider) {
  Population p = Make(1, 100);
  auto port25 = [&](size_t provider) {
    return p.ExpectPorts(Population::AddressText(Population::ProviderAddress(provider, 1)))[0];
  };
  EXPECT_EQ(port25(0).size, 10240000u);  // Postfix
  EXPECT_TRUE(port25(0).starttls);
  EXPECT_THAT(port25(0).auth, IsEmpty());
  EXPECT_THAT(port25(0).auth_after_tls, IsEmpty());
  EXPECT_EQ(port25(0).key_type, "RSA");
  EXPECT_EQ(port25(1).size, 52428800u);  // Exim
  EXPECT_THAT(port25(1).auth, ElementsAre("PLAIN", "LOGIN"));
  EXPECT_THAT(port25(1).auth_after_tls, ElementsAre("PLAIN", "LOGIN"));
  EXPECT_EQ(port25(1).key_type, "EC");
  EXPECT_EQ(port25(1).key_bits, 256u);
  EXPECT_EQ(port25(2).size, 157286400u);  // Microsoft: "AUTH GSSAPI NTLM" and "AUTH=LOGIN"
  EXPECT_THAT(port25(2).auth, ElementsAre("GSSAPI", "NTLM", "LOGIN"));
  EXPECT_THAT(port25(2).auth_after_tls, ElementsAre("GSSAPI", "NTLM", "LOGIN"));
  EXPECT_EQ(port25(2).key_type, "RSA");
  EXPECT_EQ(port25(2).key_bits, 2048u);
  for (size_t provider : {0, 1, 2}) {
    EXPECT_EQ(port25(provider).outcome, "ok");
    EXPECT_EQ(port25(provider).starttls_code, 220);
    EXPECT_EQ(port25(provider).tls_version, "TLSv1.3");
    EXPECT_EQ(port25(provider).verify_status, "ok");
    EXPECT_TRUE(port25(provider).ehlo_tls);
  }
  EXPECT_FALSE(port25(3).size.has_value());  // "250 name" only
  EXPECT_FALSE(port25(3).starttls);
  EXPECT_EQ(port25(3).outcome, "starttls_not_offered");
  EXPECT_EQ(port25(3).starttls_code, -1);
  EXPECT_EQ(port25(3).tls_version, "");
  // ...but it serves implicit TLS on 465.
  const ExpectedPort minimal465 =
      p.ExpectPorts(Population::AddressText(Population::ProviderAddress(3, 1)))[1];
  EXPECT_EQ(minimal465.outcome, "ok");
  EXPECT_EQ(minimal465.key_type, "EC");
  EXPECT_TRUE(minimal465.ehlo_tls);
  EXPECT_EQ(p.ExpectPorts("::1")[0].size, 10240000u);
}

TEST(PopulationTest, SmtpPlanCapsAndItsOutside) {
  Population p =
      Make(1, 1000, {.provider_count = 300, .smtp = {.provider_hosts = 9, .own_addresses = 5}});
  auto state = [&](const Ipv4& ip) {
    return std::string(p.ExpectPorts(Population::AddressText(ip))[0].state);
  };
  EXPECT_EQ(state(Population::ProviderAddress(2, 3)), "open");    // host 8
  EXPECT_EQ(state(Population::ProviderAddress(3, 1)), "closed");  // host 9: past the cap
  EXPECT_EQ(state({127, 2, 0, 5}), "open");
  EXPECT_EQ(state({127, 2, 0, 6}), "closed");
  EXPECT_EQ(state(Population::BulkAddress(99)), "open");
  EXPECT_EQ(state({127, 3, 0, 101}), "closed");
  EXPECT_EQ(state({127, 4, uint8_t(DomainKind::kSmtpDrip), 4}), "open");
  EXPECT_EQ(state({127, 4, uint8_t(DomainKind::kSmtpDrip), 5}), "closed");  // hosts_per_kind 4
  EXPECT_EQ(state({127, 4, uint8_t(DomainKind::kPlain), 1}), "closed");
  EXPECT_EQ(state({127, 0, 0, 1}), "closed");
  EXPECT_EQ(p.ExpectPorts("::1")[0].state, "open");
  EXPECT_EQ(p.ExpectPorts("::2")[0].state, "closed");
  EXPECT_EQ(p.ExpectPorts("not an address")[0].outcome, "connect_refused");
  std::vector<std::string> addresses = p.SmtpAddresses();
  EXPECT_EQ(addresses.size(), 9u + 5u + 100u + 1u + 45u * 4u);
  for (const std::string& a : addresses) {
    EXPECT_NE(p.ExpectPorts(a)[1].state, "closed") << a;  // every planned address listens on 465
  }
  // Every address the expectations hand out either is in the plan or refuses connections.
  std::set<std::string> planned(addresses.begin(), addresses.end());
  for (size_t i = 0; i < p.size(); ++i) {
    for (const ExpectedExchange& x : p.Expect(i).mx) {
      ASSERT_EQ(x.ports.size(), x.addresses.size());
      for (size_t a = 0; a < x.addresses.size(); ++a) {
        if (!planned.contains(x.addresses[a])) {
          EXPECT_EQ(x.ports[a][0].outcome, "connect_refused") << x.addresses[a];
        }
      }
    }
  }
}

TEST(PopulationTest, SmtpSocketsStayWithinTheDescriptorBudget) {
  // The largest population by default: 1024 providers, every cap at its default.
  Population p = Make(1, 1000, {.provider_count = 1024});
  size_t sockets = 0;
  for (const std::string& a : p.SmtpAddresses()) {
    for (SmtpBehaviour b : p.SmtpBehavioursAt(a)) sockets += b != SmtpBehaviour::kNone;
  }
  EXPECT_LE(sockets, 4000u);
  EXPECT_GT(sockets, 3000u);
}

TEST(PopulationTest, SmtpDisabledExpectsNoPorts) {
  Population p = Make(1, 200, {.smtp = {.enabled = false}});
  EXPECT_THAT(p.SmtpAddresses(), IsEmpty());
  for (size_t i = 0; i < p.size(); ++i) {
    for (const ExpectedExchange& x : p.Expect(i).mx) EXPECT_THAT(x.ports, IsEmpty());
  }
}

TEST(PopulationTest, AggregateStatusesOfTheExchangeKinds) {
  Population p = Make(1, kDomainKindCount);
  auto status = [&](DomainKind k) { return std::string(p.Expect(*p.FirstOfKind(k)).status); };
  EXPECT_EQ(status(DomainKind::kExchangeTimeout), "dns_timeout");
  EXPECT_EQ(status(DomainKind::kExchangeServfail), "dns_error");
  EXPECT_EQ(status(DomainKind::kExchangeNxdomain), "no_mail_host");
  EXPECT_EQ(status(DomainKind::kExchangeNodata), "no_mail_host");
  EXPECT_EQ(status(DomainKind::kExchangeCnameLoop), "dns_error");  // a broken zone
  EXPECT_EQ(status(DomainKind::kIpLiteral), "no_mail_host");
  EXPECT_EQ(status(DomainKind::kNullMxMixed), "ok");
  EXPECT_EQ(status(DomainKind::kCnameLoop), "dns_error");
  EXPECT_EQ(status(DomainKind::kForeignOwner), "ok");
  EXPECT_EQ(p.Expect(*p.FirstOfKind(DomainKind::kForeignOwner)).mx_source, "implicit");
}

TEST(PopulationTest, CapsShapeTheOversizedExpectations) {
  Population p = Make(1, kDomainKindCount);
  Expectation mx = p.Expect(*p.FirstOfKind(DomainKind::kOversizedMx));
  EXPECT_TRUE(mx.mx_truncated);
  ASSERT_EQ(mx.mx.size(), size_t(Population::kOversizedMxCount));
  EXPECT_EQ(mx.mx[15].status, "ok");
  EXPECT_EQ(mx.mx[16].status, "skipped");
  EXPECT_TRUE(mx.mx[16].addresses.empty());
  Expectation a = p.Expect(*p.FirstOfKind(DomainKind::kOversizedA));
  EXPECT_TRUE(a.mx[0].addresses_truncated);
  EXPECT_EQ(a.mx[0].addresses.size(), 16u);

  Population roomy = Make(1, kDomainKindCount, {.max_exchanges = 64, .max_addresses = 128});
  mx = roomy.Expect(*roomy.FirstOfKind(DomainKind::kOversizedMx));
  EXPECT_FALSE(mx.mx_truncated);
  EXPECT_EQ(mx.mx[39].status, "ok");
  a = roomy.Expect(*roomy.FirstOfKind(DomainKind::kOversizedA));
  EXPECT_FALSE(a.mx[0].addresses_truncated);
  EXPECT_EQ(a.mx[0].addresses.size(), size_t(Population::kOversizedACount));
}

TEST(PopulationTest, HugePopulationsCostNothingUpFront) {
  Population p = Make(1, 2'000'000);
  EXPECT_EQ(p.FindDomain(p.DomainName(1'999'999).substr(0, p.DomainName(1'999'999).size() - 5)),
            1'999'999u);
  EXPECT_FALSE(Population::Create({.domain_count = 0}).ok());
}

// ---------------------------------------------------------------------------------------------
// Reputation: the verdicts each reputation kind's host must get, written out independently of
// reputation_plan.cc.

struct KindReputation {
  DomainKind kind;
  std::string_view zen;
  std::vector<std::string> zen_codes;
  bool zen_txt;
  std::string_view rewrite;
  std::vector<std::string> rewrite_codes;
  bool ptr;
  bool fcrdns;
};

TEST(PopulationReputationTest, ReputationKindsExpectTheirVerdicts) {
  const std::vector<std::string> none;
  const KindReputation kTable[] = {
      {DomainKind::kDnsblListed, "listed", {"127.0.0.2"}, true, "not_listed", none, true, true},
      {DomainKind::kDnsblMulti,
       "listed",
       {"127.0.0.2", "127.0.0.4"},
       true,
       "not_listed",
       none,
       true,
       true},
      {DomainKind::kDnsblPbl, "listed", {"127.0.0.10"}, true, "not_listed", none, true, true},
      {DomainKind::kDnsblError252,
       "error",
       {"127.255.255.252"},
       false,
       "not_listed",
       none,
       true,
       true},
      {DomainKind::kDnsblError254,
       "error",
       {"127.255.255.254"},
       false,
       "not_listed",
       none,
       true,
       true},
      {DomainKind::kDnsblError255,
       "error",
       {"127.255.255.255"},
       false,
       "not_listed",
       none,
       true,
       true},
      {DomainKind::kDnsblRewritten,
       "not_listed",
       none,
       false,
       "unknown",
       {"198.51.100.7"},
       true,
       true},
      {DomainKind::kPtrUnconfirmed, "not_listed", none, false, "not_listed", none, true, false},
      {DomainKind::kPtrNone, "not_listed", none, false, "not_listed", none, false, false},
      {DomainKind::kSmtp421ThenOk, "not_listed", none, false, "not_listed", none, true, true},
  };
  static_assert(std::size(kTable) == kDomainKindCount - size_t(kFirstReputationKind));
  Population p = Make(3, 10'000);
  std::set<DomainKind> seen;
  for (size_t i = 0; i < p.size(); ++i) {
    const DomainKind kind = p.Kind(i);
    if (!IsReputationKind(kind)) continue;
    ASSERT_TRUE(IsSmtpKind(kind));
    ASSERT_FALSE(IsTlsKind(kind));
    SCOPED_TRACE(p.DomainName(i));
    const KindReputation* want = nullptr;
    for (const KindReputation& k : kTable) {
      if (k.kind == kind) want = &k;
    }
    ASSERT_NE(want, nullptr) << DomainKindName(kind);
    seen.insert(kind);
    const Expectation e = p.Expect(i);
    EXPECT_EQ(e.status, "ok");
    ASSERT_THAT(e.mx, SizeIs(1));
    EXPECT_EQ(e.mx[0].exchange, "mx." + p.DomainName(i));
    ASSERT_THAT(e.mx[0].addresses, SizeIs(1));
    const std::string& ip = e.mx[0].addresses[0];
    const std::string prefix = "127.4." + std::to_string(int(kind)) + ".";
    ASSERT_TRUE(ip.starts_with(prefix)) << ip;
    const std::string host_name =
        std::string(DomainKindLabel(kind)) + "-" + ip.substr(prefix.size()) + ".fleet.test";

    ASSERT_THAT(e.mx[0].reputation, SizeIs(1));
    const ExpectedReputation& r = e.mx[0].reputation[0];
    EXPECT_EQ(r.ptr_status, want->ptr ? "ok" : "nxdomain");
    EXPECT_EQ(r.ptr, want->ptr ? host_name : "");
    EXPECT_EQ(r.fcrdns, want->fcrdns);
    ASSERT_THAT(r.dnsbl, SizeIs(5));
    EXPECT_EQ(r.dnsbl[0].zone, "zen.dnsbl.fleet.test");
    EXPECT_EQ(r.dnsbl[0].status, want->zen);
    EXPECT_EQ(r.dnsbl[0].codes, want->zen_codes);
    EXPECT_EQ(r.dnsbl[0].txt, want->zen_txt ? "https://www.spamhaus.org/query/ip/" + ip : "");
    EXPECT_EQ(r.dnsbl[1].zone, "rewrite.dnsbl.fleet.test");
    EXPECT_EQ(r.dnsbl[1].status, want->rewrite);
    EXPECT_EQ(r.dnsbl[1].codes, want->rewrite_codes);
    EXPECT_EQ(r.dnsbl[1].txt, "");
    // The zones that fail their self-test say nothing trusted; the SERVFAIL one errs everywhere.
    for (size_t z : {2, 3}) {
      EXPECT_EQ(r.dnsbl[z].status, "unreliable") << r.dnsbl[z].zone;
      EXPECT_THAT(r.dnsbl[z].codes, IsEmpty());
      EXPECT_EQ(r.dnsbl[z].txt, "");
    }
    EXPECT_EQ(r.dnsbl[4].zone, "servfail.dnsbl.fleet.test");
    EXPECT_EQ(r.dnsbl[4].status, "error");
    EXPECT_THAT(r.dnsbl[4].codes, IsEmpty());

    // The hosts are ordinary Postfix servers for another name than mx.<domain>; the retry case
    // takes greeting_421_connections + 1 connections on 25 and 587.
    ASSERT_THAT(e.mx[0].ports, SizeIs(1));
    const std::vector<ExpectedPort>& ports = e.mx[0].ports[0];
    ASSERT_THAT(ports, SizeIs(3));
    for (const ExpectedPort& port : ports) {
      SCOPED_TRACE(port.port);
      EXPECT_EQ(port.outcome, "ok");
      EXPECT_EQ(port.banner_code, 220);
      EXPECT_EQ(port.tls_version, "TLSv1.3");
      EXPECT_EQ(port.verify_status, "hostname_mismatch");
      EXPECT_TRUE(port.ehlo_tls);
      const bool retried = kind == DomainKind::kSmtp421ThenOk && port.port != 465;
      EXPECT_EQ(port.attempts, retried ? 3u : 1u);
      if (port.port != 465) {
        EXPECT_EQ(port.size, 10240000u);
        EXPECT_TRUE(port.starttls);
      }
    }
  }
  EXPECT_EQ(seen.size(), std::size(kTable));
}

TEST(PopulationReputationTest, EveryAddressHandedOutHasAPtrToItsHostName) {
  Population p = Make(4, 6000);
  size_t checked = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const DomainKind kind = p.Kind(i);
    for (const ExpectedExchange& x : p.Expect(i).mx) {
      ASSERT_EQ(x.reputation.size(), x.addresses.size());
      for (size_t a = 0; a < x.addresses.size(); ++a) {
        const std::string& ip = x.addresses[a];
        const ExpectedReputation& r = x.reputation[a];
        SCOPED_TRACE(ip);
        ++checked;
        if (kind == DomainKind::kPtrNone) {
          EXPECT_EQ(r.ptr, "");
          EXPECT_EQ(r.ptr_status, "nxdomain");
          EXPECT_FALSE(r.fcrdns);
          continue;
        }
        // The name the server gives itself, the one its certificate is for.
        EXPECT_EQ(r.ptr, p.SmtpHostName(ip));
        EXPECT_EQ(r.ptr_status, "ok");
        const std::vector<std::string> forward = p.ForwardAddresses(r.ptr);
        if (kind == DomainKind::kPtrUnconfirmed) {
          EXPECT_FALSE(r.fcrdns);
          ASSERT_THAT(forward, SizeIs(1));
          EXPECT_EQ(forward[0], "127.5." + ip.substr(6));  // 127.4.K.n -> 127.5.K.n
        } else {
          EXPECT_TRUE(r.fcrdns);
          EXPECT_THAT(forward, ::testing::ElementsAre(ip));
        }
      }
    }
  }
  EXPECT_GT(checked, 6000u);
  EXPECT_EQ(p.PtrName("::1"), "mx-ipv6.fleet.test");
  EXPECT_THAT(p.ForwardAddresses("mx-ipv6.fleet.test"), ElementsAre("::1"));
  EXPECT_TRUE(p.ExpectReputation("::1").fcrdns);
  EXPECT_EQ(p.PtrName("127.2.3.250"), "mx-127-2-3-250.fleet.test");  // beyond the SMTP plan
  EXPECT_THAT(p.ForwardAddresses("mx-127-2-3-250.fleet.test"), ElementsAre("127.2.3.250"));
  EXPECT_EQ(p.PtrName("127.3.0.100"), "mx-127-3-0-100.fleet.test");
  // Addresses the population never hands out have no PTR.
  const std::string past_hosts = Population::AddressText(
      Population::SmtpKindAddress(DomainKind::kDnsblListed, p.options().smtp.hosts_per_kind + 1));
  const std::string past_providers =
      Population::AddressText(Population::ProviderAddress(p.provider_count(), 1));
  for (const std::string& ip :
       {std::string("127.0.0.1"), std::string("127.0.0.2"), std::string("127.4.0.1"), past_hosts,
        past_providers, std::string("127.2.4.1"), std::string("127.2.0.251"),
        std::string("127.3.0.101"), std::string("127.3.1.1"), std::string("127.5.75.1"),
        std::string("10.0.0.1"), std::string("::2"), std::string("not an address")}) {
    EXPECT_EQ(p.PtrName(ip), "") << ip;
    EXPECT_EQ(p.ExpectReputation(ip).ptr_status, "nxdomain") << ip;
  }
  // Names that are not the one spelling of a host resolve to nothing.
  for (const char* name :
       {"mx-127-2-0-05.fleet.test", "mx-127-2-4-1.fleet.test", "mx-127-3-1-1.fleet.test",
        "mx-127-3-0-101.fleet.test", "mx-127-1-0-1.fleet.test", "mx-127-2-0-0.fleet.test",
        "mx0.provider-0.test", "mx4.provider-0.test", "mx1.provider-01.test",
        "ptr-none-0.fleet.test", "mx-ipv6.fleet.test.example"}) {
    EXPECT_THAT(p.ForwardAddresses(name), IsEmpty()) << name;
  }
}

TEST(PopulationReputationTest, TheZonesAndTheirSelfTests) {
  struct Zone {
    std::string_view zone, profile;
    bool passed;
    std::string_view listed_probe, unlisted_probe;
  };
  const Zone kZones[] = {
      {"zen.dnsbl.fleet.test", "spamhaus-zen", true, "listed", "nxdomain"},
      {"rewrite.dnsbl.fleet.test", "generic", true, "listed", "nxdomain"},
      {"broken.dnsbl.fleet.test", "generic", false, "nxdomain", "listed"},
      {"slow.dnsbl.fleet.test", "generic", false, "timeout", "timeout"},
      {"servfail.dnsbl.fleet.test", "generic", true, "listed", "nxdomain"},
  };
  const std::vector<ExpectedDnsblZone> zones = Population::ExpectDnsblZones();
  ASSERT_THAT(zones, SizeIs(std::size(kZones)));
  for (size_t z = 0; z < zones.size(); ++z) {
    SCOPED_TRACE(kZones[z].zone);
    EXPECT_EQ(zones[z].zone, kZones[z].zone);
    EXPECT_EQ(kDnsblZones[z], kZones[z].zone);
    EXPECT_EQ(DnsblZoneFromName(kZones[z].zone), DnsblZone(z));
    EXPECT_EQ(zones[z].profile, kZones[z].profile);
    EXPECT_EQ(zones[z].passed, kZones[z].passed);
    EXPECT_EQ(zones[z].listed_probe, kZones[z].listed_probe);
    EXPECT_EQ(zones[z].unlisted_probe, kZones[z].unlisted_probe);
  }
  EXPECT_FALSE(DnsblZoneFromName("dnsbl.fleet.test").has_value());
  // IPv6 is listed nowhere; the IPv6 form of the self-test is answered like the IPv4 one.
  EXPECT_EQ(ExpectDnsbl(DnsblZone::kZen, "::1").status, "not_listed");
  EXPECT_EQ(ExpectDnsbl(DnsblZone::kZen, "::ffff:127.0.0.2").status, "listed");
  EXPECT_EQ(ExpectDnsbl(DnsblZone::kZen, "::ffff:127.0.0.2").txt,
            "https://www.spamhaus.org/query/ip/::ffff:127.0.0.2");
  EXPECT_EQ(ExpectDnsbl(DnsblZone::kZen, "::ffff:127.0.0.1").status, "not_listed");
  EXPECT_EQ(ExpectDnsbl(DnsblZone::kRewrite, "127.0.0.2").txt,
            "https://rewrite.dnsbl.fleet.test/query/ip/127.0.0.2");
  // A listed host is listed whatever its number; its neighbours in other ranges are not.
  EXPECT_EQ(
      ExpectDnsbl(DnsblZone::kZen, "127.4." + std::to_string(int(DomainKind::kDnsblPbl)) + ".200")
          .status,
      "listed");
  EXPECT_EQ(
      ExpectDnsbl(DnsblZone::kZen, "127.5." + std::to_string(int(DomainKind::kDnsblPbl)) + ".1")
          .status,
      "not_listed");
}

TEST(PopulationReputationTest, RetriesFollowTheConfiguredCount) {
  const std::string host =
      Population::AddressText(Population::SmtpKindAddress(DomainKind::kSmtp421ThenOk, 1));
  Population p = Make(1, 100);
  std::vector<ExpectedPort> ports = p.ExpectPorts(host);
  EXPECT_EQ(ports[0].attempts, 3u);
  EXPECT_EQ(ports[1].attempts, 1u);  // 465 is an ordinary implicit-TLS Postfix
  EXPECT_EQ(ports[2].attempts, 3u);
  EXPECT_EQ(ports[0].outcome, "ok");
  Population five = Make(1, 100, {.smtp = {.greeting_421_connections = 5}});
  EXPECT_EQ(five.ExpectPorts(host)[0].attempts, 6u);
  std::string line;
  p.WriteExpectation(*p.FirstOfKind(DomainKind::kSmtp421ThenOk), &line);
  EXPECT_THAT(line, HasSubstr("\"injected\":false,\"attempts\":3}"));
  p.WriteExpectation(*p.FirstOfKind(DomainKind::kPlain), &line);
  EXPECT_THAT(line, Not(HasSubstr("attempts")));
}

}  // namespace
}  // namespace mxray::fleet
