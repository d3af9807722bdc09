// The Auditor streams input lines into DomainJobs, keeping `concurrency` domains in flight on one
// EventLoop, and hands each finished record to a sink in completion order.
#ifndef MXRAY_ENGINE_AUDITOR_H_
#define MXRAY_ENGINE_AUDITOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/address_policy.h"
#include "engine/audit_config.h"
#include "engine/domain_input.h"
#include "engine/domain_job.h"
#include "engine/domain_record.h"
#include "engine/endpoint_table.h"
#include "engine/lookup_cache.h"
#include "engine/reputation.h"
#include "io/event_loop.h"
#include "io/resolver.h"
#include "tls/client_context.h"

namespace mxray::engine {

class RecordSink {
 public:
  virtual ~RecordSink() = default;
  // Called once per input line; a non-OK status (say, the output disk is full) stops the run.
  virtual absl::Status Write(const DomainRecord& record) = 0;
};

struct AuditStats {
  uint64_t lines = 0;  // records written
  uint64_t invalid = 0;
  uint64_t by_status[8] = {};  // indexed by DomainStatus
  uint64_t in_flight_peak = 0;
  uint64_t elapsed_ns = 0;
  LookupCacheStats mx_cache, a_cache, aaaa_cache;
  EndpointStats endpoints;
  io::ResolverStats resolver;
  // Each DNSBL zone and its self-test result ("passed", or why it failed).
  std::vector<std::pair<std::string, std::string>> dnsbl_self_test;
};

class Auditor {
 public:
  // The loop and resolver are created from the config.
  static absl::StatusOr<std::unique_ptr<Auditor>> Create(const AuditConfig& config);
  ~Auditor();

  // Reads every line of `input` and writes exactly one record per non-blank, non-comment line.
  absl::Status Run(InputReader& input, RecordSink& sink);
  const AuditStats& stats() const { return stats_; }

 private:
  // Whether the probes will ever start TLS (the CA file is loaded only then).
  static bool NeedsTls(const ProbeConfig& probe);
  explicit Auditor(const AuditConfig& config);
  void Refill(InputReader& input, RecordSink& sink);
  void Emit(const DomainRecord& record, RecordSink& sink);

  AuditConfig config_;
  std::unique_ptr<io::EventLoop> loop_;
  std::unique_ptr<io::Resolver> resolver_;
  std::unique_ptr<LookupCache<io::MxAnswer>> mx_cache_;
  std::unique_ptr<LookupCache<io::AddressAnswer>> a_cache_;
  std::unique_ptr<LookupCache<io::AddressAnswer>> aaaa_cache_;
  std::unique_ptr<AddressPolicy> policy_;
  std::unique_ptr<tls::ClientContext> tls_;  // shared by every TLS probe; null when none is made
  std::unique_ptr<EndpointTable> endpoints_;
  std::unique_ptr<Reputation> reputation_;  // null when neither DNSBL nor PTR is asked for
  std::vector<std::unique_ptr<DomainJob>> jobs_;
  std::vector<DomainJob*> free_jobs_;
  size_t in_flight_ = 0;
  bool input_done_ = false;
  absl::Status sink_status_;
  DomainRecord invalid_record_;
  AuditStats stats_;
};

}  // namespace mxray::engine

#endif  // MXRAY_ENGINE_AUDITOR_H_
