// Every (address, port) endpoint of a run is probed at most once: domains that share it share the
// result, a domain that needs an endpoint in flight waits for it, and probes start only within
// the per-address, global and rate limits, so auditing a million domains on a few providers
// never hammers anyone.
#ifndef MXRAY_ENGINE_ENDPOINT_TABLE_H_
#define MXRAY_ENGINE_ENDPOINT_TABLE_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/functional/any_invocable.h"
#include "engine/address_policy.h"
#include "engine/audit_config.h"
#include "engine/port_record.h"
#include "engine/smtp_probe.h"
#include "engine/token_bucket.h"
#include "io/event_loop.h"
#include "io/ip_address.h"
#include "tls/client_context.h"

namespace mxray::engine {

struct EndpointStats {
  uint64_t probed = 0;   // probes started (connections attempted)
  uint64_t reused = 0;   // requests answered by a finished or running probe
  uint64_t blocked = 0;  // endpoints not contacted because of the address policy
  uint64_t active_peak = 0;
  uint64_t per_address_peak = 0;  // most connections ever open to one address at once
  uint64_t retried = 0;           // probes started again after a temporary failure
};

class EndpointTable : public SmtpProbe::Owner, public io::TimerHandler {
 public:
  using Callback = absl::AnyInvocable<void(const PortRecordPtr&)>;

  // `tls` is the run's client context (null: no TLS).
  EndpointTable(io::EventLoop* loop, const ProbeConfig* config, const AddressPolicy* policy,
                const tls::ClientContext* tls);
  ~EndpointTable() override;

  // Calls `done` with the endpoint's record: at once when it is known, later otherwise.
  // `server_name` is the MX name asking: the first one to ask is the endpoint's TLS SNI.
  void Get(const io::IpAddress& ip, uint16_t port, std::string_view server_name, Callback done);

  size_t active() const { return active_; }
  // Probes started whose socket the kernel has not yet fully let go of.
  size_t busy() const { return busy_ + retries_pending_; }
  const EndpointStats& stats() const { return stats_; }

  void OnProbeDone(SmtpProbe* probe, PortRecordPtr record) override;
  void OnProbeReusable(SmtpProbe* probe) override;
  void OnTimer(uint64_t cookie) override;

 private:
  struct Key {
    io::IpAddress ip;
    uint16_t port;
    friend bool operator==(const Key& a, const Key& b) = default;
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.ip, k.port);
    }
  };
  struct Entry {
    PortRecordPtr result;
    std::vector<Callback> waiters;
    std::string server_name;  // until the last attempt starts
    uint8_t attempts = 0;     // probes started
  };
  struct AddressState {
    uint32_t active = 0;
    bool queued = false;  // in ready_
    // Ports of this address waiting for a connection slot: a handful at most, kept inline (a
    // std::deque would cost a 512-byte block per address).
    absl::InlinedVector<uint16_t, 4> waiting;
  };

  void Pump();
  bool TakeToken();
  void StartProbe(const Key& key);
  void Enqueue(const io::IpAddress& ip, uint16_t port);
  void ScheduleRetry(const Key& key, uint8_t attempts);

  io::EventLoop* loop_;
  const ProbeConfig* config_;
  const AddressPolicy* policy_;
  const tls::ClientContext* tls_;
  absl::flat_hash_map<Key, Entry> entries_;
  absl::flat_hash_map<io::IpAddress, AddressState> addresses_;
  std::deque<io::IpAddress> ready_;  // addresses with a waiting port and a free per-address slot
  std::vector<std::unique_ptr<SmtpProbe>> probes_;
  std::vector<SmtpProbe*> free_probes_;
  size_t active_ = 0;
  size_t busy_ = 0;
  size_t max_connections_;
  TokenBucket bucket_;
  io::TimerId rate_timer_;
  // Endpoints waiting for their retry, by timer cookie - 1; free slots are reused.
  std::vector<Key> retry_keys_;
  std::vector<io::TimerId> retry_timers_;  // parallel to retry_keys_
  std::vector<uint64_t> free_retry_slots_;
  size_t retries_pending_ = 0;
  EndpointStats stats_;
};

}  // namespace mxray::engine

#endif  // MXRAY_ENGINE_ENDPOINT_TABLE_H_
