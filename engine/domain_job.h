// One domain's trip through DNS: MX (or the implicit MX), then A and AAAA of every usable
// exchange, into a DomainRecord. A small state machine driven by lookup callbacks.
#ifndef MXRAY_ENGINE_DOMAIN_JOB_H_
#define MXRAY_ENGINE_DOMAIN_JOB_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "engine/audit_config.h"
#include "engine/domain_record.h"
#include "engine/endpoint_table.h"
#include "engine/lookup_cache.h"
#include "io/dns_types.h"

namespace mxray::engine {

// The shared lookup services a job uses; owned by the Auditor.
struct DnsServices {
  LookupCache<io::MxAnswer>* mx;
  LookupCache<io::AddressAnswer>* a;
  LookupCache<io::AddressAnswer>* aaaa;
  EndpointTable* endpoints;  // null: DNS only
  Reputation* reputation;    // null: no DNSBL or PTR lookups
};

class DomainJob {
 public:
  using Done = absl::AnyInvocable<void(DomainJob*)>;

  DomainJob(const AuditConfig* config, DnsServices dns) : config_(config), dns_(dns) {}

  // Begins resolving `domain` (already normalized); `done` runs once the record is complete.
  void Start(std::string input, std::string domain, uint64_t start_ns, Done done);
  DomainRecord& record() { return record_; }
  uint64_t start_ns() const { return start_ns_; }

 private:
  void OnMx(const io::MxAnswer& answer);
  void ResolveExchange(size_t index);
  void OnAddresses(size_t index, bool v6, const io::AddressAnswer& answer);
  void StartImplicit();
  void OnImplicit(bool v6, const io::AddressAnswer& answer);
  void LookupDone();
  void SettleDns();
  void ProbeEndpoints();
  void Finish();

  const AuditConfig* config_;
  DnsServices dns_;
  DomainRecord record_;
  uint64_t start_ns_ = 0;
  int pending_ = 0;
  bool implicit_ = false;
  bool probing_ = false;
  std::vector<bool> cname_loop_;  // per exchange: its address lookup met a CNAME loop
  Done done_;
};

// Classification helpers, exposed for unit tests.
ExchangeStatus ExchangeStatusFromLookups(const ExchangeRecord& e, bool cname_loop);
DomainStatus DomainStatusFromExchanges(const DomainRecord& r);

}  // namespace mxray::engine

#endif  // MXRAY_ENGINE_DOMAIN_JOB_H_
