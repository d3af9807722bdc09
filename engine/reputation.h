// Reputation of every MX address, once per address per run: DNSBL verdicts for each zone of
// --dnsbl, the PTR names and whether the first one is forward-confirmed (FCrDNS). Lookups run on
// the run's resolver (the same loop); domains sharing an address share its result.
#ifndef MXRAY_ENGINE_REPUTATION_H_
#define MXRAY_ENGINE_REPUTATION_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "engine/dnsbl.h"
#include "io/dns_types.h"
#include "io/ip_address.h"
#include "io/resolver.h"

namespace mxray::engine {

struct DnsblZone {
  std::string zone;
  const DnsblProfile* profile = nullptr;
  // RFC 5782 §5 self-test at the start of the run.
  bool passed = false;
  std::string self_test;  // "passed", or why it failed
};

struct DnsblResult {
  // Shared with the run's zone list: records may outlive the run (a caller keeping them).
  std::shared_ptr<const DnsblZone> zone;
  DnsblVerdict verdict;
  std::vector<std::string> txt;  // the zone's TXT reason, with --dnsbl-txt, when listed
};

struct ReputationRecord {
  std::vector<DnsblResult> dnsbl;           // in --dnsbl order
  std::optional<io::DnsStatus> ptr_status;  // unset when PTR lookups are off
  std::vector<std::string> ptr;             // PTR names, as answered
  // The first PTR name resolves (A for IPv4, AAAA for IPv6) to the address itself.
  bool fcrdns = false;
};
using ReputationPtr = std::shared_ptr<const ReputationRecord>;

struct ReputationOptions {
  std::vector<DnsblZone> zones;  // empty: no DNSBL
  bool dnsbl_txt = false;
  bool ptr = true;
  size_t cache_entries = 100000;  // finished results kept for sharing
};

// The zones queried by default: widely used public lists that answer free of charge for modest
// volumes (docs/output.md says what each code means).
inline constexpr const char* kDefaultDnsblZones[] = {"zen.spamhaus.org", "bl.spamcop.net",
                                                     "b.barracudacentral.org"};

// "ZONE" or "ZONE=PROFILE" items (profiles: spamhaus-zen, spamcop, barracuda, generic); "none"
// alone for no DNSBL. With a Spamhaus DQS key, zen.spamhaus.org becomes KEY.zen.dq.spamhaus.net.
absl::StatusOr<std::vector<DnsblZone>> ParseDnsblZones(const std::vector<std::string>& specs,
                                                       const std::string& spamhaus_key);

class Reputation {
 public:
  using Callback = absl::AnyInvocable<void(const ReputationPtr&)>;

  Reputation(io::Resolver* resolver, ReputationOptions options);

  // Runs every zone's self-test; `done` runs when all have answered.
  void SelfTest(absl::AnyInvocable<void()> done);
  // Calls `done` with the address's reputation: at once when known, later otherwise.
  void Get(const io::IpAddress& ip, Callback done);

  const std::vector<std::shared_ptr<DnsblZone>>& zones() const { return zones_; }
  bool enabled() const { return !zones_.empty() || options_.ptr; }

 private:
  struct Pending;
  void Lookup(const io::IpAddress& ip);
  void Complete(const io::IpAddress& ip, std::shared_ptr<ReputationRecord> record);

  io::Resolver* resolver_;
  ReputationOptions options_;  // its `zones` moved into zones_
  std::vector<std::shared_ptr<DnsblZone>> zones_;
  struct Entry {
    ReputationPtr result;
    std::vector<Callback> waiters;
  };
  absl::flat_hash_map<io::IpAddress, Entry> entries_;
  size_t finished_ = 0;
};

}  // namespace mxray::engine

#endif  // MXRAY_ENGINE_REPUTATION_H_
