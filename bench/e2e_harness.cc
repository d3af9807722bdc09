// The end-to-end harness: starts the simulated fleet in this process (its own thread, sharing the
// machine's cores as a real resolver would), audits its population with the real engine several
// times, and prints one table of medians. Not a test: figures, not assertions.
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "engine/auditor.h"
#include "report/jsonl_writer.h"
#include "tools/fleet/fleet.h"

namespace {

using namespace mxray;

// Formats every record as the CLI would, then drops it: the JSON cost is part of the figure.
class FormattingSink : public engine::RecordSink {
 public:
  absl::Status Write(const engine::DomainRecord& record) override {
    bytes_ += writer_.Format(record).size();
    return absl::OkStatus();
  }
  uint64_t bytes_ = 0;

 private:
  report::JsonlWriter writer_;
};

uint64_t ThreadCpuNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000 + uint64_t(ts.tv_nsec);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mxray end-to-end benchmark against the simulated fleet"};
  size_t domains = 500000;
  int runs = 5;
  size_t concurrency = 2000;
  std::string list_path = "/tmp/mxray-bench-domains.txt";
  app.add_option("--domains", domains, "Population size")->capture_default_str();
  app.add_option("--runs", runs, "Runs; the median is printed")->capture_default_str();
  app.add_option("--concurrency", concurrency, "Domains in flight")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  fleet::FleetOptions fo;
  fo.domain_count = domains;
  // Never-answering names measure the timeout, not the engine: leave them out of speed runs.
  fo.kind_weights = {{fleet::DomainKind::kTimeout, 0}, {fleet::DomainKind::kExchangeTimeout, 0}};
  auto f = fleet::Fleet::Start(fo);
  if (!f.ok()) {
    std::fprintf(stderr, "fleet: %s\n", std::string(f.status().message()).c_str());
    return 1;
  }
  if (auto s = (*f)->WriteDomainList(list_path); !s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return 1;
  }

  std::vector<double> rate, qps, cpu_us, shared;
  uint64_t errors = 0;
  for (int run = 0; run < runs; ++run) {
    engine::AuditConfig config;
    config.inputs = {list_path};
    config.concurrency = concurrency;
    config.resolver.servers = {(*f)->dns_server()};
    auto auditor = engine::Auditor::Create(config);
    auto input = engine::InputReader::Open(config.inputs);
    if (!auditor.ok() || !input.ok()) return 1;
    FormattingSink sink;
    uint64_t cpu0 = ThreadCpuNs();
    if (!(*auditor)->Run(**input, sink).ok()) return 1;
    uint64_t cpu = ThreadCpuNs() - cpu0;
    const engine::AuditStats& s = (*auditor)->stats();
    double secs = double(s.elapsed_ns) / 1e9;
    rate.push_back(double(s.lines) / secs);
    qps.push_back(double(s.resolver.queries) / secs);
    cpu_us.push_back(double(cpu) / 1e3 / double(s.lines));
    shared.push_back(100.0 * double(s.a_cache.hits + s.a_cache.joined + s.aaaa_cache.hits +
                                    s.aaaa_cache.joined) /
                     double(s.a_cache.hits + s.a_cache.joined + s.a_cache.misses +
                            s.aaaa_cache.hits + s.aaaa_cache.joined + s.aaaa_cache.misses));
    errors += s.by_status[int(engine::DomainStatus::kDnsTimeout)];
  }
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  std::remove(list_path.c_str());

  std::printf("mxray end-to-end: DNS resolution (MX + A + AAAA) of the simulated fleet\n");
  std::printf("  %zu domains, %d runs (medians), concurrency %zu, fleet in-process on loopback\n",
              domains, runs, concurrency);
  std::printf("  %-34s %12.0f   (target >= 50,000)\n", "resolved domains/s", Median(rate));
  std::printf("  %-34s %12.0f\n", "DNS queries/s", Median(qps));
  std::printf("  %-34s %12.2f\n", "client CPU us/domain (engine thread)", Median(cpu_us));
  std::printf("  %-34s %11.1f%%\n", "address lookups answered by sharing", Median(shared));
  std::printf("  %-34s %12.1f\n", "peak RSS MiB (client + fleet)", double(ru.ru_maxrss) / 1024);
  std::printf("  %-34s %12llu\n", "false timeouts (should be 0)", (unsigned long long)errors);
  return 0;
}
