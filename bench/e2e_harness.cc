// The end-to-end harness: starts the simulated fleet in this process (its own thread, sharing the
// machine's cores as a real resolver would), audits its population with the real engine several
// times, probes its SMTP servers in plaintext, with STARTTLS and with implicit TLS, and prints one
// table of medians. Not a test: figures, not assertions.
//
// Two fleets, one after the other, with the same population: DNS and the plaintext probes run
// against a plaintext-only one (SmtpOptions::tls = false, the fleet these figures were first
// measured on: no STARTTLS line in EHLO replies), the TLS probes against one that speaks TLS, by
// default with ECDSA leaves on every ordinary server and an RSA-2048 test CA (--tls-leaves,
// --tls-ca; the table says which). Why, with Debian's BoringSSL (no assembly): an RSA-2048
// signature costs the fleet ~580 us a handshake where ECDSA P-256 costs ~60 us, and it shares
// the cores with mxray; a P-256 chain costs mxray two ~150 us verifications where RSA-2048 costs
// two ~15 us ones. Most public CAs' intermediates are RSA, so the RSA CA is also the realistic
// case. bench/tls_handshake_benchmark has every combination without sockets.
//
// TLS figures: each STARTTLS (25, 587: Postfix, Exim, Microsoft) and implicit-TLS (465: the four
// ordinary flavours) endpoint once per pass with a fresh client context (a run's cache of chain
// verdicts), after one untimed pass that makes the fleet issue its certificates. A probe counts
// as failed unless it is ok with a trusted chain and an EHLO answered inside TLS.
#include <malloc.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "bench/minimal_smtp_client.h"
#include "bench/thread_heap.h"
#include "engine/auditor.h"
#include "engine/endpoint_table.h"
#include "engine/port_map.h"
#include "report/jsonl_writer.h"
#include "tls/client_context.h"
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

