// The io_uring event loop: every socket operation, poll and deadline of a run goes through one
// EventLoop on one thread. Users register a slot and get tagged completions back; probes never
// touch the ring. Deadlines live in a userspace timer heap that sets how long the loop waits.
#ifndef MXRAY_IO_EVENT_LOOP_H_
#define MXRAY_IO_EVENT_LOOP_H_

#include <liburing.h>
#include <sys/socket.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"

namespace mxray::io {

// The operation a completion belongs to. At most one operation of each kind per slot is in
// flight, so (slot, generation, kind) names an operation exactly and can be cancelled.
enum class OpKind : uint8_t {
  kConnect = 1,
  kRecv,
  kSend,
  kClose,
  kPoll,
  kPollRemove,
  kCancel,
  kLinkTimeout,  // internal: the timeout linked to a connect
};

// Identifies a registered user of the loop. Index plus generation: a completion for an older
// generation of the same index is stale and dropped.
struct SlotId {
  uint32_t index = 0;
  uint32_t generation = 0;
  friend bool operator==(SlotId a, SlotId b) = default;
};

class IoHandler {
 public:
  virtual ~IoHandler() = default;
  // `res` is the operation's result (bytes, 0, or -errno). For kConnect with a deadline,
  // -ETIMEDOUT means the deadline passed. `more` is set while a multishot operation stays armed.
  virtual void OnIo(OpKind op, int32_t res, bool more) = 0;
};

class TimerHandler {
 public:
  virtual ~TimerHandler() = default;
  virtual void OnTimer(uint64_t cookie) = 0;
};

struct TimerId {
  uint32_t index = 0;
  uint32_t generation = 0;  // 0 never names a live timer
  bool valid() const { return generation != 0; }
};

struct EventLoopOptions {
  unsigned sq_entries = 4096;
  unsigned cq_entries = 16384;
  // IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN: much faster, needs kernel >= 6.1.
  bool single_issuer = true;
};

struct EventLoopStats {
  uint64_t submitted = 0;
  uint64_t completions = 0;
  uint64_t stale_completions = 0;  // arrived for a released slot: counted and dropped
  uint64_t backlogged = 0;         // requests that waited because the submission queue was full
  uint64_t timers_fired = 0;
};

class EventLoop {
 public:
  static absl::StatusOr<std::unique_ptr<EventLoop>> Create(const EventLoopOptions& options = {});
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Slots. Release stops delivery at once; the index is reused only once every operation that
  // was in flight for it has completed, so a late completion can never reach a new owner.
  SlotId Register(IoHandler* handler);
  void Release(SlotId slot);
  // Release, then run `drained` (deferred, on the loop) once no operation of the slot is in
  // flight any more: the moment buffers the kernel might still write into may be reused.
  void Release(SlotId slot, absl::AnyInvocable<void()> drained);
  // Operations in flight for a slot (also after Release, until they drain).
  uint32_t InFlight(SlotId slot) const;

  // Operations. Buffers and addresses stay owned by the caller and must live until completion.
  // deadline_ns > 0 links a timeout to the connect.
  void Connect(SlotId slot, int fd, const sockaddr* addr, socklen_t len, uint64_t deadline_ns);
  void Recv(SlotId slot, int fd, void* buf, size_t len);
  void Send(SlotId slot, int fd, const void* buf, size_t len);
  void Close(SlotId slot, int fd);
  // One-shot poll: fires once when `events` (POLLIN/POLLOUT) are ready. The multishot form stays
  // armed (completions with more=true) until removed.
  void PollAdd(SlotId slot, int fd, uint32_t events, bool multishot = false);
  void PollRemove(SlotId slot);
  // Asks the kernel to cancel the slot's operation of that kind (its completion then carries
  // -ECANCELED, or its normal result if it won the race).
  void Cancel(SlotId slot, OpKind op);

  // Timers, on the loop's monotonic clock.
  TimerId AddTimer(uint64_t deadline_ns, TimerHandler* handler, uint64_t cookie);
  void CancelTimer(TimerId& id);  // resets id; cancelling a fired or invalid timer is a no-op
  size_t timers_pending() const { return live_timers_; }
  size_t timer_heap_size() const { return heap_.size(); }

  // Runs `fn` after the current batch of completions (never recursively inside a callback).
  void Defer(absl::AnyInvocable<void()> fn);

  // The loop's clock: monotonic nanoseconds, read once per iteration.
  uint64_t now_ns() const { return now_ns_; }
  static uint64_t MonotonicNs();

  // Submits what is queued, waits for at least one completion or the next timer (at most
  // max_wait_ns), then dispatches every completion taken, due timers and deferred work.
  void RunOnce(uint64_t max_wait_ns = 1'000'000'000);
  // Whether anything could still produce an event: operations in flight, timers, deferred work.
  bool HasWork() const;

  const EventLoopStats& stats() const { return stats_; }

 private:
  struct Slot {
    IoHandler* handler = nullptr;
    uint32_t generation = 1;
    uint32_t in_flight = 0;
    bool live = false;
    bool connect_cancelled = false;  // a -ECANCELED connect was asked for, not a deadline
    absl::AnyInvocable<void()> drained;
  };
  // A request that found the submission queue full waits here, in order.
  struct Request {
    OpKind op;
    SlotId slot;
    int fd = -1;
    void* buf = nullptr;
    size_t len = 0;
    const sockaddr* addr = nullptr;
    socklen_t addr_len = 0;
    uint64_t deadline_ns = 0;
    uint32_t events = 0;
    bool multishot = false;
    OpKind target = OpKind::kCancel;  // for kCancel
  };
  struct Timer {
    TimerHandler* handler = nullptr;
    uint64_t cookie = 0;
    uint32_t generation = 1;
    bool live = false;
  };
  struct HeapEntry {
    uint64_t deadline_ns;
    uint32_t index;
    uint32_t generation;
  };

  explicit EventLoop(const EventLoopOptions& options);
  void Issue(const Request& r);
  bool TryPrepare(const Request& r);
  void DrainBacklog();
  void Dispatch(uint64_t user_data, int32_t res, uint32_t flags);
  void FireTimers();
  void CompactTimers();
  Slot* LiveSlot(SlotId id);

  io_uring ring_{};
  bool ring_ok_ = false;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  std::deque<Request> backlog_;
  std::vector<Timer> timers_;
  std::vector<uint32_t> free_timers_;
  std::vector<HeapEntry> heap_;  // min-heap by deadline; cancelled entries are skipped lazily
  size_t live_timers_ = 0;
  std::vector<absl::AnyInvocable<void()>> deferred_;
  std::vector<absl::AnyInvocable<void()>> running_;  // kept to reuse its capacity each turn
  std::vector<io_uring_cqe> batch_;
  uint64_t now_ns_ = 0;
  uint32_t pending_sqes_ = 0;
  uint64_t total_in_flight_ = 0;
  EventLoopStats stats_;
  // Linked-timeout durations must stay put until the kernel has read them at submit.
  std::deque<__kernel_timespec> link_timeouts_;
};

}  // namespace mxray::io

#endif  // MXRAY_IO_EVENT_LOOP_H_
