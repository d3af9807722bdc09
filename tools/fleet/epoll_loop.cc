// The fleet's epoll loop (see epoll_loop.h).
#include "tools/fleet/epoll_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

namespace mxray::fleet {
namespace {

constexpr uint16_t kWakeHandler = 0xFFFF;
constexpr int kTickMs = 1000;

uint64_t Pack(uint16_t handler, uint64_t tag) { return uint64_t(handler) << 48 | tag; }

}  // namespace

absl::StatusOr<std::unique_ptr<EpollLoop>> EpollLoop::Create() {
  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) return absl::ErrnoToStatus(errno, "epoll_create1");
  int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    int err = errno;
    close(epoll_fd);
    return absl::ErrnoToStatus(err, "eventfd");
  }
  std::unique_ptr<EpollLoop> loop(new EpollLoop(epoll_fd, wake_fd));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = Pack(kWakeHandler, 0);
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &ev) < 0) {
    return absl::ErrnoToStatus(errno, "epoll_ctl(eventfd)");
  }
  return loop;
}

EpollLoop::EpollLoop(int epoll_fd, int wake_fd)
    : epoll_fd_(epoll_fd), wake_fd_(wake_fd), last_tick_ms_(NowMs()) {}

EpollLoop::~EpollLoop() {
  Stop();
  close(wake_fd_);
  close(epoll_fd_);
}

uint16_t EpollLoop::AddHandler(Handler* handler) {
  handlers_.push_back(handler);
  return uint16_t(handlers_.size() - 1);
}

absl::Status EpollLoop::Watch(int fd, uint32_t events, uint16_t handler, uint64_t tag) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = Pack(handler, tag & kMaxTag);
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) < 0) {
    return absl::ErrnoToStatus(errno, "epoll_ctl(ADD)");
  }
  return absl::OkStatus();
}

absl::Status EpollLoop::Rewatch(int fd, uint32_t events, uint16_t handler, uint64_t tag) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = Pack(handler, tag & kMaxTag);
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) < 0) {
    return absl::ErrnoToStatus(errno, "epoll_ctl(MOD)");
  }
  return absl::OkStatus();
}

void EpollLoop::Unwatch(int fd) { epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

int64_t EpollLoop::NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void EpollLoop::RunOnce(int timeout_ms) {
  constexpr int kBatch = 256;
  epoll_event events[kBatch];
  int n = epoll_wait(epoll_fd_, events, kBatch, timeout_ms);
  for (int i = 0; i < n; ++i) {
    uint16_t handler = uint16_t(events[i].data.u64 >> 48);
    if (handler == kWakeHandler) {
      uint64_t value;
      (void)!read(wake_fd_, &value, sizeof(value));
      continue;
    }
    if (handler < handlers_.size()) {
      handlers_[handler]->OnEvents(events[i].data.u64 & kMaxTag, events[i].events);
    }
  }
  int64_t now = NowMs();
  if (now - last_tick_ms_ >= kTickMs) {
    last_tick_ms_ = now;
    for (Handler* h : handlers_) h->OnTick(now);
  }
}

void EpollLoop::Run() {
  while (!stopping_.load(std::memory_order_acquire)) RunOnce(kTickMs);
}

void EpollLoop::Start() {
  if (thread_.joinable()) return;
  stopping_.store(false, std::memory_order_release);
  thread_ = std::thread([this] { Run(); });
}

void EpollLoop::Stop() {
  stopping_.store(true, std::memory_order_release);
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
  // From a handler on the loop thread, the flag alone ends the loop after this round.
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

}  // namespace mxray::fleet
