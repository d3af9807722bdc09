// The connection-rate limiter (--rate): a token bucket on the caller's clock, so that the policy
// is a pure function of time and can be tested without waiting.
#ifndef MXRAY_ENGINE_TOKEN_BUCKET_H_
#define MXRAY_ENGINE_TOKEN_BUCKET_H_

#include <algorithm>
#include <cstdint>

namespace mxray::engine {

class TokenBucket {
 public:
  // `rate` tokens per second, at most `burst` saved up; rate <= 0 means unlimited. The bucket
  // starts full.
  TokenBucket(double rate, double burst, uint64_t now_ns)
      : rate_(rate), burst_(std::max(1.0, burst)), tokens_(burst_), at_ns_(now_ns) {}

  // Takes one token if there is one.
  bool Take(uint64_t now_ns) {
    if (rate_ <= 0) return true;
    Refill(now_ns);
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
  }

  // When the next token will be there (now_ns when one already is).
  uint64_t NextAt(uint64_t now_ns) {
    if (rate_ <= 0) return now_ns;
    Refill(now_ns);
    if (tokens_ >= 1) return now_ns;
    return now_ns + uint64_t((1 - tokens_) / rate_ * 1e9) + 1;
  }

 private:
  void Refill(uint64_t now_ns) {
    if (now_ns > at_ns_) {
      tokens_ = std::min(burst_, tokens_ + double(now_ns - at_ns_) * rate_ / 1e9);
      at_ns_ = now_ns;
    }
  }

  double rate_;
  double burst_;
  double tokens_;
  uint64_t at_ns_;
};

}  // namespace mxray::engine

#endif  // MXRAY_ENGINE_TOKEN_BUCKET_H_
