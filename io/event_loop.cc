// EventLoop: tagged io_uring submissions, batched completion dispatch, a backlog for a full
// submission queue, and a lazily-compacted timer heap.
#include "io/event_loop.h"

#include <poll.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "io/check.h"

namespace mxray::io {
namespace {

// user_data layout: slot index (32 bits) | generation (24 bits) | op (8 bits). Generation 0 and
// user_data 0 are never produced for an operation.
constexpr uint32_t kGenerationMask = 0xFFFFFF;

uint64_t Tag(SlotId slot, OpKind op) {
  return uint64_t{slot.index} | (uint64_t{slot.generation & kGenerationMask} << 32) |
         (uint64_t{static_cast<uint8_t>(op)} << 56);
}

bool HeapLater(const auto& a, const auto& b) { return a.deadline_ns > b.deadline_ns; }

}  // namespace

uint64_t EventLoop::MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000 + uint64_t(ts.tv_nsec);
}

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::Create(const EventLoopOptions& options) {
  std::unique_ptr<EventLoop> loop(new EventLoop(options));
  io_uring_params params;
  std::memset(&params, 0, sizeof(params));
  params.flags = IORING_SETUP_CQSIZE;
  params.cq_entries = std::max(options.cq_entries, options.sq_entries * 2);
  if (options.single_issuer) {
    params.flags |= IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  }
  int rc = io_uring_queue_init_params(options.sq_entries, &loop->ring_, &params);
  if (rc < 0 && options.single_issuer) {
    // Older kernels lack DEFER_TASKRUN: still correct, only slower.
    std::memset(&params, 0, sizeof(params));
    params.flags = IORING_SETUP_CQSIZE;
    params.cq_entries = std::max(options.cq_entries, options.sq_entries * 2);
    rc = io_uring_queue_init_params(options.sq_entries, &loop->ring_, &params);
  }
  if (rc < 0) {
    return absl::ErrnoToStatus(-rc, absl::StrCat("io_uring_queue_init(", options.sq_entries, ")"));
  }
  loop->ring_ok_ = true;
  loop->now_ns_ = MonotonicNs();
  return loop;
}

EventLoop::EventLoop(const EventLoopOptions& options) {
  slots_.reserve(1024);
  batch_.reserve(std::max(options.cq_entries, options.sq_entries * 2));
}

EventLoop::~EventLoop() {
  if (ring_ok_) io_uring_queue_exit(&ring_);
}

