// `mxray scan`: the thin glue from options to Auditor, JsonlWriter and OutputSink.
#include "tools/mxray/scan.h"

#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/domain_input.h"
#include "engine/port_map.h"
#include "report/jsonl_writer.h"
#include "report/output_sink.h"

namespace mxray::cli {
namespace {

class JsonlSink : public engine::RecordSink {
 public:
  explicit JsonlSink(report::OutputSink* out) : out_(out) {}
  absl::Status Write(const engine::DomainRecord& record) override {
    return out_->WriteLine(writer_.Format(record));
  }

 private:
  report::OutputSink* out_;
  report::JsonlWriter writer_;
};

}  // namespace

std::string SummaryLine(const engine::AuditStats& stats) {
  double seconds = static_cast<double>(stats.elapsed_ns) / 1e9;
  double rate = seconds > 0 ? static_cast<double>(stats.lines) / seconds : 0;
  std::string line =
      absl::StrFormat("mxray: %d domains in %.2f s (%.0f/s)", stats.lines, seconds, rate);
  const char* sep = ": ";
  for (int s = 0; s <= static_cast<int>(engine::DomainStatus::kDnsTimeout); ++s) {
    if (stats.by_status[s] == 0) continue;
    std::string_view name = engine::DomainStatusName(static_cast<engine::DomainStatus>(s));
    absl::StrAppend(&line, sep, std::string(name), " ", stats.by_status[s]);
    sep = ", ";
  }
  if (stats.endpoints.probed + stats.endpoints.blocked > 0) {
    absl::StrAppendFormat(&line,
                          "; %d endpoints probed (at most %d connections at once), %d probe "
                          "results shared, %d blocked",
                          stats.endpoints.probed, stats.endpoints.active_peak,
                          stats.endpoints.reused, stats.endpoints.blocked);
  }
  for (const auto& [zone, result] : stats.dnsbl_self_test) {
    // A zone that failed its self-test is reported as unreliable in every record: say why once.
    if (result != "passed") absl::StrAppend(&line, "; DNSBL ", zone, " unreliable: ", result);
  }
  absl::StrAppendFormat(&line, "; %d DNS queries, %d answers shared", stats.resolver.queries,
                        stats.a_cache.hits + stats.a_cache.joined + stats.aaaa_cache.hits +
                            stats.aaaa_cache.joined + stats.mx_cache.hits + stats.mx_cache.joined);
  return line;
}

std::string DefaultEhloName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

absl::Status ApplyProbeSpecs(ScanOptions* options) {
  engine::ProbeConfig& probe = options->audit.probe;
  if (options->ports_spec == "none" || options->ports_spec.empty()) {
    probe.ports.clear();
  } else {
    absl::StatusOr<std::vector<uint16_t>> ports = engine::ParsePortList(options->ports_spec);
    if (!ports.ok()) return ports.status();
    probe.ports = *std::move(ports);
  }
  absl::StatusOr<engine::PortMap> map = engine::ParsePortMap(options->port_map_spec);
  if (!map.ok()) return map.status();
  probe.port_map = map->entries();
  if (probe.session.ehlo_name.empty()) {
    probe.session.ehlo_name = DefaultEhloName();
  }
  return absl::OkStatus();
}

absl::Status RunScan(const ScanOptions& options, engine::AuditStats* stats_out) {
  absl::StatusOr<std::unique_ptr<engine::InputReader>> input =
      engine::InputReader::Open(options.audit.inputs, options.audit.max_line_bytes);
  if (!input.ok()) return input.status();
  absl::StatusOr<std::unique_ptr<engine::Auditor>> auditor = engine::Auditor::Create(options.audit);
  if (!auditor.ok()) return auditor.status();
  absl::StatusOr<std::unique_ptr<report::OutputSink>> out =
      report::OutputSink::Open(options.output);
  if (!out.ok()) return out.status();

  JsonlSink sink(out->get());
  absl::Status run = (*auditor)->Run(**input, sink);
  absl::Status closed = (*out)->Close();
  engine::AuditStats stats = (*auditor)->stats();
  if (options.summary) std::fprintf(stderr, "%s\n", SummaryLine(stats).c_str());
  if (stats_out != nullptr) *stats_out = stats;
  if (!run.ok()) return run;
  return closed;
}

}  // namespace mxray::cli
