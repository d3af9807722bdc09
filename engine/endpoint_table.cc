// EndpointTable: deduplication, per-address politeness, the global connection budget and the
// optional connection rate, in front of a pool of SmtpProbes.
#include "engine/endpoint_table.h"

#include <sys/resource.h>

#include <algorithm>

namespace mxray::engine {
namespace {

// Descriptors kept back from the probes: stdio, the ring, c-ares sockets, output and input files.
constexpr size_t kReservedDescriptors = 64;

size_t ConnectionBudget(size_t wanted) {
  rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    size_t limit = rl.rlim_cur > kReservedDescriptors * 2 ? rl.rlim_cur - kReservedDescriptors
                                                          : rl.rlim_cur / 2;
    wanted = std::min(wanted, std::max<size_t>(limit, 1));
  }
  return std::max<size_t>(wanted, 1);
}

}  // namespace

EndpointTable::EndpointTable(io::EventLoop* loop, const ProbeConfig* config,
                             const AddressPolicy* policy, const tls::ClientContext* tls)
    : loop_(loop),
      config_(config),
      policy_(policy),
      tls_(tls),
      max_connections_(ConnectionBudget(config->max_connections)),
      // A tenth of a second's worth may go at once, so a rate of 100/s is not 100 at t=0.
      bucket_(config->rate, config->rate / 10, loop->now_ns()) {}

EndpointTable::~EndpointTable() {
  loop_->CancelTimer(rate_timer_);
  for (io::TimerId& t : retry_timers_) loop_->CancelTimer(t);
}

void EndpointTable::Get(const io::IpAddress& ip, uint16_t port, std::string_view server_name,
                        Callback done) {
  Key key{ip, port};
  auto [it, inserted] = entries_.try_emplace(key);
  if (!inserted) {
    ++stats_.reused;
    if (it->second.result) {
      PortRecordPtr result = it->second.result;
      done(result);
    } else {
      it->second.waiters.push_back(std::move(done));
    }
    return;
  }
  BlockReason reason = policy_->Check(ip);
  if (reason != BlockReason::kNone) {
    ++stats_.blocked;
    auto record = std::make_shared<PortRecord>();
    record->port = port;
    record->state = PortState::kBlocked;
    record->outcome = ProbeOutcome::kBlocked;
    record->blocked_reason = std::string(BlockReasonName(reason));
    it->second.result = record;
    done(it->second.result);
    return;
  }
  it->second.waiters.push_back(std::move(done));
  if (tls_ != nullptr) it->second.server_name.assign(server_name);
  Enqueue(ip, port);
  Pump();
}

void EndpointTable::Enqueue(const io::IpAddress& ip, uint16_t port) {
  AddressState& a = addresses_[ip];
  a.waiting.push_back(port);
  if (!a.queued && a.active < config_->per_address_connections) {
    a.queued = true;
    ready_.push_back(ip);
  }
}

bool EndpointTable::TakeToken() {
  uint64_t now = loop_->now_ns();
  if (bucket_.Take(now)) return true;
  if (!rate_timer_.valid()) rate_timer_ = loop_->AddTimer(bucket_.NextAt(now), this, 0);
  return false;
}

void EndpointTable::OnTimer(uint64_t cookie) {
  if (cookie == 0) {
    rate_timer_ = io::TimerId{};
  } else {
    // A retry is due: it queues like a new request, within every limit.
    Key key = retry_keys_[cookie - 1];
    retry_timers_[cookie - 1] = io::TimerId{};
    free_retry_slots_.push_back(cookie - 1);
    --retries_pending_;
    Enqueue(key.ip, key.port);
  }
  Pump();
}

void EndpointTable::ScheduleRetry(const Key& key, uint8_t attempts) {
  uint64_t slot;
  if (!free_retry_slots_.empty()) {
    slot = free_retry_slots_.back();
    free_retry_slots_.pop_back();
    retry_keys_[slot] = key;
  } else {
    slot = retry_keys_.size();
    retry_keys_.push_back(key);
    retry_timers_.emplace_back();
  }
  ++retries_pending_;
  ++stats_.retried;
  // Backoff: the delay doubles with each attempt (capped so that it cannot overflow).
  uint64_t delay_ms = uint64_t(config_->retry_delay_ms) << std::min<uint8_t>(attempts - 1, 16);
  retry_timers_[slot] = loop_->AddTimer(loop_->now_ns() + delay_ms * 1'000'000, this, slot + 1);
}

void EndpointTable::Pump() {
  while (!ready_.empty() && active_ < max_connections_) {
    io::IpAddress ip = ready_.front();
    auto it = addresses_.find(ip);
    if (it == addresses_.end() || it->second.waiting.empty() ||
        it->second.active >= config_->per_address_connections) {
      ready_.pop_front();
      if (it != addresses_.end()) it->second.queued = false;
      continue;
    }
    if (!TakeToken()) return;
    ready_.pop_front();
    AddressState& a = it->second;
    uint16_t port = a.waiting.front();
    a.waiting.erase(a.waiting.begin());
    ++a.active;
    stats_.per_address_peak = std::max<uint64_t>(stats_.per_address_peak, a.active);
    if (!a.waiting.empty() && a.active < config_->per_address_connections) {
      ready_.push_back(ip);  // still queued
    } else {
      a.queued = false;
    }
    StartProbe(Key{ip, port});
  }
}

void EndpointTable::StartProbe(const Key& key) {
  SmtpProbe* probe;
  if (!free_probes_.empty()) {
    probe = free_probes_.back();
    free_probes_.pop_back();
  } else {
    probes_.push_back(std::make_unique<SmtpProbe>(loop_, config_, tls_, this));
    probe = probes_.back().get();
  }
  ++active_;
  ++busy_;
  ++stats_.probed;
  stats_.active_peak = std::max<uint64_t>(stats_.active_peak, active_);
  auto it = entries_.find(key);
  std::string server_name;
  uint8_t attempt = 1;
  if (it != entries_.end()) {
    attempt = ++it->second.attempts;
    // Kept while a retry may follow; the last attempt takes it.
    if (attempt > config_->retries) {
      server_name.swap(it->second.server_name);
    } else {
      server_name = it->second.server_name;
    }
  }
  probe->Start(key.ip, key.port, server_name, attempt);
}

void EndpointTable::OnProbeDone(SmtpProbe* probe, PortRecordPtr record) {
  std::vector<Callback> waiters;
  Key key{probe->ip(), probe->port()};
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    if (IsTemporaryFailure(*record) && it->second.attempts <= config_->retries) {
      ScheduleRetry(key, it->second.attempts);  // the waiters wait for the last attempt
      return;
    }
    it->second.result = record;
    std::string().swap(it->second.server_name);  // no attempt follows
    waiters = std::move(it->second.waiters);
  }
  for (Callback& w : waiters) w(record);
}

// The connection counts against the global and per-address limits until our side of it is
// closed, not merely until its record is known: politeness is about sockets, not results.
void EndpointTable::OnProbeReusable(SmtpProbe* probe) {
  --busy_;
  --active_;
  free_probes_.push_back(probe);
  io::IpAddress ip = probe->ip();
  auto at = addresses_.find(ip);
  if (at != addresses_.end()) {
    AddressState& a = at->second;
    --a.active;
    if (a.active == 0 && a.waiting.empty() && !a.queued) {
      addresses_.erase(at);
    } else if (!a.waiting.empty() && !a.queued) {
      a.queued = true;
      ready_.push_back(ip);
    }
  }
  Pump();
}

}  // namespace mxray::engine
