// Shares DNS lookups between domains: an identical lookup in flight is joined, not repeated, and
// finished answers are kept in a bounded cache (CLOCK eviction: an entry used since it was last
// considered gets a second chance), so a million domains on a few providers resolve each
// provider's exchanges once while one-off names pass through.
#ifndef MXRAY_ENGINE_LOOKUP_CACHE_H_
#define MXRAY_ENGINE_LOOKUP_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"

namespace mxray::engine {

struct LookupCacheStats {
  uint64_t hits = 0;    // answered from a finished entry
  uint64_t joined = 0;  // waited for a lookup already in flight
  uint64_t misses = 0;  // started a lookup
  uint64_t evicted = 0;
};

template <typename Answer>
class LookupCache {
 public:
  using Callback = absl::AnyInvocable<void(const Answer&)>;
  // Starts the real lookup for a key; must call the given completion exactly once, later.
  using Starter =
      absl::AnyInvocable<void(const std::string& key, absl::AnyInvocable<void(Answer&&)> complete)>;

  LookupCache(size_t capacity, Starter starter)
      : capacity_(capacity), starter_(std::move(starter)) {}

  void Get(std::string_view key, Callback done) {
    // This abseil has its own string_view type, distinct from std::string_view.
    auto [it, inserted] = entries_.try_emplace(absl::string_view(key.data(), key.size()));
    Entry& e = it->second;
    if (!inserted) {
      if (e.done) {
        ++stats_.hits;
        e.referenced = true;
        done(e.answer);
      } else {
        ++stats_.joined;
        e.waiters.push_back(std::move(done));
      }
      return;
    }
    ++stats_.misses;
    e.waiters.push_back(std::move(done));
    std::string k(key);
    starter_(k, [this, k](Answer&& answer) { Complete(k, std::move(answer)); });
  }

  size_t size() const { return entries_.size(); }
  const LookupCacheStats& stats() const { return stats_; }

 private:
  struct Entry {
    bool done = false;
    bool referenced = false;
    Answer answer;
    std::vector<Callback> waiters;
  };

  void Complete(const std::string& key, Answer&& answer) {
    auto it = entries_.find(key);
    if (it == entries_.end()) return;
    std::vector<Callback> waiters = std::move(it->second.waiters);
    if (capacity_ == 0) {
      entries_.erase(it);
      for (auto& w : waiters) w(answer);
      return;
    }
    it->second.done = true;
    it->second.answer = std::move(answer);
    order_.push_back(key);
    // Waiters may add entries, which can move or evict this one: hand them a stable copy.
    Answer copy = it->second.answer;
    Evict();
    for (auto& w : waiters) w(copy);
  }

  void Evict() {
    while (order_.size() > capacity_) {
      auto it = entries_.find(order_.front());
      if (it != entries_.end() && it->second.referenced) {
        it->second.referenced = false;
        order_.push_back(std::move(order_.front()));
      } else if (it != entries_.end() && it->second.done) {
        entries_.erase(it);
        ++stats_.evicted;
      }
      order_.pop_front();
    }
  }

  size_t capacity_;
  Starter starter_;
  absl::flat_hash_map<std::string, Entry> entries_;
  std::deque<std::string> order_;  // finished keys, oldest first
  LookupCacheStats stats_;
};

}  // namespace mxray::engine

#endif  // MXRAY_ENGINE_LOOKUP_CACHE_H_
