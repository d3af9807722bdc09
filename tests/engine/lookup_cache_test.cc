// LookupCache: joins lookups in flight, answers finished ones, stays within its capacity and
// keeps the entries that are used.
#include "engine/lookup_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mxray::engine {
namespace {

struct Fake {
  std::vector<std::pair<std::string, absl::AnyInvocable<void(int&&)>>> started;
};

LookupCache<int> Make(size_t capacity, Fake* fake) {
  return LookupCache<int>(capacity, [fake](const std::string& key, auto complete) {
    fake->started.emplace_back(key, std::move(complete));
  });
}

TEST(LookupCacheTest, IdenticalLookupsInFlightAreJoinedNotRepeated) {
  Fake fake;
  auto cache = Make(10, &fake);
  std::vector<int> got;
  for (int i = 0; i < 5; ++i)
    cache.Get("mx1.provider.test", [&](const int& v) { got.push_back(v); });
  ASSERT_EQ(fake.started.size(), 1u);
  EXPECT_TRUE(got.empty());
  fake.started[0].second(7);
  EXPECT_EQ(got, std::vector<int>(5, 7));
  EXPECT_EQ(cache.stats().joined, 4u);
}

TEST(LookupCacheTest, FinishedAnswerIsServedWithoutALookup) {
  Fake fake;
  auto cache = Make(10, &fake);
  cache.Get("a.test", [](const int&) {});
  fake.started[0].second(1);
  int got = 0;
  cache.Get("a.test", [&](const int& v) { got = v; });
  EXPECT_EQ(got, 1);
  EXPECT_EQ(fake.started.size(), 1u);
  EXPECT_EQ(cache.stats().hits, 1u);
}

TEST(LookupCacheTest, CapacityIsNeverExceededAndUsedEntriesSurvive) {
  Fake fake;
  auto cache = Make(4, &fake);
  cache.Get("hot.test", [](const int&) {});
  fake.started.back().second(0);
  for (int i = 0; i < 100; ++i) {
    cache.Get("hot.test", [](const int&) {});  // used between every newcomer
    cache.Get("cold" + std::to_string(i) + ".test", [](const int&) {});
    fake.started.back().second(int(i));
    EXPECT_LE(cache.size(), 4u);
  }
  size_t lookups_of_hot = 0;
  for (auto& [key, _] : fake.started) lookups_of_hot += key == "hot.test";
  EXPECT_EQ(lookups_of_hot, 1u);
  EXPECT_GT(cache.stats().evicted, 90u);
}

TEST(LookupCacheTest, ZeroCapacityStillJoinsInFlight) {
  Fake fake;
  auto cache = Make(0, &fake);
  int calls = 0;
  cache.Get("x.test", [&](const int&) { ++calls; });
  cache.Get("x.test", [&](const int&) { ++calls; });
  fake.started[0].second(3);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(cache.size(), 0u);
  cache.Get("x.test", [&](const int&) { ++calls; });
  EXPECT_EQ(fake.started.size(), 2u);
}

TEST(LookupCacheTest, WaiterMayStartLookupsWhileBeingAnswered) {
  Fake fake;
  auto cache = Make(2, &fake);
  int inner = -1;
  cache.Get("first.test", [&](const int& v) {
    for (int i = 0; i < 50; ++i) cache.Get("k" + std::to_string(i), [](const int&) {});
    inner = v;
  });
  fake.started[0].second(42);
  EXPECT_EQ(inner, 42);
}

}  // namespace
}  // namespace mxray::engine
