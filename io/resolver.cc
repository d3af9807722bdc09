// Resolver: c-ares on the EventLoop, in the manner of Envoy's dns_impl: sock_state_cb arms polls,
// a loop timer follows ares_timeout, and no c-ares call is made from inside a c-ares callback.
#include "io/resolver.h"

#include <arpa/nameser.h>
#include <limits.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "io/check.h"
#include "io/ip_address.h"

namespace mxray::io {

struct Resolver::Query {
  Resolver* owner = nullptr;
  DnsType type = DnsType::kA;
  std::string name;  // the name asked in the current message
  bool requery = false;
  std::variant<MxAnswer, AddressAnswer, TxtAnswer, PtrAnswer> answer;
  std::variant<std::monostate, MxCallback, AddressCallback, TxtCallback, PtrCallback> done;

  DnsAnswerBase& base() {
    return std::visit([](auto& a) -> DnsAnswerBase& { return a; }, answer);
  }
};

class Resolver::SocketWatch : public IoHandler {
 public:
  SocketWatch(Resolver* resolver, int fd) : resolver_(resolver), fd_(fd) {
    slot_ = resolver_->loop_->Register(this);
    int type = 0;
    socklen_t len = sizeof(type);
    stream_ = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM;
  }

  void Update(uint32_t want) {
    want_ = want;
    if (armed_ == 0) {
      Arm();
    } else if (armed_ != want_ && !removing_) {
      removing_ = true;  // re-armed with the new mask when the old poll completes
      resolver_->loop_->PollRemove(slot_);
    }
  }

  // Stops every delivery to this watch; the caller deletes it right after.
  void Retire() {
    if (armed_ != 0) resolver_->loop_->PollRemove(slot_);
    resolver_->loop_->Release(slot_);
  }

  void OnIo(OpKind op, int32_t res, bool more) override {
    if (op != OpKind::kPoll) return;
    armed_ = 0;
    removing_ = false;
    int fd = fd_;
    Resolver* resolver = resolver_;
    int read_fd = ARES_SOCKET_BAD, write_fd = ARES_SOCKET_BAD;
    if (res > 0) {
      if (res & (POLLIN | POLLERR | POLLHUP)) read_fd = fd;
      if (res & (POLLOUT | POLLERR | POLLHUP)) write_fd = fd;
    }
    Arm();
    // Processing may close this socket and delete this watch: touch no member after it.
    bool stream = stream_;
    if (read_fd != ARES_SOCKET_BAD || write_fd != ARES_SOCKET_BAD) {
      resolver->ProcessFd(read_fd, write_fd);
    }
    // c-ares reads a TCP stream one piece (a length, or one message) per call: while bytes are
    // waiting, keep feeding it instead of paying a loop turn per piece.
    if (stream && read_fd != ARES_SOCKET_BAD) {
      for (int i = 0; i < 256 && resolver->sockets_.contains(fd); ++i) {
        int waiting = 0;
        if (ioctl(fd, FIONREAD, &waiting) != 0 || waiting <= 0) break;
        resolver->ProcessFd(fd, ARES_SOCKET_BAD);
      }
    }
  }

 private:
  void Arm() {
    if (want_ == 0) return;
    armed_ = want_;
    // One-shot polls: readiness is checked again at arm time, so data c-ares left unread (it
    // reads a TCP stream piecewise) is never stranded.
    resolver_->loop_->PollAdd(slot_, fd_, want_, /*multishot=*/false);
  }

  Resolver* resolver_;
  int fd_;
  SlotId slot_;
  uint32_t want_ = 0;
  uint32_t armed_ = 0;
  bool removing_ = false;
  bool stream_ = false;
};

class Resolver::TimerBridge : public TimerHandler {
 public:
  explicit TimerBridge(Resolver* r) : resolver_(r) {}
  void OnTimer(uint64_t) override {
    resolver_->timer_ = TimerId{};
    resolver_->ProcessFd(ARES_SOCKET_BAD, ARES_SOCKET_BAD);
  }

