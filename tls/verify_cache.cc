#include "tls/verify_cache.h"

#include <openssl/digest.h>
#include <openssl/sha.h>

#include <algorithm>
#include <limits>

#include "tls/certificate_facts.h"
#include "tls/chain_verifier.h"

namespace mxray::tls {

VerifyFacts VerifyCache::Verify(X509_STORE* store, STACK_OF(X509) * chain, int64_t now) {
  if (chain == nullptr || sk_X509_num(chain) == 0) return VerifyChain(store, chain, now);
  // The key: SHA-256 over the SHA-256 of each certificate, in the order sent.
  SHA256_CTX sha;
  SHA256_Init(&sha);
  int64_t not_before_max = std::numeric_limits<int64_t>::min();
  int64_t not_after_min = std::numeric_limits<int64_t>::max();
  for (size_t i = 0; i < sk_X509_num(chain); ++i) {
    X509* cert = sk_X509_value(chain, i);
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (!X509_digest(cert, EVP_sha256(), md, &len)) return VerifyChain(store, chain, now);
    SHA256_Update(&sha, md, len);
    int64_t t = 0;
    if (AsnTimeToUnix(X509_get0_notBefore(cert), &t)) not_before_max = std::max(not_before_max, t);
    if (AsnTimeToUnix(X509_get0_notAfter(cert), &t)) not_after_min = std::min(not_after_min, t);
  }
  uint8_t key[SHA256_DIGEST_LENGTH];
  SHA256_Final(key, &sha);
  std::string k(reinterpret_cast<const char*>(key), sizeof(key));

  auto it = entries_.find(k);
  if (it != entries_.end()) {
    ++hits_;
    const Entry& e = it->second;
    VerifyFacts facts = e.facts;
    facts.expired = now > e.not_after_min || e.other_expired;
    facts.not_yet_valid = now < e.not_before_max || e.other_not_yet_valid;
    return facts;
  }
  ++misses_;
  VerifyFacts facts = VerifyChain(store, chain, now);
  if (entries_.size() >= capacity_) entries_.clear();  // rare: a run with that many chains
  entries_.emplace(std::move(k),
                   Entry{.facts = facts,
                         .not_before_max = not_before_max,
                         .not_after_min = not_after_min,
                         .other_expired = facts.expired && !(now > not_after_min),
                         .other_not_yet_valid = facts.not_yet_valid && !(now < not_before_max)});
  return facts;
}

}  // namespace mxray::tls
