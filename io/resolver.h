// The typed DNS resolver: c-ares driven by the EventLoop (its sockets become polls, its timeouts
// a loop timer), no threads. Answers arrive as structs with a closed status set; CNAME chains
// that an answer leaves open are followed by asking again, within the hop limit.
#ifndef MXRAY_IO_RESOLVER_H_
#define MXRAY_IO_RESOLVER_H_

#include <ares.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "io/dns_answer.h"
#include "io/dns_types.h"
#include "io/event_loop.h"

namespace mxray::io {

struct ResolverOptions {
  // "ADDR", "ADDR:PORT", "[V6]:PORT"; empty means the system's resolv.conf.
  std::vector<std::string> servers;
  int timeout_ms = 2000;  // first try; c-ares doubles it on each further round
  int retries = 1;        // tries after the first
  AnswerLimits limits;
};

struct ResolverStats {
  uint64_t lookups = 0;  // typed lookups asked for
  uint64_t queries = 0;  // messages asked of c-ares (CNAME re-queries included)
  uint64_t by_status[7] = {};
};

class Resolver {
 public:
  using MxCallback = absl::AnyInvocable<void(MxAnswer&&)>;
  using AddressCallback = absl::AnyInvocable<void(AddressAnswer&&)>;
  using TxtCallback = absl::AnyInvocable<void(TxtAnswer&&)>;
  using PtrCallback = absl::AnyInvocable<void(PtrAnswer&&)>;

  static absl::StatusOr<std::unique_ptr<Resolver>> Create(EventLoop* loop,
                                                          const ResolverOptions& options);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // Callbacks run on the loop, never inside the call that started the lookup and never inside
  // c-ares, so they may start further lookups freely.
  void ResolveMx(std::string_view name, MxCallback done);
  void ResolveAddress(std::string_view name, DnsType type, AddressCallback done);  // kA or kAaaa
  void ResolveTxt(std::string_view name, TxtCallback done);
  void ResolvePtr(std::string_view name, PtrCallback done);  // name: the in-addr/ip6.arpa name

  size_t in_flight() const { return in_flight_; }
  const ResolverStats& stats() const { return stats_; }

 private:
  struct Query;
  class SocketWatch;
  class TimerBridge;

  Resolver(EventLoop* loop, const ResolverOptions& options);
  void Start(Query* q);
  void Send(Query* q);
  static void OnAresAnswer(void* arg, int status, int timeouts, unsigned char* abuf, int alen);
  void Finish(Query* q);
  void DrainCompleted();
  void ScheduleDrain();
  void ProcessFd(int read_fd, int write_fd);
  void ArmTimer();
  static void OnSocketState(void* data, ares_socket_t fd, int readable, int writable);
  void SocketState(int fd, bool readable, bool writable);
  Query* NewQuery();
  void FreeQuery(Query* q);

  EventLoop* loop_;
  ResolverOptions options_;
  ares_channel channel_ = nullptr;
  absl::flat_hash_map<int, SocketWatch*> sockets_;
  std::unique_ptr<TimerBridge> timer_bridge_;
  TimerId timer_;
  uint64_t timer_deadline_ns_ = 0;
  std::vector<Query*> completed_;
  std::vector<Query*> batch_;  // completed queries being delivered; kept for its capacity
  std::vector<std::unique_ptr<Query>> pool_storage_;
  std::vector<Query*> free_queries_;
  size_t in_flight_ = 0;
  bool in_ares_ = false;
  bool draining_ = false;
  bool drain_scheduled_ = false;
  ResolverStats stats_;
};

}  // namespace mxray::io

#endif  // MXRAY_IO_RESOLVER_H_
