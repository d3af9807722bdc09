// The end-to-end harness: starts the simulated fleet in this process (its own thread, sharing the
// machine's cores as a real resolver would), audits its population with the real engine several
// times, and prints one table of medians. Not a test: figures, not assertions.
#include <malloc.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "bench/minimal_smtp_client.h"
#include "engine/auditor.h"
#include "engine/endpoint_table.h"
#include "engine/port_map.h"
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

struct ProbeFigures {
  double probes_per_s = 0;
  double cpu_us_per_probe = 0;
  uint64_t failures = 0;
  double heap_bytes_per_in_flight = 0;  // at the moment most probes were in flight
  size_t in_flight_peak = 0;
};

// mxray's own probe path (EndpointTable → SmtpProbe → SmtpSession → PortRecord) over `endpoints`,
// `passes` times with a fresh table (a table probes each endpoint once per run).
ProbeFigures MxrayProbes(const std::vector<std::pair<io::IpAddress, uint16_t>>& endpoints,
                         const engine::ProbeConfig& config, int passes) {
  ProbeFigures f;
  auto loop = io::EventLoop::Create();
  if (!loop.ok()) return f;
  engine::AddressPolicyOptions po;
  po.allow_private = true;
  engine::AddressPolicy policy(std::move(po));
  uint64_t done = 0, start = io::EventLoop::MonotonicNs(), cpu0 = ThreadCpuNs();
  for (int pass = 0; pass < passes; ++pass) {
    engine::EndpointTable table(loop->get(), &config, &policy, /*tls=*/nullptr);
    uint64_t want = done + endpoints.size();
    // Results are kept by the caller in a real run; here only their count is.
    size_t heap_before = mallinfo2().uordblks;
    for (const auto& [ip, port] : endpoints) {
      table.Get(ip, port, "", [&](const engine::PortRecordPtr& r) {
        ++done;
        if (r->outcome != engine::ProbeOutcome::kOk) ++f.failures;
      });
    }
    while (done < want || table.busy() > 0) {
      (*loop)->RunOnce(100'000'000);
      if (table.active() > f.in_flight_peak) {
        f.in_flight_peak = table.active();
        size_t heap = mallinfo2().uordblks;
        f.heap_bytes_per_in_flight =
            heap > heap_before ? double(heap - heap_before) / double(table.active()) : 0;
      }
    }
  }
  double secs = double(io::EventLoop::MonotonicNs() - start) / 1e9;
  f.probes_per_s = double(done) / secs;
  f.cpu_us_per_probe = double(ThreadCpuNs() - cpu0) / 1e3 / double(done);
  return f;
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
    shared.push_back(
        100.0 *
        double(s.a_cache.hits + s.a_cache.joined + s.aaaa_cache.hits + s.aaaa_cache.joined) /
        double(s.a_cache.hits + s.a_cache.joined + s.a_cache.misses + s.aaaa_cache.hits +
               s.aaaa_cache.joined + s.aaaa_cache.misses));
    errors += s.by_status[int(engine::DomainStatus::kDnsTimeout)];
  }
  // Plaintext probes (banner, EHLO, QUIT) of every ordinary ESMTP endpoint the fleet serves on 25
  // and 587, by mxray and by the minimal client, side by side, median of `runs`.
  engine::ProbeConfig probe;
  probe.ports = {25, 587};
  probe.allow_private = true;
  auto map = engine::ParsePortMap((*f)->smtp_port_map());
  if (map.ok()) probe.port_map = map->entries();
  probe.max_connections = concurrency;
  probe.session.ehlo_name = "bench.mxray.test";
  // Plaintext probes: banner, EHLO, QUIT (STARTTLS probes are measured on their own).
  probe.session.starttls = engine::StarttlsMode::kNever;
  std::vector<std::pair<io::IpAddress, uint16_t>> logical, dialled;
  for (const fleet::SmtpEndpoint& e : (*f)->smtp_endpoints()) {
    bool ordinary = e.behaviour == fleet::SmtpBehaviour::kPostfix ||
                    e.behaviour == fleet::SmtpBehaviour::kExim ||
                    e.behaviour == fleet::SmtpBehaviour::kMicrosoft ||
                    e.behaviour == fleet::SmtpBehaviour::kMinimal;
    if (!ordinary || e.logical_port == 465) continue;
    auto ip = io::IpAddress::Parse(e.ip);
    if (!ip) continue;
    logical.push_back({*ip, e.logical_port});
    dialled.push_back({*ip, e.port});
  }
  std::vector<double> mx_rate, mx_cpu, min_rate, ratio, heap_per_probe;
  size_t in_flight_peak = 0;
  uint64_t probe_failures = 0;
  const int passes = 10;
  for (int run = 0; run < runs && !logical.empty(); ++run) {
    ProbeFigures m = MxrayProbes(logical, probe, passes);
    std::vector<std::pair<io::IpAddress, uint16_t>> all;
    for (int p = 0; p < passes; ++p) all.insert(all.end(), dialled.begin(), dialled.end());
    bench::MinimalResult b = bench::RunMinimalClient(all, std::min(concurrency, dialled.size()));
    double b_rate = double(b.probes) / (double(b.elapsed_ns) / 1e9);
    mx_rate.push_back(m.probes_per_s);
    mx_cpu.push_back(m.cpu_us_per_probe);
    heap_per_probe.push_back(m.heap_bytes_per_in_flight);
    in_flight_peak = std::max(in_flight_peak, m.in_flight_peak);
    min_rate.push_back(b_rate);
    ratio.push_back(100.0 * m.probes_per_s / b_rate);
    probe_failures += m.failures + b.failures;
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
  std::printf("\nmxray end-to-end: plaintext SMTP probes (banner + EHLO + QUIT)\n");
  std::printf("  %zu endpoints x %d passes per run, %d runs (medians), fleet in-process\n",
              logical.size(), passes, runs);
  std::printf("  %-34s %12.0f   (target >= 15,000)\n", "mxray probes/s", Median(mx_rate));
  std::printf("  %-34s %12.0f\n", "minimal client probes/s", Median(min_rate));
  std::printf("  %-34s %11.1f%%   (target >= 85%%)\n", "mxray / minimal client", Median(ratio));
  std::printf("  %-34s %12.2f\n", "client CPU us/probe (mxray)", Median(mx_cpu));
  std::printf("  %-34s %12.0f   (target <= 2048; at %zu in flight, includes each record)\n",
              "heap bytes per in-flight probe", Median(heap_per_probe), in_flight_peak);
  std::printf("  %-34s %12llu\n", "probes not ok (should be 0)",
              (unsigned long long)probe_failures);
  return 0;
}
