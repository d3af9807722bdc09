// The fleet's population: deterministic names and kinds, every kind present even when small,
// names that parse back, loopback-only addresses, and the expectation lines' exact form.
#include "tools/fleet/population.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

namespace mxray::fleet {
namespace {

using ::testing::HasSubstr;

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
    // "each rare case at least a few per thousand"
    EXPECT_GE(count[k], p.size() * 25 / 10'000) << DomainKindName(DomainKind(k));
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
  Population p = Make(1, 100);
  std::string line;
  size_t i = *p.FirstOfKind(DomainKind::kNullMx);
  p.WriteExpectation(i, &line);
  EXPECT_EQ(line, "{\"domain\":\"" + p.DomainName(i) +
                      "\",\"kind\":\"null_mx\",\"status\":\"null_mx\",\"mx_source\":\"null_mx\","
                      "\"mx\":[]}");

  i = *p.FirstOfKind(DomainKind::kPlain);
  p.WriteExpectation(i, &line);
  size_t provider = p.ProviderOf(i);
  EXPECT_EQ(line, "{\"domain\":\"" + p.DomainName(i) +
                      "\",\"kind\":\"plain\",\"status\":\"ok\",\"mx_source\":\"mx\",\"mx\":["
                      "{\"preference\":10,\"exchange\":\"" +
                      Population::ProviderHost(provider, 1) +
                      "\",\"status\":\"ok\",\"addresses\":[\"" +
                      Population::AddressText(Population::ProviderAddress(provider, 1)) + "\"]}]}");

  i = *p.FirstOfKind(DomainKind::kInvalidName);
  p.WriteExpectation(i, &line);
  EXPECT_THAT(line, HasSubstr("\"exchange\":\"bad_name!.test\",\"status\":\"invalid_name\""));
  EXPECT_THAT(line, HasSubstr("\"exchange\":\"mail\\\\032host."));  // JSON-escaped backslash

  i = *p.FirstOfKind(DomainKind::kCnameDomain);
  p.WriteExpectation(i, &line);
  EXPECT_THAT(line, HasSubstr("\"mx_cname\":[\"real." + p.DomainName(i) + "\"]"));
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

}  // namespace
}  // namespace mxray::fleet
