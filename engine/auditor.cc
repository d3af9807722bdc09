// Auditor: input → jobs → records, with a bounded number of jobs alive at once.
#include "engine/auditor.h"

#include <algorithm>

namespace mxray::engine {

absl::StatusOr<std::unique_ptr<Auditor>> Auditor::Create(const AuditConfig& config) {
  if (config.concurrency == 0) return absl::InvalidArgumentError("concurrency must be at least 1");
  std::unique_ptr<Auditor> a(new Auditor(config));
  absl::StatusOr<std::unique_ptr<io::EventLoop>> loop = io::EventLoop::Create();
  if (!loop.ok()) return loop.status();
  a->loop_ = *std::move(loop);
  absl::StatusOr<std::unique_ptr<io::Resolver>> resolver =
      io::Resolver::Create(a->loop_.get(), config.resolver);
  if (!resolver.ok()) return resolver.status();
  a->resolver_ = *std::move(resolver);

  io::Resolver* r = a->resolver_.get();
  // A domain's MX answer is rarely asked twice (duplicate input lines): a small window of finished
  // answers is enough, while exchange addresses are shared by many domains and get the room.
  a->mx_cache_ = std::make_unique<LookupCache<io::MxAnswer>>(
      std::min<size_t>(config.cache_entries, 4096),
      [r](const std::string& name, auto complete) { r->ResolveMx(name, std::move(complete)); });
  a->a_cache_ = std::make_unique<LookupCache<io::AddressAnswer>>(
      config.cache_entries, [r](const std::string& name, auto complete) {
        r->ResolveAddress(name, io::DnsType::kA, std::move(complete));
      });
  a->aaaa_cache_ = std::make_unique<LookupCache<io::AddressAnswer>>(
      config.cache_entries, [r](const std::string& name, auto complete) {
        r->ResolveAddress(name, io::DnsType::kAaaa, std::move(complete));
      });
  AddressPolicyOptions policy;
  policy.allow_private = config.probe.allow_private;
  if (!config.probe.blocklist_path.empty()) {
    absl::StatusOr<CidrSet> blocklist = LoadBlocklist(config.probe.blocklist_path);
    if (!blocklist.ok()) return blocklist.status();
    policy.blocklist = *std::move(blocklist);
  }
  a->policy_ = std::make_unique<AddressPolicy>(std::move(policy));
  {
    std::vector<std::string> specs = config.reputation.dnsbl;
    if (specs.empty()) specs.assign(std::begin(kDefaultDnsblZones), std::end(kDefaultDnsblZones));
    absl::StatusOr<std::vector<DnsblZone>> zones =
        ParseDnsblZones(specs, config.reputation.spamhaus_key);
    if (!zones.ok()) return zones.status();
    ReputationOptions ro;
    ro.zones = *std::move(zones);
    ro.dnsbl_txt = config.reputation.dnsbl_txt;
    ro.ptr = config.reputation.ptr;
    ro.cache_entries = config.cache_entries;
    if (!ro.zones.empty() || ro.ptr) {
      a->reputation_ = std::make_unique<Reputation>(a->resolver_.get(), std::move(ro));
    }
  }
  if (!config.probe.ports.empty()) {
    if (NeedsTls(config.probe)) {
      absl::StatusOr<std::unique_ptr<tls::ClientContext>> tls =
          tls::ClientContext::Create(config.probe.ca_file);
      if (!tls.ok()) return tls.status();
      a->tls_ = *std::move(tls);
    }
    a->endpoints_ = std::make_unique<EndpointTable>(a->loop_.get(), &a->config_.probe,
                                                    a->policy_.get(), a->tls_.get());
  }
  return a;
}

bool Auditor::NeedsTls(const ProbeConfig& probe) {
  if (probe.session.starttls != StarttlsMode::kNever) return true;
  for (uint16_t port : probe.ports) {
    if (probe.ImplicitTls(port)) return true;
  }
  return false;
}

Auditor::Auditor(const AuditConfig& config) : config_(config) {}

Auditor::~Auditor() {
  // Jobs and caches hold callbacks into each other: drop the resolver (and its queries) first.
  resolver_.reset();
}

void Auditor::Emit(const DomainRecord& record, RecordSink& sink) {
  ++stats_.lines;
  ++stats_.by_status[static_cast<int>(record.status)];
  if (!sink_status_.ok()) return;
  sink_status_ = sink.Write(record);
}

void Auditor::Refill(InputReader& input, RecordSink& sink) {
  InputLine line;
  while (!input_done_ && in_flight_ < config_.concurrency && sink_status_.ok()) {
    if (!input.Next(&line)) {
      input_done_ = true;
      break;
    }
    NormalizedDomain n = NormalizeInputLine(line);
    if (!n.ok) {
      ++stats_.invalid;
      invalid_record_ = DomainRecord{};
      invalid_record_.input = std::move(line.text);
      invalid_record_.status = DomainStatus::kInvalidInput;
      invalid_record_.error = std::string(n.error);
      Emit(invalid_record_, sink);
      continue;
    }
    DomainJob* job;
    if (!free_jobs_.empty()) {
      job = free_jobs_.back();
      free_jobs_.pop_back();
    } else {
      jobs_.push_back(std::make_unique<DomainJob>(
          &config_, DnsServices{mx_cache_.get(), a_cache_.get(), aaaa_cache_.get(),
                                endpoints_.get(), reputation_.get()}));
      job = jobs_.back().get();
    }
    ++in_flight_;
    stats_.in_flight_peak = std::max<uint64_t>(stats_.in_flight_peak, in_flight_);
    job->Start(std::move(line.text), std::move(n.domain), io::EventLoop::MonotonicNs(),
               [this, &sink](DomainJob* j) {
                 DomainRecord& rec = j->record();
                 rec.elapsed_ms = (io::EventLoop::MonotonicNs() - j->start_ns()) / 1'000'000;
                 Emit(rec, sink);
                 --in_flight_;
                 free_jobs_.push_back(j);
               });
  }
}

absl::Status Auditor::Run(InputReader& input, RecordSink& sink) {
  uint64_t start = io::EventLoop::MonotonicNs();
  if (reputation_ && !reputation_->zones().empty()) {
    // Zones are judged before any address is looked up in them (RFC 5782 §5).
    bool tested = false;
    reputation_->SelfTest([&tested] { tested = true; });
    while (!tested) loop_->RunOnce();
    for (const auto& z : reputation_->zones()) {
      stats_.dnsbl_self_test.emplace_back(z->zone, z->self_test);
    }
  }
  for (;;) {
    Refill(input, sink);
    if (in_flight_ == 0 && (input_done_ || !sink_status_.ok())) break;
    loop_->RunOnce();
  }
  // Every record is out; let the last sockets close so that the run leaves no descriptor.
  while (endpoints_ && endpoints_->busy() > 0) loop_->RunOnce();
  stats_.elapsed_ns = io::EventLoop::MonotonicNs() - start;
  stats_.mx_cache = mx_cache_->stats();
  stats_.a_cache = a_cache_->stats();
  stats_.aaaa_cache = aaaa_cache_->stats();
  stats_.resolver = resolver_->stats();
  if (endpoints_) stats_.endpoints = endpoints_->stats();
  if (!sink_status_.ok()) return sink_status_;
  return input.status();
}

}  // namespace mxray::engine
