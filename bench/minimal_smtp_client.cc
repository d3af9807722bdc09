// A bare client: connect, read until a line with "NNN " ends the greeting, EHLO, read until the
// same for its reply, QUIT, close. Enough to be correct against the fleet, nothing more.
#include "bench/minimal_smtp_client.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string_view>

#include "io/event_loop.h"

namespace mxray::bench {
namespace {

class Conn : public io::IoHandler {
 public:
  Conn(io::EventLoop* loop, MinimalResult* result, std::vector<Conn*>* idle)
      : loop_(loop), result_(result), idle_(idle) {}

  void Start(const io::IpAddress& ip, uint16_t port) {
    slot_ = loop_->Register(this);
    fd_ = socket(ip.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      ++result_->failures;
      loop_->Release(slot_);
      idle_->push_back(this);
      return;
    }
    len_ = ip.ToSockaddr(port, &addr_);
    step_ = 0;
    have_ = 0;
    loop_->Connect(slot_, fd_, reinterpret_cast<sockaddr*>(&addr_), len_, 10'000'000'000);
  }

  void OnIo(io::OpKind op, int32_t res, bool) override {
    if (op == io::OpKind::kClose) {
      loop_->Release(slot_);
      idle_->push_back(this);
      return;
    }
    if (op == io::OpKind::kSend) return;
    if (res < 0 || (op == io::OpKind::kRecv && res == 0)) {
      if (step_ < 2) ++result_->failures;
      End();
      return;
    }
    if (op == io::OpKind::kRecv) have_ += size_t(res);
    if (op == io::OpKind::kConnect || !ReplyComplete()) {
      Read();
      return;
    }
    have_ = 0;
    if (step_ == 0) {
      step_ = 1;
      static constexpr std::string_view kEhlo = "EHLO bench.test\r\n";
      loop_->Send(slot_, fd_, kEhlo.data(), kEhlo.size());
      Read();
    } else if (step_ == 1) {
      step_ = 2;
      ++result_->probes;
      static constexpr std::string_view kQuit = "QUIT\r\n";
      loop_->Send(slot_, fd_, kQuit.data(), kQuit.size());
      Read();
    } else {
      End();
    }
  }

 private:
  bool ReplyComplete() const {
    if (have_ < 2 || buf_[have_ - 1] != '\n') return false;
    size_t start = have_ - 1;
    while (start > 0 && buf_[start - 1] != '\n') --start;
    return have_ - start >= 4 && buf_[start + 3] != '-';
  }
  void Read() {
    if (have_ == sizeof(buf_)) have_ = 0;
    loop_->Recv(slot_, fd_, buf_ + have_, sizeof(buf_) - have_);
  }
  void End() { loop_->Close(slot_, fd_); }

  io::EventLoop* loop_;
  MinimalResult* result_;
  std::vector<Conn*>* idle_;
  io::SlotId slot_;
  int fd_ = -1;
  sockaddr_storage addr_;
  socklen_t len_ = 0;
  int step_ = 0;
  size_t have_ = 0;
  char buf_[1024];
};

}  // namespace

MinimalResult RunMinimalClient(const std::vector<std::pair<io::IpAddress, uint16_t>>& endpoints,
                               size_t in_flight) {
  MinimalResult result;
  auto loop = io::EventLoop::Create();
  if (!loop.ok()) return result;
  std::vector<std::unique_ptr<Conn>> conns;
  std::vector<Conn*> idle;
  for (size_t i = 0; i < in_flight; ++i) {
    conns.push_back(std::make_unique<Conn>(loop->get(), &result, &idle));
    idle.push_back(conns.back().get());
  }
  size_t next = 0;
  uint64_t start = io::EventLoop::MonotonicNs();
  // A connection object is reused once its close completed.
  while (next < endpoints.size() || idle.size() < in_flight) {
    while (next < endpoints.size() && !idle.empty()) {
      Conn* c = idle.back();
      idle.pop_back();
      c->Start(endpoints[next].first, endpoints[next].second);
      ++next;
    }
    (*loop)->RunOnce(100'000'000);
  }
  result.elapsed_ns = io::EventLoop::MonotonicNs() - start;
  return result;
}

}  // namespace mxray::bench
