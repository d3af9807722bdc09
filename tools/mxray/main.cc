// The `mxray` command line: parses flags into an AuditConfig and runs a command. Nothing else.
#include <ares.h>
#include <unistd.h>

#include <csignal>

#include <cstdio>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_split.h"
#include "tls/tls_library.h"
#include "tools/mxray/demo.h"
#include "tools/mxray/scan.h"

#ifndef MXRAY_VERSION
#define MXRAY_VERSION "dev"
#endif

namespace {

void AddScanFlags(CLI::App* cmd, mxray::cli::ScanOptions* o) {
  mxray::engine::AuditConfig& a = o->audit;
  cmd->add_option("-o,--output", o->output, "Write JSON lines to FILE (appends; '-' is stdout)")
      ->option_text("FILE")
      ->default_str("-");
  cmd->add_option("--resolver", a.resolver.servers,
                  "DNS resolvers to ask, ADDR[:PORT] or [V6]:PORT, comma-separated "
                  "(default: the system's resolv.conf)")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->option_text("ADDR[:PORT],...");
  cmd->add_option("--concurrency", a.concurrency, "Domains in flight at once")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1000000}));
  cmd->add_option("--dns-timeout-ms", a.resolver.timeout_ms,
                  "Timeout of a DNS query's first try; each further round doubles it")
      ->capture_default_str()
      ->check(CLI::Range(1, 600000));
  cmd->add_option("--dns-retries", a.resolver.retries, "Tries after the first for a DNS query")
      ->capture_default_str()
      ->check(CLI::Range(0, 20));
  cmd->add_option("--max-exchanges", a.max_exchanges,
                  "MX records resolved per domain; further ones are listed as skipped")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1000}));
  cmd->add_option("--max-addresses", a.max_addresses, "Addresses kept per exchange (A and AAAA)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1000}));
  cmd->add_option("--cache-entries", a.cache_entries,
                  "Finished DNS answers kept for sharing between domains")
      ->capture_default_str();
  cmd->add_flag("--summary,!--no-summary", o->summary,
                "A one-line summary on stderr at the end (default: when stderr is a terminal)")
      ->default_str("");
}

}  // namespace

int main(int argc, char** argv) {
  // A closed stdout (`mxray scan | head`) must end the run with a message and exit 1, not kill
  // it silently: write errors come back as EPIPE to the OutputSink instead.
  signal(SIGPIPE, SIG_IGN);
  CLI::App app{
      "mxray audits the mail endpoints of large lists of domains and writes one JSON line per "
      "domain.\nExamples:\n  mxray scan domains.txt -o audit.jsonl\n  "
      "zcat list.gz | mxray scan --resolver 127.0.0.1:53 - | jq -c 'select(.status!=\"ok\")'\n  "
      "mxray demo"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Help for every command");

  mxray::cli::ScanOptions scan;
  scan.summary = isatty(STDERR_FILENO) != 0;
  std::vector<std::string> inputs;
  CLI::App* scan_cmd = app.add_subcommand(
      "scan", "Audit domains read from FILEs (one per line, '-' or none for stdin)");
  scan_cmd->add_option("FILE", inputs, "Input files; '-' is stdin")->option_text("FILE...");
  AddScanFlags(scan_cmd, &scan);

  mxray::cli::DemoOptions demo;
  CLI::App* demo_cmd = app.add_subcommand(
      "demo", "Start the built-in simulated fleet on loopback and audit it");
  demo_cmd->add_option("--domains", demo.domains, "Size of the simulated population")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{10000000}));
  demo_cmd->add_option("--seed", demo.seed, "Seed of the population")->capture_default_str();
  demo_cmd->add_option("-o,--output", demo.output, "Write JSON lines to FILE ('-' is stdout)")
      ->option_text("FILE")
      ->default_str("-");

  CLI::App* version_cmd = app.add_subcommand("version", "Print versions of mxray and its libraries");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help exits 0; every usage error exits 1, whatever CLI11's own code for it.
    return app.exit(e) == 0 ? 0 : 1;
  }

  if (*version_cmd) {
    std::printf("mxray %s (TLS: %s, c-ares %s, liburing)\n", MXRAY_VERSION,
                std::string(mxray::tls::TlsLibraryName()).c_str(), ares_version(nullptr));
    return 0;
  }
  if (*demo_cmd) {
    absl::Status s = mxray::cli::RunDemo(demo);
    if (!s.ok()) {
      std::fprintf(stderr, "mxray demo: %s\n", std::string(s.message()).c_str());
      return 1;
    }
    return 0;
  }
  if (!inputs.empty()) scan.audit.inputs = inputs;
  absl::Status s = mxray::cli::RunScan(scan);
  if (!s.ok()) {
    std::fprintf(stderr, "mxray scan: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
