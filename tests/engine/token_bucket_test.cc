// TokenBucket on a hand-driven clock: the --rate limiter's policy without waiting.
#include "engine/token_bucket.h"

#include <gtest/gtest.h>

namespace mxray::engine {
namespace {

constexpr uint64_t kMs = 1'000'000;

TEST(TokenBucketTest, UnlimitedWhenRateIsZero) {
  TokenBucket b(0, 0, 0);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(b.Take(0));
}

TEST(TokenBucketTest, BurstThenOneTokenPerInterval) {
  TokenBucket b(/*rate=*/100, /*burst=*/10, /*now=*/0);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(b.Take(0)) << i;
  EXPECT_FALSE(b.Take(0));
  EXPECT_EQ(b.NextAt(0), 10 * kMs + 1);
  EXPECT_FALSE(b.Take(9 * kMs));
  EXPECT_TRUE(b.Take(10 * kMs + 1));
  EXPECT_FALSE(b.Take(10 * kMs + 1));
}

TEST(TokenBucketTest, NeverSavesMoreThanTheBurst) {
  TokenBucket b(/*rate=*/100, /*burst=*/5, /*now=*/0);
  uint64_t later = 3600'000 * kMs;  // an hour idle
  int taken = 0;
  while (b.Take(later)) ++taken;
  EXPECT_EQ(taken, 5);
}

TEST(TokenBucketTest, LongRunAverageIsTheRate) {
  TokenBucket b(/*rate=*/250, /*burst=*/1, /*now=*/0);
  int taken = 0;
  for (uint64_t t = 0; t <= 4'000 * kMs; t += kMs / 10) taken += b.Take(t);
  EXPECT_NEAR(taken, 1001, 2);  // 4 s at 250/s, plus the one the bucket starts with
}

TEST(TokenBucketTest, BurstBelowOneStillLetsOneThrough) {
  TokenBucket b(/*rate=*/2, /*burst=*/0.2, /*now=*/0);
  EXPECT_TRUE(b.Take(0));
  EXPECT_FALSE(b.Take(0));
  EXPECT_TRUE(b.Take(500 * kMs + 1));
}

}  // namespace
}  // namespace mxray::engine
