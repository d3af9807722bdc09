// Test support for fleet audits; see fleet_audit.h.
#include "tests/engine/fleet_audit.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace mxray::engine {

absl::Status CollectingSink::Write(const DomainRecord& record) {
  std::string_view line = writer_.Format(record);
  absl::Status valid = schema_->ValidateLine(line);
  if (!valid.ok()) ADD_FAILURE() << valid << "\n" << line;
  ++count_;
  if (keep_) {
    records_.push_back(record);
    lines_.emplace_back(line);
  }
  domains_.insert(record.domain.empty() ? record.input : record.domain);
  return absl::OkStatus();
}

std::unique_ptr<report::SchemaValidator> LoadSchema() {
  auto s = report::SchemaValidator::LoadFile(MXRAY_SOURCE_DIR "/docs/output.schema.json");
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : nullptr;
}

AuditConfig FleetConfig(const fleet::Fleet& f, const std::string& input) {
  AuditConfig c;
  c.inputs = {input};
  c.resolver.servers = {f.dns_server()};
  c.resolver.timeout_ms = 400;  // the fleet has names that never answer
  c.resolver.retries = 1;
  return c;
}

FleetRun AuditFleet(const fleet::FleetOptions& options, bool keep_records,
                    const std::function<void(const fleet::Fleet&, AuditConfig&)>& tweak) {
  FleetRun run;
  auto f = fleet::Fleet::Start(options);
  if (!f.ok()) {
    run.status = f.status();
    return run;
  }
  run.fleet = *std::move(f);
  char path[] = "/tmp/mxray-test-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) {
    run.status = absl::ErrnoToStatus(errno, "mkstemp");
    return run;
  }
  run.status = run.fleet->WriteDomainList(fd);
  close(fd);
  if (run.status.ok()) {
    run.schema = LoadSchema();
    run.sink = std::make_unique<CollectingSink>(run.schema.get(), keep_records);
    AuditConfig config = FleetConfig(*run.fleet, path);
    if (tweak) tweak(*run.fleet, config);
    auto auditor = Auditor::Create(config);
    auto reader = InputReader::Open({path});
    if (!auditor.ok()) {
      run.status = auditor.status();
    } else if (!reader.ok()) {
      run.status = reader.status();
    } else {
      run.status = (*auditor)->Run(**reader, *run.sink);
      run.stats = (*auditor)->stats();
    }
  }
  unlink(path);
  return run;
}

}  // namespace mxray::engine
