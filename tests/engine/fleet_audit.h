// Test support: audit a simulated fleet's whole population with the real engine, validating every
// line against the schema, and hand back the records and statistics.
#ifndef MXRAY_TESTS_ENGINE_FLEET_AUDIT_H_
#define MXRAY_TESTS_ENGINE_FLEET_AUDIT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "engine/auditor.h"
#include "report/jsonl_writer.h"
#include "report/schema_validator.h"
#include "tools/fleet/fleet.h"

namespace mxray::engine {

// Formats each record as the CLI does and fails the running test on any line the schema rejects.
class CollectingSink : public RecordSink {
 public:
  CollectingSink(report::SchemaValidator* schema, bool keep_records)
      : schema_(schema), keep_(keep_records) {}
  absl::Status Write(const DomainRecord& record) override;
  size_t count() const { return count_; }
  const std::vector<DomainRecord>& records() const { return records_; }
  const std::vector<std::string>& lines() const { return lines_; }
  const absl::flat_hash_set<std::string>& domains() const { return domains_; }

 private:
  report::SchemaValidator* schema_;
  bool keep_;
  report::JsonlWriter writer_;
  size_t count_ = 0;
  std::vector<DomainRecord> records_;
  std::vector<std::string> lines_;
  absl::flat_hash_set<std::string> domains_;
};

std::unique_ptr<report::SchemaValidator> LoadSchema();

struct FleetRun {
  std::unique_ptr<fleet::Fleet> fleet;
  std::unique_ptr<report::SchemaValidator> schema;
  std::unique_ptr<CollectingSink> sink;
  AuditStats stats;
  absl::Status status;
};

// The DNS settings that suit the fleet: short timeouts, since some names never answer.
AuditConfig FleetConfig(const fleet::Fleet& f, const std::string& input);

// Starts a fleet, writes its domain list, audits it with FleetConfig() adjusted by `tweak`.
FleetRun AuditFleet(const fleet::FleetOptions& options, bool keep_records,
                    const std::function<void(const fleet::Fleet&, AuditConfig&)>& tweak = {});

}  // namespace mxray::engine

#endif  // MXRAY_TESTS_ENGINE_FLEET_AUDIT_H_