uint64_t CpuNs(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000 + uint64_t(ts.tv_nsec);
}
uint64_t ThreadCpuNs() { return CpuNs(CLOCK_THREAD_CPUTIME_ID); }
// Every thread of the process: the probing thread plus the fleet's.
uint64_t ProcessCpuNs() { return CpuNs(CLOCK_PROCESS_CPUTIME_ID); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

struct Endpoint {
  io::IpAddress ip;
  uint16_t port;     // logical
  std::string name;  // the server's own name: the SNI its certificate is for ("" for plaintext)
};

struct ProbeFigures {
  double probes_per_s = 0;
  double cpu_us_per_probe = 0;
  double fleet_cpu_us_per_probe = 0;  // the rest of the process: the fleet's thread
  uint64_t failures = 0;
  // Plaintext: process heap (mallinfo2, every arena, so the fleet's too) at the moment most
  // probes were in flight, per probe in flight.
  double heap_bytes_per_in_flight = 0;
  size_t in_flight_peak = 0;
  // This thread's heap (thread_heap.h, the client alone), per probe in flight: for plaintext at
  // the in-flight peak, for TLS at the heap's highest; and for TLS the process heap then too.
  double client_heap_per_in_flight = 0;
  double process_heap_per_in_flight = 0;
  size_t in_flight_at_heap_peak = 0;
  // TLS: what the handshakes showed ("TLSv1.3 TLS_AES_128_GCM_SHA256 X25519, EC leaf signed
  // ecdsa-with-SHA256" -> count), and how many chain verdicts came from the run's cache
  // (tls/verify_cache.h) rather than a verification.
  std::map<std::string, uint64_t> certificates;
  uint64_t verify_cache_hits = 0, verify_cache_misses = 0;
};

// A record that is not what an ordinary server yields counts as a failure; the first few are
// printed (stderr), every one counted.
class FailureLog {
 public:
  explicit FailureLog(const char* what) : what_(what) {}
  void Note(const Endpoint& e, const engine::PortRecord& r) {
    if (printed_++ >= 5) return;
    std::fprintf(stderr, "%s probe not ok: %s:%u (%s) outcome=%s error=%s tls_error=%s verify=%s\n",
                 what_, e.ip.ToString().c_str(), e.port, e.name.c_str(),
                 std::string(engine::ProbeOutcomeName(r.outcome)).c_str(), r.error.c_str(),
                 r.tls ? r.tls->error.c_str() : "(no handshake)",
                 r.tls ? (r.tls->verify.trusted ? "trusted" : r.tls->verify.error.c_str()) : "-");
  }

 private:
  const char* what_;
  uint64_t printed_ = 0;
};

// Plaintext: outcome ok. TLS: also a completed handshake whose chain verified, and an EHLO
// answered inside it.
bool ProbeOk(const engine::PortRecord& r, bool tls) {
  if (r.outcome != engine::ProbeOutcome::kOk) return false;
  if (!tls) return true;
  return r.tls != nullptr && r.tls->error.empty() && r.tls->verify.trusted && r.ehlo_tls &&
         r.ehlo_tls->code == 250;
}

// mxray's own probe path (EndpointTable → SmtpProbe → SmtpSession → PortRecord) over `endpoints`,
// `passes` times with a fresh table (a table probes each endpoint once per run). `ca_file`: TLS
// with a client context made from it, fresh for each pass as for each run of mxray (its cache of
// chain verdicts lasts a run), or none (null: no TLS, as the plaintext figures are measured).
ProbeFigures MxrayProbes(const std::vector<Endpoint>& endpoints, const engine::ProbeConfig& config,
                         int passes, const std::string* ca_file, FailureLog* log) {
  ProbeFigures f;
  auto loop = io::EventLoop::Create();
  if (!loop.ok()) return f;
  engine::AddressPolicyOptions po;
  po.allow_private = true;
  engine::AddressPolicy policy(std::move(po));
  int64_t client_peak = 0, process_sampled_at = 0;
  uint64_t done = 0, start = io::EventLoop::MonotonicNs(), cpu0 = ThreadCpuNs();
  uint64_t process0 = ProcessCpuNs();
  for (int pass = 0; pass < passes; ++pass) {
    std::unique_ptr<tls::ClientContext> context;
    if (ca_file != nullptr) {
      auto made = tls::ClientContext::Create(*ca_file);
      if (!made.ok()) {
        std::fprintf(stderr, "%s\n", std::string(made.status().message()).c_str());
        return f;
      }
      context = *std::move(made);
    }
    const tls::ClientContext* tls = context.get();
    engine::EndpointTable table(loop->get(), &config, &policy, tls);
    uint64_t want = done + endpoints.size();
    // Results are kept by the caller in a real run; here only their count is.
    size_t heap_before = mallinfo2().uordblks;
    int64_t thread_before = bench::ThreadHeapBytes();
    for (const Endpoint& e : endpoints) {
      table.Get(e.ip, e.port, e.name, [&](const engine::PortRecordPtr& r) {
        ++done;
        if (r->tls != nullptr && r->tls->has_certificate) {
          const tls::TlsFacts& t = *r->tls;
          ++f.certificates[t.version + " " + t.cipher + " " + t.group + ", " + t.leaf.key_type +
                           " leaf signed " + t.leaf.signature_algorithm];
        }
        if (!ProbeOk(*r, tls != nullptr)) {
          ++f.failures;
          log->Note(e, *r);
        }
      });
    }
    while (done < want || table.busy() > 0) {
      (*loop)->RunOnce(100'000'000);
      if (table.active() == 0) continue;
      if (tls == nullptr) {
        if (table.active() > f.in_flight_peak) {
          f.in_flight_peak = table.active();
          size_t heap = mallinfo2().uordblks;
          f.heap_bytes_per_in_flight =
              heap > heap_before ? double(heap - heap_before) / double(table.active()) : 0;
          f.client_heap_per_in_flight =
              double(bench::ThreadHeapBytes() - thread_before) / double(table.active());
        }
        continue;
      }
      // A TLS probe's memory peaks in the handshake, after the connect burst that makes the
      // in-flight peak: follow the client's heap instead. It includes the records of the probes
      // already finished (the table keeps them), as the plaintext figure includes its own.
      int64_t client = bench::ThreadHeapBytes() - thread_before;
      if (client > client_peak) {
        client_peak = client;
        f.in_flight_at_heap_peak = table.active();
        f.client_heap_per_in_flight = double(client) / double(table.active());
        // mallinfo2 walks every arena's bins (~0.1 ms with the fleet's heap): only every 4 MiB.
        if (client >= process_sampled_at + (4 << 20)) {
          process_sampled_at = client;
          size_t heap = mallinfo2().uordblks;
          f.process_heap_per_in_flight =
              heap > heap_before ? double(heap - heap_before) / double(table.active()) : 0;
        }
      }
    }
    if (tls != nullptr) {
      f.verify_cache_hits += tls->verify_cache().hits();
      f.verify_cache_misses += tls->verify_cache().misses();
    }
  }
  double secs = double(io::EventLoop::MonotonicNs() - start) / 1e9;
  f.probes_per_s = double(done) / secs;
  const uint64_t cpu = ThreadCpuNs() - cpu0, process = ProcessCpuNs() - process0;
  f.cpu_us_per_probe = double(cpu) / 1e3 / double(done);
  f.fleet_cpu_us_per_probe = double(process > cpu ? process - cpu : 0) / 1e3 / double(done);
  return f;
}

// The ordinary flavours the fleet plays (smtp_plan.h): the endpoints every figure uses.
bool Ordinary(fleet::SmtpBehaviour b) {
  return b == fleet::SmtpBehaviour::kPostfix || b == fleet::SmtpBehaviour::kExim ||
         b == fleet::SmtpBehaviour::kMicrosoft || b == fleet::SmtpBehaviour::kMinimal;
}

absl::StatusOr<std::unique_ptr<fleet::Fleet>> StartFleet(fleet::FleetOptions options) {
  auto f = fleet::Fleet::Start(options);
  if (!f.ok()) std::fprintf(stderr, "fleet: %s\n", std::string(f.status().message()).c_str());
  return f;
}

struct TlsFigures {
  std::vector<double> rate, cpu, fleet_cpu, client_heap, process_heap;
  size_t in_flight = 0;
  uint64_t failures = 0;
  size_t endpoints = 0;
  std::map<std::string, uint64_t> certificates;
  uint64_t verify_cache_hits = 0, verify_cache_misses = 0;
  void Add(const ProbeFigures& m) {
    for (const auto& [what, n] : m.certificates) certificates[what] += n;
    verify_cache_hits += m.verify_cache_hits;
    verify_cache_misses += m.verify_cache_misses;
    rate.push_back(m.probes_per_s);
    cpu.push_back(m.cpu_us_per_probe);
    fleet_cpu.push_back(m.fleet_cpu_us_per_probe);
    client_heap.push_back(m.client_heap_per_in_flight);
    process_heap.push_back(m.process_heap_per_in_flight);
    in_flight = std::max(in_flight, m.in_flight_at_heap_peak);
    failures += m.failures;
  }
};

void PrintTls(const char* title, const TlsFigures& t, int passes, int runs, const char* target) {
  std::printf("\nmxray end-to-end: %s\n", title);
  std::printf("  %zu endpoints x %d passes per run, %d runs (medians), fleet in-process\n",
              t.endpoints, passes, runs);
  std::printf("  %-34s %12.0f%s\n", "mxray probes/s", Median(t.rate), target);
  std::printf("  %-34s %12.1f\n", "client CPU us/probe (mxray)", Median(t.cpu));
  std::printf("  %-34s %12.1f   (the fleet's thread: the servers' side)\n", "fleet CPU us/probe",
              Median(t.fleet_cpu));
  std::printf("  %-34s %12.0f   (target <= 49152; at %zu in flight, includes finished records)\n",
              "client heap bytes per probe", Median(t.client_heap), t.in_flight);
  std::printf("  %-34s %12.0f   (mallinfo2, with the fleet's server side)\n",
              "process heap bytes per probe", Median(t.process_heap));
  std::printf("  %-34s %12llu\n", "probes not ok (should be 0)", (unsigned long long)t.failures);
  const uint64_t verdicts = t.verify_cache_hits + t.verify_cache_misses;
  std::printf("  %-34s %11.1f%%   (a run's cache: each address's ports share one chain)\n",
              "chain verdicts reused",
              verdicts ? 100.0 * double(t.verify_cache_hits) / verdicts : 0);
  for (const auto& [what, n] : t.certificates) {
    std::printf("  handshakes seen: %s x %llu\n", what.c_str(), (unsigned long long)n);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mxray end-to-end benchmark against the simulated fleet"};
  size_t domains = 500000;
  int runs = 5;
  size_t concurrency = 2000;
  int tls_passes = 4;
  std::string tls_leaves = "ecdsa", tls_ca = "rsa";
  bool skip_dns = false, skip_plaintext = false, skip_tls = false;
  std::string list_path = "/tmp/mxray-bench-domains.txt";
  app.add_option("--domains", domains, "Population size")->capture_default_str();
  app.add_option("--runs", runs, "Runs; the median is printed")->capture_default_str();
  app.add_option("--concurrency", concurrency, "Domains (and probes) in flight")
      ->capture_default_str();
  app.add_option("--tls-passes", tls_passes, "Passes over the TLS endpoints per run")
      ->capture_default_str();
  app.add_option("--tls-leaves", tls_leaves,
                 "ecdsa: every ordinary server signs with ECDSA P-256 (SmtpOptions::ecdsa_leaves); "
                 "default: the fleet's mix (Postfix and Microsoft RSA-2048)")
      ->check(CLI::IsMember({"ecdsa", "default"}))
      ->capture_default_str();
  app.add_option("--tls-ca", tls_ca,
                 "rsa: RSA-2048 test root and intermediate (FleetOptions::rsa_ca); ecdsa: the "
                 "fleet's default P-256 CA")
      ->check(CLI::IsMember({"rsa", "ecdsa"}))
      ->capture_default_str();
  app.add_flag("--skip-dns", skip_dns, "Leave out the DNS figures");
  app.add_flag("--skip-plaintext", skip_plaintext, "Leave out the plaintext probe figures");
  app.add_flag("--skip-tls", skip_tls, "Leave out the STARTTLS and implicit-TLS figures");
  CLI11_PARSE(app, argc, argv);

  fleet::FleetOptions fo;
  fo.domain_count = domains;
  // Never-answering names measure the timeout, not the engine: leave them out of speed runs.
  fo.kind_weights = {{fleet::DomainKind::kTimeout, 0}, {fleet::DomainKind::kExchangeTimeout, 0}};

  // DNS and plaintext probes: the plaintext-only fleet.
  std::vector<double> rate, qps, cpu_us, shared;
  uint64_t errors = 0;
  std::vector<double> mx_rate, mx_cpu, min_rate, ratio, heap_per_probe, client_heap_per_probe;
  size_t in_flight_peak = 0;
  uint64_t probe_failures = 0;
  const int passes = 10;
  std::vector<Endpoint> logical;
  if (!skip_dns || !skip_plaintext) {
    fleet::FleetOptions plain = fo;
    plain.smtp.tls = false;
    auto f = StartFleet(plain);
    if (!f.ok()) return 1;
    if (auto s = (*f)->WriteDomainList(list_path); !s.ok()) {
      std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
      return 1;
    }
    for (int run = 0; run < runs && !skip_dns; ++run) {
      engine::AuditConfig config;
      config.inputs = {list_path};
      config.concurrency = concurrency;
      config.resolver.servers = {(*f)->dns_server()};
      // The figure is MX + A + AAAA resolution, as before reputation lookups existed.
      config.reputation.dnsbl = {"none"};
      config.reputation.ptr = false;
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
    std::remove(list_path.c_str());
    // Plaintext probes (banner, EHLO, QUIT) of every ordinary ESMTP endpoint the fleet serves on
    // 25 and 587, by mxray and by the minimal client, side by side, median of `runs`.
    engine::ProbeConfig probe;
    probe.ports = {25, 587};
    probe.allow_private = true;
    auto map = engine::ParsePortMap((*f)->smtp_port_map());
    if (map.ok()) probe.port_map = map->entries();
    probe.max_connections = concurrency;
    probe.session.ehlo_name = "bench.mxray.test";
    // Plaintext probes: banner, EHLO, QUIT (STARTTLS probes are measured on their own).
    probe.session.starttls = engine::StarttlsMode::kNever;
    std::vector<std::pair<io::IpAddress, uint16_t>> dialled;
    for (const fleet::SmtpEndpoint& e : (*f)->smtp_endpoints()) {
      if (!Ordinary(e.behaviour) || e.logical_port == 465) continue;
      auto ip = io::IpAddress::Parse(e.ip);
      if (!ip) continue;
      logical.push_back({*ip, e.logical_port, ""});
      dialled.push_back({*ip, e.port});
    }
    FailureLog log("plaintext");
    for (int run = 0; run < runs && !logical.empty() && !skip_plaintext; ++run) {
      ProbeFigures m = MxrayProbes(logical, probe, passes, nullptr, &log);
      std::vector<std::pair<io::IpAddress, uint16_t>> all;
      for (int p = 0; p < passes; ++p) all.insert(all.end(), dialled.begin(), dialled.end());
      bench::MinimalResult b = bench::RunMinimalClient(all, std::min(concurrency, dialled.size()));
      double b_rate = double(b.probes) / (double(b.elapsed_ns) / 1e9);
      mx_rate.push_back(m.probes_per_s);
      mx_cpu.push_back(m.cpu_us_per_probe);
      heap_per_probe.push_back(m.heap_bytes_per_in_flight);
      client_heap_per_probe.push_back(m.client_heap_per_in_flight);
      in_flight_peak = std::max(in_flight_peak, m.in_flight_peak);
      min_rate.push_back(b_rate);
      ratio.push_back(100.0 * m.probes_per_s / b_rate);
      probe_failures += m.failures + b.failures;
    }
  }

  // STARTTLS (25, 587) and implicit TLS (465): the TLS fleet, mxray with the fleet's CA file.
  TlsFigures starttls, implicit;
  std::string tls_config;
  if (!skip_tls) {
    fleet::FleetOptions tls_fleet = fo;
    tls_fleet.smtp.tls = true;
    tls_fleet.smtp.ecdsa_leaves = tls_leaves == "ecdsa";
    tls_fleet.rsa_ca = tls_ca == "rsa";
    auto f = StartFleet(tls_fleet);
    if (!f.ok()) return 1;
    tls_config = tls_fleet.smtp.ecdsa_leaves
                     ? "ECDSA P-256 leaves on every ordinary server"
                     : "the fleet's leaves (Postfix, Microsoft RSA-2048; Exim, minimal ECDSA)";
    tls_config += tls_fleet.rsa_ca ? ", RSA-2048 root and intermediate"
                                   : ", ECDSA P-256 root and intermediate";
    engine::ProbeConfig probe;
    probe.allow_private = true;
    auto map = engine::ParsePortMap((*f)->smtp_port_map());
    if (map.ok()) probe.port_map = map->entries();
    probe.max_connections = concurrency;
    probe.session.ehlo_name = "bench.mxray.test";
    probe.session.starttls = engine::StarttlsMode::kAuto;
    probe.ca_file = (*f)->ca_file();
    // STARTTLS where the server offers it and does an ordinary handshake (minimal offers none);
    // implicit TLS on every ordinary 465.
    std::vector<Endpoint> on_starttls, on_465;
    for (const fleet::SmtpEndpoint& e : (*f)->smtp_endpoints()) {
      if (!Ordinary(e.behaviour)) continue;
      auto ip = io::IpAddress::Parse(e.ip);
      if (!ip) continue;
      Endpoint endpoint{*ip, e.logical_port, (*f)->population().SmtpHostName(e.ip)};
      if (e.logical_port == 465) {
        on_465.push_back(std::move(endpoint));
      } else if (fleet::ProfileOf(e.behaviour).starttls &&
                 fleet::TlsPlanOf(e.behaviour).answer == fleet::TlsAnswer::kReady) {
        on_starttls.push_back(std::move(endpoint));
      }
    }
    starttls.endpoints = on_starttls.size();
    implicit.endpoints = on_465.size();
    engine::ProbeConfig starttls_probe = probe, implicit_probe = probe;
    starttls_probe.ports = {25, 587};
    implicit_probe.ports = {465};
    FailureLog starttls_log("STARTTLS"), implicit_log("implicit TLS");
    // The fleet issues each server's certificate on its first handshake (an RSA CA's signature
    // costs it ~0.6 ms): one untimed pass over both sets first, so that no run pays for it.
    FailureLog warm_up_log("warm-up");
    MxrayProbes(on_starttls, starttls_probe, 1, &probe.ca_file, &warm_up_log);
    MxrayProbes(on_465, implicit_probe, 1, &probe.ca_file, &warm_up_log);
    for (int run = 0; run < runs; ++run) {
      if (!on_starttls.empty()) {
        starttls.Add(
            MxrayProbes(on_starttls, starttls_probe, tls_passes, &probe.ca_file, &starttls_log));
      }
      if (!on_465.empty()) {
        implicit.Add(
            MxrayProbes(on_465, implicit_probe, tls_passes, &probe.ca_file, &implicit_log));
      }
    }
  }

  rusage ru;
  getrusage(RUSAGE_SELF, &ru);

  if (!skip_dns) {
    std::printf("mxray end-to-end: DNS resolution (MX + A + AAAA) of the simulated fleet\n");
    std::printf("  %zu domains, %d runs (medians), concurrency %zu, fleet in-process on loopback\n",
                domains, runs, concurrency);
    std::printf("  %-34s %12.0f   (target >= 50,000)\n", "resolved domains/s", Median(rate));
    std::printf("  %-34s %12.0f\n", "DNS queries/s", Median(qps));
    std::printf("  %-34s %12.2f\n", "client CPU us/domain (engine thread)", Median(cpu_us));
    std::printf("  %-34s %11.1f%%\n", "address lookups answered by sharing", Median(shared));
    std::printf("  %-34s %12llu\n", "false timeouts (should be 0)", (unsigned long long)errors);
  }
  if (!skip_plaintext) {
    std::printf("\nmxray end-to-end: plaintext SMTP probes (banner + EHLO + QUIT)\n");
    std::printf("  %zu endpoints x %d passes per run, %d runs (medians), plaintext-only fleet\n",
                logical.size(), passes, runs);
    std::printf("  %-34s %12.0f   (target >= 15,000)\n", "mxray probes/s", Median(mx_rate));
    std::printf("  %-34s %12.0f\n", "minimal client probes/s", Median(min_rate));
    std::printf("  %-34s %11.1f%%   (target >= 85%%)\n", "mxray / minimal client", Median(ratio));
    std::printf("  %-34s %12.2f\n", "client CPU us/probe (mxray)", Median(mx_cpu));
    std::printf("  %-34s %12.0f   (target <= 2048; at %zu in flight, includes each record)\n",
                "heap bytes per in-flight probe", Median(heap_per_probe), in_flight_peak);
    std::printf("  %-34s %12.0f   (the probing thread's own allocations only)\n",
                "  of which the client's", Median(client_heap_per_probe));
    std::printf("  %-34s %12llu\n", "probes not ok (should be 0)",
                (unsigned long long)probe_failures);
  }
  if (!skip_tls) {
    std::printf("\nTLS fleet: %s\n", tls_config.c_str());
    PrintTls("STARTTLS probes (banner, EHLO, STARTTLS, handshake, chain, EHLO, QUIT)", starttls,
             tls_passes, runs, "   (target >= 3,000)");
    PrintTls("implicit-TLS probes on 465 (handshake, chain, banner, EHLO, QUIT)", implicit,
             tls_passes, runs, "");
  }
  std::printf("\n  %-34s %12.1f\n", "peak RSS MiB (client + fleets)", double(ru.ru_maxrss) / 1024);
  return 0;
}
