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
  mxray::engine::ProbeConfig& p = a.probe;
  cmd->add_option("--ports", o->ports_spec,
                  "Logical ports probed on every MX address, comma-separated; 'none' for DNS only")
      ->capture_default_str();
  cmd->add_option("--port-map", o->port_map_spec,
                  "Dial another TCP port for a logical port, e.g. 25=10025,587=10587 (the JSON "
                  "keeps the logical port)")
      ->option_text("PORT=PORT,...");
  cmd->add_option("--dnsbl", a.reputation.dnsbl,
                  "DNSBL zones queried for every MX address, comma-separated, each optionally "
                  "ZONE=PROFILE (spamhaus-zen, spamcop, barracuda, generic); 'none' for no DNSBL "
                  "(default: zen.spamhaus.org,bl.spamcop.net,b.barracudacentral.org)")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->option_text("ZONE[=PROFILE],...|none");
  cmd->add_flag("--dnsbl-txt", a.reputation.dnsbl_txt, "Also fetch the TXT reason of a listing");
  cmd->add_option("--spamhaus-key", a.reputation.spamhaus_key,
                  "Spamhaus Data Query Service key: query KEY.zen.dq.spamhaus.net instead of the "
                  "public zen.spamhaus.org")
      ->option_text("KEY");
  cmd->add_flag("--ptr,!--no-ptr", a.reputation.ptr,
                "Look up the PTR of every MX address and forward-confirm it (default: on)")
      ->default_str("");
  cmd->add_option("--ehlo-name", p.session.ehlo_name,
                  "Name sent with EHLO/HELO (default: this host's name)");
  cmd->add_option("--max-connections", p.max_connections,
                  "SMTP connections open at once (never above what the open-files limit allows)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1000000}));
  cmd->add_option("--per-address-connections", p.per_address_connections,
                  "Connections open at once to one address")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1000}));
  cmd->add_option("--rate", p.rate, "New connections per second (0: no limit)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e9));
  cmd->add_flag("--allow-private", p.allow_private,
                "Also contact loopback, private, link-local and other special-purpose addresses "
                "found in DNS (labs, the simulated fleet)");
  cmd->add_option("--blocklist", p.blocklist_path,
                  "File of CIDRs never to contact (zmap's format: one per line, # comments)")
      ->option_text("FILE");
  auto deadline = [cmd](const char* flag, uint32_t* ms, const char* help) {
    cmd->add_option(flag, *ms, help)->capture_default_str()->check(CLI::Range(1u, 3'600'000u));
  };
  deadline("--connect-timeout-ms", &p.connect_timeout_ms, "TCP connect deadline");
  deadline("--banner-timeout-ms", &p.banner_timeout_ms,
           "Deadline for the complete greeting (servers delay it on purpose)");
  deadline("--command-timeout-ms", &p.command_timeout_ms,
           "Deadline for the complete reply to each command");
  deadline("--quit-timeout-ms", &p.quit_timeout_ms, "Deadline for the reply to QUIT");
  deadline("--endpoint-timeout-ms", &p.endpoint_timeout_ms,
           "Deadline for everything done on one endpoint");
  deadline("--tls-timeout-ms", &p.tls_timeout_ms, "Deadline for the whole TLS handshake");
  cmd->add_option("--retries", p.retries,
                  "Tries after the first for an endpoint that answered 421 or another 4xx to the "
                  "greeting or EHLO")
      ->capture_default_str()
      ->check(CLI::Range(0u, 10u));
  cmd->add_option("--retry-delay-ms", p.retry_delay_ms,
                  "Delay before the first retry; it doubles with each further one")
      ->capture_default_str()
      ->check(CLI::Range(1u, 3'600'000u));
  cmd->add_option_function<std::string>(
         "--starttls",
         [&p](const std::string& mode) {
           p.session.starttls = mode == "always"  ? mxray::engine::StarttlsMode::kAlways
                                : mode == "never" ? mxray::engine::StarttlsMode::kNever
                                                  : mxray::engine::StarttlsMode::kAuto;
         },
         "STARTTLS on 25/587: auto (when EHLO offers it), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->default_str("auto");
  cmd->add_option("--ca-file", p.ca_file,
                  "PEM roots that count as trusted when verifying certificates (default: the "
                  "system bundle, /etc/ssl/certs/ca-certificates.crt)")
      ->option_text("FILE");
  cmd->add_flag("--tls-chain", p.tls_chain,
                "Also record the whole certificate chain as PEM (tls.chain_pem)");
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
  CLI::App* demo_cmd =
      app.add_subcommand("demo", "Start the built-in simulated fleet on loopback and audit it");
  demo_cmd->add_option("--domains", demo.domains, "Size of the simulated population")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{10000000}));
  demo_cmd->add_option("--seed", demo.seed, "Seed of the population")->capture_default_str();
  demo_cmd->add_option("-o,--output", demo.output, "Write JSON lines to FILE ('-' is stdout)")
      ->option_text("FILE")
      ->default_str("-");

  CLI::App* version_cmd =
      app.add_subcommand("version", "Print versions of mxray and its libraries");

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
  if (absl::Status s = mxray::cli::ApplyProbeSpecs(&scan); !s.ok()) {
    std::fprintf(stderr, "mxray scan: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  absl::Status s = mxray::cli::RunScan(scan);
  if (!s.ok()) {
    std::fprintf(stderr, "mxray scan: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
