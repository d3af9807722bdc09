// The fleet's event loop: one thread, epoll, level-triggered. Every fleet server (DNS now, SMTP,
// TLS and DNSBL later) registers its sockets here, so a whole fleet costs one core and mxray keeps
// the other. epoll rather than io/'s io_uring loop because the DNS server's UDP path is a
// recvmmsg/sendmmsg batch, and because a simulator sharing mxray's own I/O code could share its
// bugs too.
#ifndef MXRAY_TOOLS_FLEET_EPOLL_LOOP_H_
#define MXRAY_TOOLS_FLEET_EPOLL_LOOP_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mxray::fleet {

// Watch tags of pooled connections, shared by the fleet's servers: slot (46 bits), slot
// generation (16 bits) and a 2-bit kind of the server's own. An event whose generation no longer
// matches its slot belongs to a connection already closed in the same batch.
inline uint64_t ConnectionTag(uint32_t slot, uint16_t generation, uint64_t kind) {
  return uint64_t(slot) << 18 | uint64_t(generation) << 2 | kind;
}
inline uint32_t TagSlot(uint64_t tag) { return uint32_t(tag >> 18); }
inline uint16_t TagGeneration(uint64_t tag) { return uint16_t(tag >> 2); }

class EpollLoop {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // `tag` is what the handler registered the fd with (48 bits): it names the socket and, with
    // a generation, lets the handler drop events for a socket it already closed in this batch.
    virtual void OnEvents(uint64_t tag, uint32_t events) = 0;
    // About once a second, on the loop thread: idle sweeps and the like.
    virtual void OnTick(int64_t now_ms) {}
  };
  static constexpr uint64_t kMaxTag = (uint64_t(1) << 48) - 1;

  static absl::StatusOr<std::unique_ptr<EpollLoop>> Create();
  ~EpollLoop();  // stops the thread first
  EpollLoop(const EpollLoop&) = delete;
  EpollLoop& operator=(const EpollLoop&) = delete;

  // Registration happens before Start() or on the loop thread.
  uint16_t AddHandler(Handler* handler);
  absl::Status Watch(int fd, uint32_t events, uint16_t handler, uint64_t tag);
  absl::Status Rewatch(int fd, uint32_t events, uint16_t handler, uint64_t tag);
  void Unwatch(int fd);

  // Runs the loop on its own thread until Stop().
  void Start();
  // From any thread; returns once the loop thread has exited. Idempotent.
  void Stop();
  // One wait-and-dispatch round on the calling thread (tests drive the loop this way).
  void RunOnce(int timeout_ms);

  static int64_t NowMs();

 private:
  EpollLoop(int epoll_fd, int wake_fd);
  void Run();

  int epoll_fd_;
  int wake_fd_;  // eventfd: Stop() writes to it so that epoll_wait returns at once
  std::vector<Handler*> handlers_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  int64_t last_tick_ms_ = 0;
};

}  // namespace mxray::fleet

#endif  // MXRAY_TOOLS_FLEET_EPOLL_LOOP_H_