SlotId EventLoop::Register(IoHandler* handler) {
  uint32_t index;
  if (!free_slots_.empty()) {
    index = free_slots_.back();
    free_slots_.pop_back();
  } else {
    index = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& s = slots_[index];
  MXRAY_CHECK(!s.live && s.in_flight == 0);
  s.handler = handler;
  s.live = true;
  s.connect_cancelled = false;
  return SlotId{index, s.generation};
}

void EventLoop::Release(SlotId id) {
  Slot* s = LiveSlot(id);
  MXRAY_CHECK(s != nullptr);
  s->live = false;
  s->handler = nullptr;
  s->generation = (s->generation + 1) & kGenerationMask;
  if (s->generation == 0) s->generation = 1;
  if (s->in_flight == 0) free_slots_.push_back(id.index);
}

void EventLoop::Release(SlotId id, absl::AnyInvocable<void()> drained) {
  uint32_t index = id.index;
  Release(id);
  Slot& s = slots_[index];
  if (s.in_flight == 0) {
    Defer(std::move(drained));
  } else {
    s.drained = std::move(drained);
  }
}

uint32_t EventLoop::InFlight(SlotId id) const {
  return id.index < slots_.size() ? slots_[id.index].in_flight : 0;
}

EventLoop::Slot* EventLoop::LiveSlot(SlotId id) {
  if (id.index >= slots_.size()) return nullptr;
  Slot& s = slots_[id.index];
  return s.live && s.generation == id.generation ? &s : nullptr;
}

void EventLoop::Connect(SlotId slot, int fd, const sockaddr* addr, socklen_t len,
                        uint64_t deadline_ns) {
  Issue(Request{.op = OpKind::kConnect,
                .slot = slot,
                .fd = fd,
                .addr = addr,
                .addr_len = len,
                .deadline_ns = deadline_ns});
}

void EventLoop::Recv(SlotId slot, int fd, void* buf, size_t len) {
  Issue(Request{.op = OpKind::kRecv, .slot = slot, .fd = fd, .buf = buf, .len = len});
}

void EventLoop::Send(SlotId slot, int fd, const void* buf, size_t len) {
  Issue(Request{
      .op = OpKind::kSend, .slot = slot, .fd = fd, .buf = const_cast<void*>(buf), .len = len});
}

void EventLoop::Close(SlotId slot, int fd) {
  Issue(Request{.op = OpKind::kClose, .slot = slot, .fd = fd});
}

void EventLoop::PollAdd(SlotId slot, int fd, uint32_t events, bool multishot) {
  Issue(Request{
      .op = OpKind::kPoll, .slot = slot, .fd = fd, .events = events, .multishot = multishot});
}

void EventLoop::PollRemove(SlotId slot) {
  Issue(Request{.op = OpKind::kPollRemove, .slot = slot, .fd = -1});
}

void EventLoop::Cancel(SlotId slot, OpKind op) {
  if (Slot* s = LiveSlot(slot); s != nullptr && op == OpKind::kConnect) s->connect_cancelled = true;
  Issue(Request{.op = OpKind::kCancel, .slot = slot, .fd = -1, .target = op});
}

void EventLoop::Issue(const Request& r) {
  MXRAY_CHECK(r.slot.index < slots_.size());
  Slot& s = slots_[r.slot.index];
  uint32_t ops = (r.op == OpKind::kConnect && r.deadline_ns > 0) ? 2 : 1;
  s.in_flight += ops;
  total_in_flight_ += ops;
  if (!backlog_.empty() || !TryPrepare(r)) {
    backlog_.push_back(r);
    ++stats_.backlogged;
  }
}

bool EventLoop::TryPrepare(const Request& r) {
  bool linked = r.op == OpKind::kConnect && r.deadline_ns > 0;
  if (io_uring_sq_space_left(&ring_) < (linked ? 2u : 1u)) return false;
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  MXRAY_CHECK(sqe != nullptr);
  switch (r.op) {
    case OpKind::kConnect:
      io_uring_prep_connect(sqe, r.fd, r.addr, r.addr_len);
      break;
    case OpKind::kRecv:
      io_uring_prep_recv(sqe, r.fd, r.buf, r.len, 0);
      break;
    case OpKind::kSend:
      io_uring_prep_send(sqe, r.fd, r.buf, r.len, MSG_NOSIGNAL);
      break;
    case OpKind::kClose:
      io_uring_prep_close(sqe, r.fd);
      break;
    case OpKind::kPoll:
      if (r.multishot) {
        io_uring_prep_poll_multishot(sqe, r.fd, r.events);
      } else {
        io_uring_prep_poll_add(sqe, r.fd, r.events);
      }
      break;
    case OpKind::kPollRemove:
      io_uring_prep_poll_remove(sqe, Tag(r.slot, OpKind::kPoll));
      break;
    case OpKind::kCancel:
      io_uring_prep_cancel64(sqe, Tag(r.slot, r.target), 0);
      break;
    case OpKind::kLinkTimeout:
      MXRAY_CHECK(false);
  }
  io_uring_sqe_set_data64(sqe, Tag(r.slot, r.op));
  ++pending_sqes_;
  if (linked) {
    sqe->flags |= IOSQE_IO_LINK;
    __kernel_timespec& ts = link_timeouts_.emplace_back();
    ts.tv_sec = static_cast<int64_t>(r.deadline_ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long long>(r.deadline_ns % 1'000'000'000);
    io_uring_sqe* t = io_uring_get_sqe(&ring_);
    MXRAY_CHECK(t != nullptr);
    io_uring_prep_link_timeout(t, &ts, 0);
    io_uring_sqe_set_data64(t, Tag(r.slot, OpKind::kLinkTimeout));
    ++pending_sqes_;
  }
  return true;
}

void EventLoop::DrainBacklog() {
  while (!backlog_.empty()) {
    if (!TryPrepare(backlog_.front())) {
      // The queue is full: hand what is prepared to the kernel and try again.
      int rc = io_uring_submit(&ring_);
      if (rc > 0) stats_.submitted += rc;
      pending_sqes_ = 0;
      link_timeouts_.clear();
      if (!TryPrepare(backlog_.front())) return;
    }
    backlog_.pop_front();
  }
}

TimerId EventLoop::AddTimer(uint64_t deadline_ns, TimerHandler* handler, uint64_t cookie) {
  uint32_t index;
  if (!free_timers_.empty()) {
    index = free_timers_.back();
    free_timers_.pop_back();
  } else {
    index = static_cast<uint32_t>(timers_.size());
    timers_.emplace_back();
  }
  Timer& t = timers_[index];
  t.handler = handler;
  t.cookie = cookie;
  t.live = true;
  heap_.push_back(HeapEntry{deadline_ns, index, t.generation});
  std::push_heap(heap_.begin(), heap_.end(), HeapLater<HeapEntry, HeapEntry>);
  ++live_timers_;
  if (heap_.size() > 4096 && heap_.size() > 4 * live_timers_) CompactTimers();
  return TimerId{index, t.generation};
}

void EventLoop::CancelTimer(TimerId& id) {
  if (!id.valid() || id.index >= timers_.size()) return;
  Timer& t = timers_[id.index];
  if (t.live && t.generation == id.generation) {
    t.live = false;
    if (++t.generation == 0) t.generation = 1;
    free_timers_.push_back(id.index);
    --live_timers_;
  }
  id = TimerId{};
}

void EventLoop::CompactTimers() {
  std::erase_if(heap_, [this](const HeapEntry& e) {
    const Timer& t = timers_[e.index];
    return !t.live || t.generation != e.generation;
  });
  std::make_heap(heap_.begin(), heap_.end(), HeapLater<HeapEntry, HeapEntry>);
}

void EventLoop::FireTimers() {
  while (!heap_.empty() && heap_.front().deadline_ns <= now_ns_) {
    HeapEntry e = heap_.front();
    std::pop_heap(heap_.begin(), heap_.end(), HeapLater<HeapEntry, HeapEntry>);
    heap_.pop_back();
    Timer& t = timers_[e.index];
    if (!t.live || t.generation != e.generation) continue;
    TimerHandler* handler = t.handler;
    uint64_t cookie = t.cookie;
    t.live = false;
    if (++t.generation == 0) t.generation = 1;
    free_timers_.push_back(e.index);
    --live_timers_;
    ++stats_.timers_fired;
    handler->OnTimer(cookie);
  }
}

void EventLoop::Defer(absl::AnyInvocable<void()> fn) { deferred_.push_back(std::move(fn)); }

bool EventLoop::HasWork() const {
  return total_in_flight_ > 0 || live_timers_ > 0 || !deferred_.empty() || !backlog_.empty();
}

void EventLoop::RunOnce(uint64_t max_wait_ns) {
  now_ns_ = MonotonicNs();
  DrainBacklog();

  uint64_t wait_ns = max_wait_ns;
  if (!deferred_.empty() || !backlog_.empty()) wait_ns = 0;
  while (!heap_.empty()) {
    const HeapEntry& top = heap_.front();
    const Timer& t = timers_[top.index];
    if (t.live && t.generation == top.generation) {
      wait_ns = std::min(wait_ns, top.deadline_ns > now_ns_ ? top.deadline_ns - now_ns_ : 0);
      break;
    }
    std::pop_heap(heap_.begin(), heap_.end(), HeapLater<HeapEntry, HeapEntry>);
    heap_.pop_back();
  }

  int rc;
  if (wait_ns == 0) {
    rc = io_uring_submit_and_get_events(&ring_);
  } else {
    __kernel_timespec ts;
    ts.tv_sec = static_cast<int64_t>(wait_ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long long>(wait_ns % 1'000'000'000);
    io_uring_cqe* cqe = nullptr;
    rc = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
  }
  if (pending_sqes_ > 0) stats_.submitted += pending_sqes_;
  pending_sqes_ = 0;
  link_timeouts_.clear();
  (void)rc;  // -ETIME and -EINTR only mean "nothing yet"; completions are read below either way.

  // Take the whole batch before running any callback: callbacks submit new work.
  batch_.clear();
  io_uring_cqe* cqe;
  unsigned head;
  unsigned count = 0;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    batch_.push_back(*cqe);
    ++count;
  }
  io_uring_cq_advance(&ring_, count);

  now_ns_ = MonotonicNs();
  for (const io_uring_cqe& c : batch_) Dispatch(c.user_data, c.res, c.flags);
  stats_.completions += batch_.size();

  now_ns_ = MonotonicNs();
  FireTimers();

  // Deferred work may defer more: run only what was queued before this point.
  if (!deferred_.empty()) {
    running_.swap(deferred_);
    for (auto& fn : running_) fn();
    running_.clear();
  }
}

void EventLoop::Dispatch(uint64_t user_data, int32_t res, uint32_t flags) {
  uint32_t index = static_cast<uint32_t>(user_data);
  uint32_t generation = static_cast<uint32_t>(user_data >> 32) & kGenerationMask;
  OpKind op = static_cast<OpKind>(user_data >> 56);
  MXRAY_CHECK(index < slots_.size());
  Slot& s = slots_[index];
  bool more = (flags & IORING_CQE_F_MORE) != 0;
  if (!more) {
    MXRAY_CHECK(s.in_flight > 0);
    --s.in_flight;
    --total_in_flight_;
  }
  if (!s.live || s.generation != generation) {
    ++stats_.stale_completions;
    if (!s.live && s.in_flight == 0 && !more) {
      free_slots_.push_back(index);
      if (s.drained) {
        Defer(std::move(s.drained));
        s.drained = nullptr;
      }
    }
    return;
  }
  switch (op) {
    case OpKind::kLinkTimeout:
    case OpKind::kPollRemove:
    case OpKind::kCancel:
      return;  // bookkeeping only: their effect shows on the operation they target
    case OpKind::kConnect:
      if (res == -ECANCELED && !s.connect_cancelled) res = -ETIMEDOUT;
      s.connect_cancelled = false;
      break;
    default:
      break;
  }
  s.handler->OnIo(op, res, more);
}

}  // namespace mxray::io