 private:
  Resolver* resolver_;
};

namespace {

absl::StatusOr<std::string> ServerForAres(const std::string& text) {
  std::string_view host = text;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("resolver '", text, "': missing ']'"));
    }
    host = std::string_view(text).substr(1, close - 1);
    std::string_view rest = std::string_view(text).substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return absl::InvalidArgumentError(absl::StrCat("resolver '", text, "': junk after ']'"));
      }
      port = std::string(rest.substr(1));
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    size_t colon = text.find(':');
    host = std::string_view(text).substr(0, colon);
    port = text.substr(colon + 1);
  }
  std::optional<IpAddress> ip = IpAddress::Parse(host);
  if (!ip) {
    return absl::InvalidArgumentError(absl::StrCat(
        "resolver '", text, "': not an IP address (use ADDR, ADDR:PORT or [V6]:PORT)"));
  }
  uint32_t port_number = 53;
  if (!port.empty() &&
      (!absl::SimpleAtoi(port, &port_number) || port_number == 0 || port_number > 65535)) {
    return absl::InvalidArgumentError(absl::StrCat("resolver '", text, "': bad port"));
  }
  return ip->is_v4() ? absl::StrCat(ip->ToString(), ":", port_number)
                     : absl::StrCat("[", ip->ToString(), "]:", port_number);
}

// c-ares 1.18 writes every query queued on a TCP connection with one writev(); past IOV_MAX
// (1024) iovecs that fails with EINVAL, c-ares drops the connection and every query on it ends
// as "could not contact DNS servers". These socket functions cap the vector (a short write is
// normal for c-ares) and send with MSG_NOSIGNAL so that a reset connection cannot raise SIGPIPE.
// With its own socket functions c-ares leaves socket options alone: the sockets are made
// non-blocking here, and UDP ones get a receive buffer for thousands of answers in flight (each
// datagram costs ~1 KiB of buffer; the default 208 KiB drops them, and a drop is a false timeout).
ares_socket_t SocketOpen(int domain, int type, int protocol, void*) {
  int fd = socket(domain, type | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol);
  if (fd >= 0 && type == SOCK_DGRAM) {
    int bytes = 8 << 20;
    // Root may go past net.core.rmem_max; others get what the kernel allows.
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) != 0) {
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
    }
  }
  return fd;
}
int SocketClose(ares_socket_t fd, void*) { return close(fd); }
int SocketConnect(ares_socket_t fd, const struct sockaddr* addr, ares_socklen_t len, void*) {
  return connect(fd, addr, len);
}
ares_ssize_t SocketRecvFrom(ares_socket_t fd, void* buf, size_t len, int flags,
                            struct sockaddr* from, ares_socklen_t* from_len, void*) {
  return recvfrom(fd, buf, len, flags, from, from_len);
}
ares_ssize_t SocketSendV(ares_socket_t fd, const struct iovec* iov, int count, void*) {
  msghdr msg{};
  msg.msg_iov = const_cast<iovec*>(iov);
  msg.msg_iovlen = static_cast<size_t>(std::min(count, IOV_MAX));
  return sendmsg(fd, &msg, MSG_NOSIGNAL);
}
const ares_socket_functions kSocketFunctions = {SocketOpen, SocketClose, SocketConnect,
                                                SocketRecvFrom, SocketSendV};

