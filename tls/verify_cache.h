// Chain verdicts already reached in this run, keyed by the certificates the server sent. A
// provider presents one chain on hundreds of addresses; verifying it once (two or three signature
// checks, the largest part of a probe's client-side TLS cost after the handshake itself) is
// enough. Dates are judged again at every use, so a certificate that expires during a long run is
// reported expired from then on. One loop's thread only.
#ifndef MXRAY_TLS_VERIFY_CACHE_H_
#define MXRAY_TLS_VERIFY_CACHE_H_

#include <openssl/x509.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "tls/tls_facts.h"

namespace mxray::tls {

class VerifyCache {
 public:
  explicit VerifyCache(size_t capacity = 16384) : capacity_(capacity) {}

  // VerifyChain(store, chain, now), or an earlier verdict for exactly the same certificates.
  VerifyFacts Verify(X509_STORE* store, STACK_OF(X509) * chain, int64_t now);

  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }

 private:
  struct Entry {
    VerifyFacts facts;  // dates as of the first verification
    // The sent certificates' validity window: dates are judged again from it at each use.
    int64_t not_before_max = 0;
    int64_t not_after_min = 0;
    // Date problems the window cannot explain (a root from the store outside its validity).
    bool other_expired = false;
    bool other_not_yet_valid = false;
  };

  size_t capacity_;
  absl::flat_hash_map<std::string, Entry> entries_;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

}  // namespace mxray::tls

#endif  // MXRAY_TLS_VERIFY_CACHE_H_