DnsStatus StatusFromAres(int status) {
  switch (status) {
    case ARES_SUCCESS:
      return DnsStatus::kOk;
    case ARES_ENODATA:
      return DnsStatus::kNodata;
    case ARES_ENOTFOUND:
      return DnsStatus::kNxdomain;
    case ARES_EREFUSED:
      return DnsStatus::kRefused;
    case ARES_ETIMEOUT:
    case ARES_ECONNREFUSED:  // no resolver listening: nothing answered
    case ARES_EDESTRUCTION:
    case ARES_ECANCELLED:
      return DnsStatus::kTimeout;
    case ARES_EBADRESP:
    case ARES_EFORMERR:
    case ARES_EBADNAME:
      return DnsStatus::kMalformed;
    default:
      return DnsStatus::kServfail;  // SERVFAIL, NOTIMP and other server failures
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Resolver>> Resolver::Create(EventLoop* loop,
                                                           const ResolverOptions& options) {
  static std::once_flag init_once;
  static int init_rc = ARES_SUCCESS;
  std::call_once(init_once, [] { init_rc = ares_library_init(ARES_LIB_INIT_ALL); });
  if (init_rc != ARES_SUCCESS) {
    return absl::InternalError(absl::StrCat("ares_library_init: ", ares_strerror(init_rc)));
  }
  if (options.timeout_ms <= 0) return absl::InvalidArgumentError("DNS timeout must be positive");
  if (options.retries < 0) return absl::InvalidArgumentError("DNS retries must be >= 0");
  std::vector<std::string> servers;
  for (const std::string& s : options.servers) {
    absl::StatusOr<std::string> server = ServerForAres(s);
    if (!server.ok()) return server.status();
    servers.push_back(*std::move(server));
  }

  std::unique_ptr<Resolver> r(new Resolver(loop, options));
  ares_options opts{};
  // NOCHECKRESP: a SERVFAIL or REFUSED from the resolver is its answer, reported as such, not
  // a reason to spend the remaining tries (a recursive resolver has already tried hard).
  opts.flags = ARES_FLAG_EDNS | ARES_FLAG_STAYOPEN | ARES_FLAG_NOSEARCH | ARES_FLAG_NOCHECKRESP;
  opts.timeout = options.timeout_ms;
  opts.tries = options.retries + 1;
  opts.sock_state_cb = &Resolver::OnSocketState;
  opts.sock_state_cb_data = r.get();
  int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB;
  int rc = ares_init_options(&r->channel_, &opts, mask);
  if (rc != ARES_SUCCESS) {
    return absl::InternalError(absl::StrCat("ares_init_options: ", ares_strerror(rc)));
  }
  ares_set_socket_functions(r->channel_, &kSocketFunctions, nullptr);
  if (!servers.empty()) {
    std::string csv = absl::StrJoin(servers, ",");
    rc = ares_set_servers_ports_csv(r->channel_, csv.c_str());
    if (rc != ARES_SUCCESS) {
      return absl::InvalidArgumentError(absl::StrCat("resolvers '", csv, "': ", ares_strerror(rc)));
    }
  }
  return r;
}

Resolver::Resolver(EventLoop* loop, const ResolverOptions& options)
    : loop_(loop), options_(options), timer_bridge_(std::make_unique<TimerBridge>(this)) {}

Resolver::~Resolver() {
  loop_->CancelTimer(timer_);
  if (channel_ != nullptr) {
    in_ares_ = true;
    ares_destroy(channel_);  // answers every query with ARES_EDESTRUCTION; nobody is called back
    in_ares_ = false;
  }
  for (auto& [fd, watch] : sockets_) {
    watch->Retire();
    delete watch;
  }
}

Resolver::Query* Resolver::NewQuery() {
  if (free_queries_.empty()) {
    pool_storage_.push_back(std::make_unique<Query>());
    free_queries_.push_back(pool_storage_.back().get());
  }
  Query* q = free_queries_.back();
  free_queries_.pop_back();
  q->owner = this;
  q->requery = false;
  return q;
}

void Resolver::FreeQuery(Query* q) {
  q->done = std::monostate{};
  q->name.clear();
  free_queries_.push_back(q);
}

void Resolver::ResolveMx(std::string_view name, MxCallback done) {
  Query* q = NewQuery();
  q->type = DnsType::kMx;
  q->name.assign(name);
  q->answer.emplace<MxAnswer>();
  q->done = std::move(done);
  Start(q);
}

void Resolver::ResolveAddress(std::string_view name, DnsType type, AddressCallback done) {
  MXRAY_CHECK(type == DnsType::kA || type == DnsType::kAaaa);
  Query* q = NewQuery();
  q->type = type;
  q->name.assign(name);
  q->answer.emplace<AddressAnswer>();
  q->done = std::move(done);
  Start(q);
}

void Resolver::ResolveTxt(std::string_view name, TxtCallback done) {
  Query* q = NewQuery();
  q->type = DnsType::kTxt;
  q->name.assign(name);
  q->answer.emplace<TxtAnswer>();
  q->done = std::move(done);
  Start(q);
}

void Resolver::ResolvePtr(std::string_view name, PtrCallback done) {
  Query* q = NewQuery();
  q->type = DnsType::kPtr;
  q->name.assign(name);
  q->answer.emplace<PtrAnswer>();
  q->done = std::move(done);
  Start(q);
}

void Resolver::Start(Query* q) {
  ++stats_.lookups;
  ++in_flight_;
  Send(q);
}

void Resolver::Send(Query* q) {
  // Queries start only from callbacks that run outside c-ares (DrainCompleted), never from
  // inside it: under load ares_process_fd might otherwise never return.
  MXRAY_CHECK(!in_ares_);
  ++stats_.queries;
  q->requery = false;
  in_ares_ = true;
  ares_query(channel_, q->name.c_str(), ns_c_in, static_cast<int>(q->type), &Resolver::OnAresAnswer,
             q);
  in_ares_ = false;
  ArmTimer();
  // c-ares answers some queries at once (a name it cannot encode): deliver those later.
  if (!completed_.empty()) ScheduleDrain();
}

void Resolver::OnAresAnswer(void* arg, int status, int timeouts, unsigned char* abuf, int alen) {
  Query* q = static_cast<Query*>(arg);
  Resolver* self = q->owner;
  DnsAnswerBase& base = q->base();
  base.status = StatusFromAres(status);
  if (status == ARES_SUCCESS && abuf != nullptr && alen > 0) {
    std::span<const uint8_t> msg(abuf, static_cast<size_t>(alen));
    const AnswerLimits& limits = self->options_.limits;
    Interpretation r;
    switch (q->type) {
      case DnsType::kMx:
        r = InterpretMx(msg, q->name, limits, &std::get<MxAnswer>(q->answer));
        break;
      case DnsType::kA:
      case DnsType::kAaaa:
        r = InterpretAddress(msg, q->name, q->type, limits, &std::get<AddressAnswer>(q->answer));
        break;
      case DnsType::kTxt:
        r = InterpretTxt(msg, q->name, limits, &std::get<TxtAnswer>(q->answer));
        break;
      case DnsType::kPtr:
        r = InterpretPtr(msg, q->name, limits, &std::get<PtrAnswer>(q->answer));
        break;
    }
    base.status = r.status;
    if (!r.next_name.empty()) {
      q->name = std::move(r.next_name);
      q->requery = true;
    }
  }
  self->completed_.push_back(q);
  if (!self->in_ares_) self->ScheduleDrain();
}

void Resolver::ScheduleDrain() {
  if (drain_scheduled_) return;
  drain_scheduled_ = true;
  loop_->Defer([this] {
    drain_scheduled_ = false;
    DrainCompleted();
  });
}

void Resolver::DrainCompleted() {
  if (draining_) return;
  draining_ = true;
  while (!completed_.empty()) {
    batch_.swap(completed_);
    for (Query* q : batch_) {
      if (q->requery) {
        Send(q);
      } else {
        Finish(q);
      }
    }
    batch_.clear();
  }
  draining_ = false;
}

void Resolver::Finish(Query* q) {
  --in_flight_;
  ++stats_.by_status[static_cast<int>(q->base().status)];
  std::visit(
      [q](auto& done) {
        using T = std::decay_t<decltype(done)>;
        if constexpr (std::is_same_v<T, MxCallback>) {
          done(std::move(std::get<MxAnswer>(q->answer)));
        } else if constexpr (std::is_same_v<T, AddressCallback>) {
          done(std::move(std::get<AddressAnswer>(q->answer)));
        } else if constexpr (std::is_same_v<T, TxtCallback>) {
          done(std::move(std::get<TxtAnswer>(q->answer)));
        } else if constexpr (std::is_same_v<T, PtrCallback>) {
          done(std::move(std::get<PtrAnswer>(q->answer)));
        }
      },
      q->done);
  FreeQuery(q);
}

void Resolver::ProcessFd(int read_fd, int write_fd) {
  in_ares_ = true;
  ares_process_fd(channel_, read_fd, write_fd);
  in_ares_ = false;
  DrainCompleted();
  ArmTimer();
}

void Resolver::ArmTimer() {
  if (in_flight_ == 0) {
    loop_->CancelTimer(timer_);
    return;
  }
  if (timer_.valid()) return;  // every later query times out later than the armed one
  timeval tv;
  timeval* next = ares_timeout(channel_, nullptr, &tv);
  if (next == nullptr) return;
  // A millisecond of slack so that c-ares, on its own clock, sees the timeout as due.
  uint64_t delay_ns =
      uint64_t(next->tv_sec) * 1'000'000'000 + uint64_t(next->tv_usec) * 1000 + 1'000'000;
  timer_ = loop_->AddTimer(EventLoop::MonotonicNs() + delay_ns, timer_bridge_.get(), 0);
}

void Resolver::OnSocketState(void* data, ares_socket_t fd, int readable, int writable) {
  static_cast<Resolver*>(data)->SocketState(fd, readable != 0, writable != 0);
}

void Resolver::SocketState(int fd, bool readable, bool writable) {
  uint32_t want = (readable ? POLLIN : 0) | (writable ? POLLOUT : 0);
  auto it = sockets_.find(fd);
  if (want == 0) {
    if (it != sockets_.end()) {
      it->second->Retire();
      delete it->second;
      sockets_.erase(it);
    }
    return;
  }
  if (it == sockets_.end()) it = sockets_.emplace(fd, new SocketWatch(this, fd)).first;
  it->second->Update(want);
}

}  // namespace mxray::io
