// The fleet's SMTP servers (see smtp_server.h): sockets and the port plan, the connection state
// machine of every behaviour, TLS over memory BIOs, timers on one timerfd, and the counters.
#include "tools/fleet/smtp_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

#include "absl/strings/str_cat.h"

namespace mxray::fleet {
namespace {

using B = SmtpBehaviour;

static_assert(kTls10 == TLS1_VERSION && kTls11 == TLS1_1_VERSION && kTls12 == TLS1_2_VERSION &&
              kTls13 == TLS1_3_VERSION);
constexpr int64_t kDaySeconds = 86400;

// Descriptors left to the rest of the process when checking the plan against RLIMIT_NOFILE.
constexpr size_t kDescriptorHeadroom = 1024;
// Start-up only: how long the fleet waits for its own connection to fill a filtered port's queue.
constexpr int kFillWaitMs = 2000;
// Accepts per listener event, so that one busy port does not starve the others.
constexpr int kAcceptBurst = 64;
// Buffers larger than this are given back when their connection closes.
constexpr size_t kKeptCapacity = 16 * 1024;

void Bump(std::atomic<uint64_t>& counter, uint64_t n = 1) {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

// The endless replies, as a period of whole lines repeated: any offset continues seamlessly.
constexpr size_t kPatternBytes = 16 * 1024;

const std::string& LinePattern() {  // no LF anywhere
  static const std::string* const p = new std::string(kPatternBytes, 'x');
  return *p;
}

const std::string& ContinuationPattern() {
  static const std::string* const p = [] {
    std::string line = "250-continuation that never ends ";
    line.resize(62, 'x');
    line += "\r\n";  // 64 bytes: the period divides kPatternBytes
    auto* s = new std::string;
    while (s->size() < kPatternBytes) s->append(line);
    return s;
  }();
  return *p;
}

// Fills `addr` for a loopback address; anything else is refused: the fleet never listens
// beyond this machine.
absl::StatusOr<socklen_t> LoopbackSockaddr(const std::string& ip, sockaddr_storage* addr) {
  std::memset(addr, 0, sizeof(*addr));
  auto* v4 = reinterpret_cast<sockaddr_in*>(addr);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    if ((ntohl(v4->sin_addr.s_addr) >> 24) != 127) {
      return absl::InvalidArgumentError(absl::StrCat(ip, " is not in 127.0.0.0/8"));
    }
    v4->sin_family = AF_INET;
    return socklen_t(sizeof(sockaddr_in));
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(addr);
  if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    if (!IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)) {
      return absl::InvalidArgumentError(absl::StrCat(ip, " is not ::1"));
    }
    v6->sin6_family = AF_INET6;
    return socklen_t(sizeof(sockaddr_in6));
  }
  return absl::InvalidArgumentError(absl::StrCat("not an IP address: ", ip));
}

void SetPort(sockaddr_storage* addr, uint16_t port) {
  if (addr->ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(addr)->sin_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in6*>(addr)->sin6_port = htons(port);
  }
}

uint16_t BoundPort(int fd) {
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len) != 0) return 0;
  return ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                          : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
}

std::string PeerText(int fd) {
  sockaddr_storage peer{};
  socklen_t len = sizeof(peer);
  char text[INET6_ADDRSTRLEN] = "unknown";
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0) {
    const void* a = peer.ss_family == AF_INET
                        ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&peer)->sin_addr)
                        : &reinterpret_cast<sockaddr_in6*>(&peer)->sin6_addr;
    inet_ntop(peer.ss_family, a, text, sizeof(text));
  }
  return text;
}

// The client has not closed: no FIN (CLOSE_WAIT) nor RST (CLOSE) has reached the socket.
bool ClientStillThere(int fd) {
  tcp_info info{};
  socklen_t len = sizeof(info);
  return getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0 &&
         info.tcpi_state == TCP_ESTABLISHED;
}

char Upper(char c) { return c >= 'a' && c <= 'z' ? char(c - 'a' + 'A') : c; }

// The client's EHLO argument as echoed by Exim: printable, no blanks, bounded.
std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) out.push_back(c > ' ' && c < 0x7f ? c : '?');
  return out;
}

}  // namespace

uint16_t SmtpStats::Logical(uint16_t port) const {
  uint16_t logical = port;
  for (size_t k = 0; k < kSmtpPortCount; ++k) {
    if (port == ports[k] && port != kSmtpLogicalPorts[0] && port != kSmtpLogicalPorts[1] &&
        port != kSmtpLogicalPorts[2]) {
      logical = kSmtpLogicalPorts[k];
    }
  }
  return logical;
}

uint64_t SmtpStats::ConnectionsTo(std::string_view ip, uint16_t port) const {
  auto it = accepted.find({std::string(ip), Logical(port)});
  return it == accepted.end() ? 0 : it->second;
}

std::string SmtpStats::SniAt(std::string_view ip, uint16_t port) const {
  auto it = sni.find({std::string(ip), Logical(port)});
  return it == sni.end() ? std::string() : it->second;
}

uint64_t SmtpStats::MaxConcurrentTo(std::string_view ip) const {
  auto it = max_concurrent.find(std::string(ip));
  return it == max_concurrent.end() ? 0 : it->second;
}

uint64_t SmtpStats::MaxConcurrentPerAddress() const {
  uint64_t most = 0;
  for (const auto& [ip, n] : max_concurrent) most = std::max(most, n);
  return most;
}

absl::StatusOr<std::unique_ptr<SmtpServer>> SmtpServer::Create(EpollLoop* loop,
                                                               const Population* population,
                                                               const SmtpOptions& options,
                                                               TestCa* ca) {
  if (options.tls && ca == nullptr) {
    return absl::InvalidArgumentError("SMTP with TLS needs a certificate authority");
  }
  std::unique_ptr<SmtpServer> server(new SmtpServer(loop, population, options, ca));
  absl::Status status = server->Plan();
  if (status.ok()) status = server->BindAll();
  if (!status.ok()) return status;
  server->timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (server->timer_fd_ < 0) return absl::ErrnoToStatus(errno, "timerfd_create");
  server->sync_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (server->sync_fd_ < 0) return absl::ErrnoToStatus(errno, "eventfd");
  server->handler_id_ = loop->AddHandler(server.get());
  status = loop->Watch(server->timer_fd_, EPOLLIN, server->handler_id_, kTagTimer);
  if (status.ok()) status = loop->Watch(server->sync_fd_, EPOLLIN, server->handler_id_, kTagSync);
  for (uint32_t i = 0; status.ok() && i < server->sockets_.size(); ++i) {
    const Socket& s = server->sockets_[i];
    if (!SmtpAccepts(s.behaviour)) continue;
    status = loop->Watch(s.fd, EPOLLIN, server->handler_id_, uint64_t(i) << 2 | kTagSocket);
  }
  if (!status.ok()) return status;
  return server;
}

SmtpServer::SmtpServer(EpollLoop* loop, const Population* population, const SmtpOptions& options,
                       TestCa* ca)
    : loop_(loop), population_(population), options_(options), ca_(ca) {}

SmtpServer::~SmtpServer() {
  for (Conn& c : conns_) {
    if (c.fd >= 0) close(c.fd);
  }
  for (Socket& s : sockets_) {
    if (s.filler_fd >= 0) close(s.filler_fd);
    if (s.fd >= 0) close(s.fd);
  }
  if (timer_fd_ >= 0) close(timer_fd_);
  if (sync_fd_ >= 0) close(sync_fd_);
}

absl::Status SmtpServer::Plan() {
  for (const std::string& ip : population_->SmtpAddresses()) {
    Address a;
    a.ip = ip;
    a.name = population_->SmtpHostName(ip);
    absl::StatusOr<socklen_t> len = LoopbackSockaddr(ip, &a.addr);
    if (!len.ok()) return len.status();
    a.addr_len = *len;
    const uint32_t index = uint32_t(addresses_.size());
    std::array<SmtpBehaviour, kSmtpPortCount> behaviours = population_->SmtpBehavioursAt(ip);
    for (size_t k = 0; k < kSmtpPortCount; ++k) {
      if (behaviours[k] == B::kNone) continue;
      socket_index_[{ip, kSmtpLogicalPorts[k]}] = uint32_t(sockets_.size());
      sockets_.push_back({.address = index, .port_index = uint8_t(k), .behaviour = behaviours[k]});
      if (behaviours[k] == B::kFiltered) ++fillers_;
    }
    address_index_[ip] = index;
    addresses_.push_back(std::move(a));
  }
  accepted_ = std::make_unique<std::atomic<uint64_t>[]>(sockets_.size());
  sni_.resize(sockets_.size());
  max_open_ = std::make_unique<std::atomic<uint64_t>[]>(addresses_.size());

  // Budget: every socket is a descriptor for the life of the fleet, in a process that may also
  // be mxray. Raise the soft limit when the hard one allows; refuse clearly when it does not.
  const size_t needed = sockets_.size() + fillers_ + kDescriptorHeadroom;
  rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < needed) {
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? needed : std::max<rlim_t>(rl.rlim_max, 0);
    setrlimit(RLIMIT_NOFILE, &rl);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < needed) {
      return absl::FailedPreconditionError(
          absl::StrCat("the SMTP plan needs ", sockets_.size() + fillers_, " descriptors plus ",
                       kDescriptorHeadroom, " spare, the open-files limit is ", rl.rlim_cur,
                       ": lower smtp.provider_hosts or smtp.own_addresses, or raise the limit"));
    }
  }
  return absl::OkStatus();
}

void SmtpServer::CloseSockets(size_t port_index) {
  for (Socket& s : sockets_) {
    if (s.port_index != port_index || s.fd < 0) continue;
    close(s.fd);
    s.fd = -1;
  }
}

absl::Status SmtpServer::BindPort(size_t port_index, uint16_t port, bool* in_use) {
  *in_use = false;
  uint16_t chosen = port;
  for (Socket& s : sockets_) {
    if (s.port_index != port_index) continue;
    Address& a = addresses_[s.address];
    s.fd = socket(a.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s.fd < 0) {
      int err = errno;
      CloseSockets(port_index);
      return absl::ErrnoToStatus(err, "socket (SMTP)");
    }
    // Listeners reuse addresses in TIME_WAIT from earlier runs; a closed port's socket does not,
    // so that it conflicts with anything else bound there.
    if (s.behaviour != B::kClosed) {
      int one = 1;
      setsockopt(s.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    }
    SetPort(&a.addr, chosen);
    int err = 0;
    if (bind(s.fd, reinterpret_cast<sockaddr*>(&a.addr), a.addr_len) != 0) {
      err = errno;
    } else if (s.behaviour != B::kClosed &&
               listen(s.fd, s.behaviour == B::kFiltered ? 0 : SOMAXCONN) != 0) {
      err = errno;
    }
    if (err != 0) {
      CloseSockets(port_index);
      *in_use = err == EADDRINUSE;
      return absl::ErrnoToStatus(err,
                                 absl::StrCat("bind SMTP ", a.ip, " port ", chosen, " (logical ",
                                              kSmtpLogicalPorts[port_index], ")"));
    }
    if (chosen == 0) chosen = BoundPort(s.fd);
  }
  ports_[port_index] = chosen;
  return absl::OkStatus();
}

absl::Status SmtpServer::BindAll() {
  for (size_t k = 0; k < kSmtpPortCount; ++k) {
    for (size_t j = 0; j < k; ++j) {
      if (options_.ports[k] != 0 && options_.ports[k] == options_.ports[j]) {
        return absl::InvalidArgumentError(
            absl::StrCat("SMTP port ", options_.ports[k], " given for two logical ports"));
      }
    }
  }
  for (size_t k = 0; k < kSmtpPortCount; ++k) {
    bool in_use = true;
    absl::Status status = absl::UnavailableError("no free SMTP port");
    if (options_.ports[k] != 0) {
      status = BindPort(k, options_.ports[k], &in_use);
      if (!status.ok() && (!in_use || options_.exact_ports)) return status;
    }
    // Port 0 on the first address, then that number on every other one; another process may
    // hold it on some address, so try a few numbers.
    for (int attempt = 0; !status.ok() && in_use && attempt < 32; ++attempt) {
      status = BindPort(k, 0, &in_use);
      for (size_t j = 0; status.ok() && j < k; ++j) {
        if (ports_[j] == ports_[k]) {  // another first address: the kernel may repeat a number
          CloseSockets(k);
          status = absl::UnavailableError("SMTP port picked twice");
          in_use = true;
        }
      }
    }
    if (!status.ok()) return status;
  }
  for (Socket& s : sockets_) {
    if (s.behaviour != B::kFiltered) continue;
    absl::Status status = FillQueue(s);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status SmtpServer::FillQueue(Socket& s) {
  // Backlog 0 holds one established connection; with it queued and never accepted, the kernel
  // drops every later SYN, which is what a filtered port looks like from the client.
  Address& a = addresses_[s.address];
  SetPort(&a.addr, ports_[s.port_index]);
  s.filler_fd = socket(a.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s.filler_fd < 0) return absl::ErrnoToStatus(errno, "socket (filtered port filler)");
  if (connect(s.filler_fd, reinterpret_cast<sockaddr*>(&a.addr), a.addr_len) != 0 &&
      errno != EINPROGRESS) {
    return absl::ErrnoToStatus(errno, absl::StrCat("connect to filtered port of ", a.ip));
  }
  // Without SYN cookies the kernel drops even this SYN (the port is filtered all the same);
  // with them it completes at once on loopback.
  pollfd p{s.filler_fd, POLLOUT, 0};
  poll(&p, 1, kFillWaitMs);
  return absl::OkStatus();
}

uint16_t SmtpServer::port(uint16_t logical_port) const {
  for (size_t k = 0; k < kSmtpPortCount; ++k) {
    if (kSmtpLogicalPorts[k] == logical_port) return ports_[k];
  }
  return 0;
}

std::string SmtpServer::port_map() const {
  return absl::StrCat("25=", ports_[0], ",465=", ports_[1], ",587=", ports_[2]);
}

std::vector<SmtpEndpoint> SmtpServer::endpoints() const {
  std::vector<SmtpEndpoint> out;
  out.reserve(sockets_.size());
  for (const Socket& s : sockets_) {
    out.push_back({.ip = addresses_[s.address].ip,
                   .logical_port = kSmtpLogicalPorts[s.port_index],
                   .port = ports_[s.port_index],
                   .behaviour = s.behaviour});
  }
  return out;
}

SmtpStats SmtpServer::stats() const {
  auto get = [](const std::atomic<uint64_t>& c) { return c.load(std::memory_order_relaxed); };
  SmtpStats s;
  s.total_accepted = get(counters_.total);
  s.open = get(counters_.open);
  s.rejected = get(counters_.rejected);
  s.dropped = get(counters_.dropped);
  s.lifetime_closed = get(counters_.lifetime_closed);
  s.ports = ports_;
  for (size_t i = 0; i < sockets_.size(); ++i) {
    if (uint64_t n = get(accepted_[i])) {
      s.accepted[{addresses_[sockets_[i].address].ip, kSmtpLogicalPorts[sockets_[i].port_index]}] =
          n;
    }
  }
  for (size_t a = 0; a < addresses_.size(); ++a) {
    if (uint64_t n = get(max_open_[a])) s.max_concurrent[addresses_[a].ip] = n;
  }
  s.tls_handshakes = get(counters_.handshakes);
  std::lock_guard<std::mutex> lock(sni_mu_);
  for (size_t i = 0; i < sockets_.size(); ++i) {
    if (!sni_[i].empty()) {
      s.sni[{addresses_[sockets_[i].address].ip, kSmtpLogicalPorts[sockets_[i].port_index]}] =
          sni_[i];
    }
  }
  return s;
}

void SmtpServer::ResetStats() {
  for (size_t i = 0; i < sockets_.size(); ++i) accepted_[i].store(0, std::memory_order_relaxed);
  for (size_t a = 0; a < addresses_.size(); ++a) {
    max_open_[a].store(0, std::memory_order_relaxed);
  }
  counters_.total.store(0, std::memory_order_relaxed);
  counters_.rejected.store(0, std::memory_order_relaxed);
  counters_.dropped.store(0, std::memory_order_relaxed);
  counters_.lifetime_closed.store(0, std::memory_order_relaxed);
  counters_.handshakes.store(0, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(sni_mu_);
  for (std::string& sni : sni_) sni.clear();
}

bool SmtpServer::WaitIdle(int64_t timeout_ms) const {
  idle_waiters_.fetch_add(1);
  // Connections the client already made may still sit in the kernel's accept queues, unseen by
  // the counters: ask the loop to take them in first.
  const uint64_t ticket = sync_requested_.fetch_add(1) + 1;
  uint64_t one = 1;
  (void)!write(sync_fd_, &one, sizeof(one));
  bool idle;
  {
    std::unique_lock<std::mutex> lock(idle_mu_);
    idle = idle_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
      return sync_done_.load() >= ticket && counters_.descriptors.load() == 0;
    });
  }
  idle_waiters_.fetch_sub(1);
  return idle;
}

void SmtpServer::OnSync() {
  uint64_t value;
  (void)!read(sync_fd_, &value, sizeof(value));
  const uint64_t target = sync_requested_.load();
  for (uint32_t i = 0; i < sockets_.size(); ++i) {
    if (SmtpAccepts(sockets_[i].behaviour) && !sockets_[i].paused) OnAccept(i, /*drain=*/true);
  }
  for (uint32_t a = 0; a < addresses_.size(); ++a) {
    if (addresses_[a].first_conn != kNil) Reap(a);
  }
  sync_done_.store(target);
  std::lock_guard<std::mutex> lock(idle_mu_);
  idle_cv_.notify_all();
}

uint64_t SmtpServer::ConnTag(uint32_t slot) const {
  return ConnectionTag(slot, conns_[slot].generation, kTagConn);
}

void SmtpServer::OnEvents(uint64_t tag, uint32_t events) {
  switch (tag & 3) {
    case kTagSocket:
      OnAccept(uint32_t(tag >> 2));
      return;
    case kTagTimer:
      OnTimers();
      return;
    case kTagSync:
      OnSync();
      return;
    case kTagConn: {
      uint32_t slot = TagSlot(tag);
      // A connection closed earlier in this batch, its slot maybe reused: the event is stale.
      if (slot >= conns_.size() || conns_[slot].fd < 0 ||
          conns_[slot].generation != TagGeneration(tag)) {
        return;
      }
      OnConn(slot, events);
      return;
    }
  }
}

void SmtpServer::OnAccept(uint32_t socket_index, bool drain) {
  for (int n = 0; drain || n < kAcceptBurst; ++n) {
    Socket& s = sockets_[socket_index];
    int fd = accept4(s.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Level-triggered: the listener would wake us forever. Rest until the next tick.
        loop_->Unwatch(s.fd);
        s.paused = true;
        any_paused_ = true;
      }
      return;
    }
    if (counters_.open.load(std::memory_order_relaxed) >= options_.max_connections) {
      Bump(counters_.rejected);  // before the close, which the client may be waiting for
      close(fd);
      continue;
    }
    const uint32_t address = s.address;
    uint32_t slot;
    if (!free_conns_.empty()) {
      slot = free_conns_.back();
      free_conns_.pop_back();
    } else {
      slot = uint32_t(conns_.size());
      conns_.emplace_back();
    }
    Conn& c = conns_[slot];
    c.fd = fd;
    c.socket = socket_index;
    c.behaviour = s.behaviour;
    c.greeted = false;
    c.close_after_flush = false;
    c.mute = false;
    c.stream = Stream::kNone;
    c.streamed = 0;
    c.out_off = 0;
    c.delayed_after = After::kNothing;
    c.due_ms = -1;
    c.opened_ms = EpollLoop::NowMs();
    c.peer.clear();
    c.tls = Tls::kOff;
    c.tls_pending = false;
    c.ssl.reset();
    c.wire_off = 0;
    c.hello_bytes = 0;
    // Counted before anything can close it again.
    Address& a = addresses_[address];
    c.prev = kNil;
    c.next = a.first_conn;
    if (a.first_conn != kNil) conns_[a.first_conn].prev = slot;
    a.first_conn = slot;
    ++a.open;
    c.spoke = false;
    if (max_open_[address].load(std::memory_order_relaxed) == 0) {
      max_open_[address].store(1, std::memory_order_relaxed);
    }
    Bump(accepted_[socket_index]);
    c.ordinal = accepted_[socket_index].load(std::memory_order_relaxed);
    Bump(counters_.total);
    Bump(counters_.open);
    counters_.descriptors.fetch_add(1);
    c.events = EPOLLIN | EPOLLRDHUP;
    if (!loop_->Watch(fd, c.events, handler_id_, ConnTag(slot)).ok()) {
      Close(slot);
      continue;
    }
    const uint16_t generation = c.generation;
    Start(slot);
    if (conns_[slot].fd >= 0 && conns_[slot].generation == generation) UpdateInterest(slot);
  }
}

void SmtpServer::Reap(uint32_t address) {
  std::vector<uint32_t> gone;
  for (uint32_t slot = addresses_[address].first_conn; slot != kNil; slot = conns_[slot].next) {
    if (!ClientStillThere(conns_[slot].fd)) gone.push_back(slot);
  }
  for (uint32_t slot : gone) Close(slot);
}

void SmtpServer::CountConcurrency(uint32_t slot) {
  // Read late, after its client left: the instant is gone, and the client may hold the next
  // connection by now.
  if (!ClientStillThere(conns_[slot].fd)) return;
  const uint32_t address = sockets_[conns_[slot].socket].address;
  uint64_t at_once = 1;
  for (uint32_t other = addresses_[address].first_conn; other != kNil; other = conns_[other].next) {
    at_once += other != slot && ClientStillThere(conns_[other].fd);
  }
  if (at_once > max_open_[address].load(std::memory_order_relaxed)) {
    max_open_[address].store(at_once, std::memory_order_relaxed);
  }
}

void SmtpServer::Start(uint32_t slot) {
  if (ImplicitTls(conns_[slot].socket)) {
    StartTls(slot);  // the greeting comes once the handshake completes
    return;
  }
  Greet(slot);
}

void SmtpServer::Greet(uint32_t slot) {
  Conn& c = conns_[slot];
  const std::string& name = addresses_[sockets_[c.socket].address].name;
  switch (c.behaviour) {
    case B::kSilent:
      return;
    case B::kDrip:
      Arm(slot, EpollLoop::NowMs() + (options_.latency_ms ? options_.latency_ms + 1 : 0));
      return;
    case B::kResetMidReply:
      Reply(slot, "220-part", After::kAbort);
      return;
    case B::kEndlessLine:
      Reply(slot, "220 ", After::kStreamLine);
      return;
    case B::kGreeting421:
      Reply(slot,
            absl::StrCat("421 4.3.2 ", name,
                         " Service not available, closing transmission channel\r\n"),
            After::kGreeted);
      return;
    case B::kGreeting554:
      Reply(slot, absl::StrCat("554 5.3.2 ", name, " No SMTP service here\r\n"), After::kGreeted);
      return;
    case B::kGreeting421ThenOk:
      if (c.ordinal > options_.greeting_421_connections) break;  // Postfix from now on
      c.behaviour = B::kGreeting421;  // this connection is refused, and answers as that case
      Reply(slot, "421 4.7.0 try again later\r\n", After::kGreeted);
      return;
    case B::kHeloOnly:
      Reply(slot, absl::StrCat("220 ", name, " SMTP Service ready\r\n"), After::kGreeted);
      return;
    case B::kBadCode:
      Reply(slot, absl::StrCat("22O ", name, " ESMTP\r\n"), After::kGreeted);
      return;
    case B::kBadSeparator:
      Reply(slot, absl::StrCat("2200 ", name, " ESMTP\r\n"), After::kGreeted);
      return;
    case B::kCodeChange:
      Reply(slot, absl::StrCat("220-", name, " ESMTP\r\n221 ", name, " changed its mind\r\n"),
            After::kGreeted);
      return;
    case B::kEarlyTalker:
      // One write: the client gets both in one read, before it could have asked anything.
      Reply(slot, absl::StrCat("220 ", name, " ESMTP Postfix\r\n250 2.0.0 Ok: nobody asked\r\n"),
            After::kGreeted);
      return;
    default:
      break;
  }
  const EsmtpProfile& profile = ProfileOf(c.behaviour);
  std::string greeting = absl::StrCat("220 ", name);
  if (!profile.banner_text.empty()) greeting.append(" ").append(profile.banner_text);
  greeting += "\r\n";
  const int64_t delay = c.behaviour == B::kSlowGreeting      ? options_.greeting_delay_ms
                        : c.behaviour == B::kStalledGreeting ? options_.greeting_stall_ms
                                                             : 0;
  Reply(slot, greeting, After::kGreeted, delay);
}

void SmtpServer::Reply(uint32_t slot, std::string_view text, After after, int64_t extra_ms) {
  const int64_t delay = int64_t(options_.latency_ms) + extra_ms;
  if (delay <= 0) {
    Emit(slot, text, after);
    return;
  }
  Conn& c = conns_[slot];
  c.delayed.assign(text);
  c.delayed_after = after;
  // +1: NowMs() truncates, and the reply must never go out before `delay` has passed.
  Arm(slot, EpollLoop::NowMs() + delay + 1);
}

void SmtpServer::Emit(uint32_t slot, std::string_view text, After after) {
  Conn& c = conns_[slot];
  c.out.append(text);
  switch (after) {
    case After::kNothing:
      break;
    case After::kGreeted:
      c.greeted = true;
      break;
    case After::kClose:
      c.close_after_flush = true;
      break;
    case After::kAbort:
      if (!Flush(slot)) return;
      if (options_.reset_delay_ms == 0) {
        Close(slot, /*abort=*/true);
      } else {
        Arm(slot, EpollLoop::NowMs() + options_.reset_delay_ms + 1);
      }
      return;
    case After::kStreamLine:
      c.stream = Stream::kLine;
      break;
    case After::kStreamContinuation:
      c.stream = Stream::kContinuation;
      break;
    case After::kStartTls:
      c.tls_pending = true;
      break;
  }
  Flush(slot);
}

bool SmtpServer::Flush(uint32_t slot) {
  Conn& c = conns_[slot];
  while (c.out_off < c.out.size()) {
    const ssize_t n = SendSome(slot, c.out.data() + c.out_off, c.out.size() - c.out_off);
    if (n < 0) {
      Close(slot);
      return false;
    }
    if (n == 0) {
      if (c.out_off >= kOutHighWater) {
        c.out.erase(0, c.out_off);
        c.out_off = 0;
      }
      return true;
    }
    c.out_off += size_t(n);
  }
  c.out.clear();
  c.out_off = 0;
  if (c.ssl && !SendWire(slot)) {
    Close(slot);
    return false;
  }
  if (c.wire_off < c.wire.size()) return true;  // the last record is still on its way
  if (c.close_after_flush) {
    Close(slot);
    return false;
  }
  if (c.tls_pending) {
    c.tls_pending = false;
    const uint16_t generation = c.generation;
    StartTls(slot);
    return conns_[slot].fd >= 0 && conns_[slot].generation == generation;
  }
  if (c.stream != Stream::kNone) return PumpStream(slot);
  return true;
}

bool SmtpServer::PumpStream(uint32_t slot) {
  Conn& c = conns_[slot];
  const std::string& pattern = c.stream == Stream::kLine ? LinePattern() : ContinuationPattern();
  size_t burst = 0;
  while (burst < kStreamBurstBytes) {
    if (c.streamed >= options_.stream_bytes_max) {
      Close(slot);  // a client without caps: enough is enough
      return false;
    }
    const size_t off = size_t(c.streamed % pattern.size());
    const size_t len = std::min({pattern.size() - off, kStreamBurstBytes - burst,
                                 size_t(options_.stream_bytes_max - c.streamed)});
    const ssize_t n = SendSome(slot, pattern.data() + off, len);
    if (n < 0) {
      Close(slot);  // the client left: stop
      return false;
    }
    if (n == 0) return true;
    c.streamed += uint64_t(n);
    burst += size_t(n);
  }
  return true;
}

ssize_t SmtpServer::SendSome(uint32_t slot, const char* data, size_t len) {
  Conn& c = conns_[slot];
  if (!c.ssl) {
    for (;;) {
      const ssize_t n = send(c.fd, data, len, MSG_NOSIGNAL);
      if (n >= 0) return n;
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    }
  }
  // One record at a time: the next is encrypted only once the last has gone, so that `wire`
  // stays bounded while the client reads slowly.
  if (!SendWire(slot)) return -1;
  if (c.wire_off < c.wire.size()) return 0;
  const int n = SSL_write(c.ssl.get(), data, int(std::min(len, kTlsRecordBytes)));
  if (n <= 0) {
    ERR_clear_error();
    return -1;
  }
  return SendWire(slot) ? n : -1;
}

bool SmtpServer::SendWire(uint32_t slot) {
  Conn& c = conns_[slot];
  if (c.wire_off == c.wire.size()) {
    c.wire.clear();
    c.wire_off = 0;
  }
  BIO* out = SSL_get_wbio(c.ssl.get());
  const uint8_t* pending;
  size_t pending_len;
  if (BIO_mem_contents(out, &pending, &pending_len) && pending_len > 0) {
    c.wire.append(reinterpret_cast<const char*>(pending), pending_len);
    BIO_reset(out);
  }
  while (c.wire_off < c.wire.size()) {
    const ssize_t n =
        send(c.fd, c.wire.data() + c.wire_off, c.wire.size() - c.wire_off, MSG_NOSIGNAL);
    if (n > 0) {
      c.wire_off += size_t(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return true;
    } else {
      return false;
    }
  }
  c.wire.clear();
  c.wire_off = 0;
  return true;
}

bool SmtpServer::ReadInput(uint32_t slot) {
  char buf[4096];
  for (;;) {
    Conn& c = conns_[slot];
    if (c.in.size() >= kInBytesMax) return true;  // paused until commands are answered
    const size_t room = std::min(sizeof(buf), kInBytesMax - c.in.size());
    ssize_t n;
    if (c.ssl) {
      n = SSL_read(c.ssl.get(), buf, int(room));
      if (n <= 0) {
        const int error = SSL_get_error(c.ssl.get(), int(n));
        ERR_clear_error();
        if (error != SSL_ERROR_WANT_READ) {  // close_notify, or a broken record
          Close(slot);
          return false;
        }
        switch (RecvTls(slot)) {
          case Io::kData:
            continue;
          case Io::kAgain:
            return true;
          case Io::kEnd:
            Close(slot);
            return false;
        }
      }
    } else {
      n = recv(c.fd, buf, room, 0);
    }
    if (n > 0) {
      NoteSpoke(slot);
      c.in.append(buf, size_t(n));
      // The bytes after the last LF are the line still unfinished.
      const size_t lf = c.in.rfind('\n');
      const size_t partial = lf == std::string::npos ? c.in.size() : c.in.size() - lf - 1;
      if (partial > kLineBytesMax) {
        Bump(counters_.dropped);
        Close(slot);
        return false;
      }
    } else if (n == 0) {
      Close(slot);
      return false;
    } else if (errno == EINTR) {
      continue;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return true;
    } else {
      Close(slot);
      return false;
    }
  }
}

void SmtpServer::NoteSpoke(uint32_t slot) {
  if (conns_[slot].spoke) return;
  // The client's first words: a client that keeps to one connection per address has closed
  // every earlier one by now.
  conns_[slot].spoke = true;
  CountConcurrency(slot);
}

bool SmtpServer::ReadRaw(uint32_t slot) {
  char buf[4096];
  for (;;) {
    Conn& c = conns_[slot];
    const ssize_t n = recv(c.fd, buf, sizeof(buf), 0);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)) {
      Close(slot);
      return false;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      return true;
    }
    NoteSpoke(slot);
    if (c.tls != Tls::kHello) continue;  // kDiscard
    // The ClientHello's record: a 5-byte header whose last two bytes are the body's length,
    // kept in `in` (unused in this state) until it is whole.
    if (c.in.size() < 5) c.in.append(buf, std::min(size_t(n), 5 - c.in.size()));
    c.hello_bytes += uint32_t(n);
    if (c.in.size() < 5) continue;
    const size_t length = size_t(uint8_t(c.in[3])) << 8 | uint8_t(c.in[4]);
    if (c.hello_bytes < std::min(5 + length, kHelloBytesMax)) continue;
    c.in.clear();
    // Read whole: answer it with something that is no ServerHello, and say nothing more.
    c.tls = Tls::kDiscard;
    c.out.append(kTlsGarbage);
    if (!Flush(slot)) return false;
  }
}

void SmtpServer::ProcessInput(uint32_t slot) {
  const uint16_t generation = conns_[slot].generation;
  const uint32_t epoch = conns_[slot].input_epoch;
  size_t pos = 0;
  for (;;) {
    Conn& c = conns_[slot];
    if (c.fd < 0 || c.generation != generation) return;
    // TLS has started (or will once the 220 is out): the plaintext that followed STARTTLS is
    // thrown away, as Postfix does, rather than read as if it had come through TLS.
    if (c.input_epoch != epoch) return;
    if (c.tls_pending || (c.tls != Tls::kOff && c.tls != Tls::kOn)) break;
    // Servers that do not listen (or no longer do) throw input away; the others take one line
    // at a time, and only when the previous reply has gone out.
    const bool deaf = c.behaviour == B::kSilent || c.behaviour == B::kDrip ||
                      c.behaviour == B::kEndlessLine || c.behaviour == B::kResetMidReply ||
                      c.mute || c.stream != Stream::kNone;
    if (!deaf && (!c.greeted || !c.delayed.empty() || c.close_after_flush)) break;
    const size_t lf = c.in.find('\n', pos);
    if (lf == std::string::npos) break;
    std::string line = c.in.substr(pos, lf - pos);
    pos = lf + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!deaf) Command(slot, line);
  }
  Conn& c = conns_[slot];
  if (c.fd >= 0 && c.generation == generation) c.in.erase(0, pos);
}

void SmtpServer::Command(uint32_t slot, std::string_view line) {
  Conn& c = conns_[slot];
  const std::string& name = addresses_[sockets_[c.socket].address].name;
  size_t space = line.find(' ');
  std::string verb(line.substr(0, std::min<size_t>(space, 16)));
  for (char& ch : verb) ch = Upper(ch);
  std::string_view argument = space == std::string_view::npos ? "" : line.substr(space + 1);
  while (!argument.empty() && argument.front() == ' ') argument.remove_prefix(1);

  if (verb == "QUIT") {
    Reply(slot, "221 bye\r\n", After::kClose);
    return;
  }
  if (c.behaviour == B::kGreeting421) {
    Reply(slot,
          absl::StrCat("421 4.3.2 ", name,
                       " Service not available, closing transmission channel\r\n"),
          After::kClose);
    return;
  }
  if (c.behaviour == B::kGreeting554) {
    Reply(slot, "503 5.5.1 Error: no SMTP service here\r\n", After::kNothing);
    return;
  }
  const std::string too_many =
      absl::StrCat("421 4.7.0 ", name, " Error: too many connections from your address\r\n");
  if (verb == "EHLO") {
    switch (c.behaviour) {
      case B::kHeloOnly:
        Reply(slot, "502 5.5.2 Error: command not recognized\r\n", After::kNothing);
        return;
      case B::kEhlo421:
        Reply(slot, too_many, After::kNothing);
        return;
      case B::kCloseAfterEhlo:
        Close(slot);
        return;
      case B::kSilentAfterEhlo:
        // No reply, now or ever: the connection stays open until the client leaves or its
        // lifetime ends, and whatever comes next is thrown away.
        c.mute = true;
        return;
      case B::kEndlessContinuation:
        Reply(slot, absl::StrCat("250-", name, "\r\n"), After::kStreamContinuation);
        return;
      default:
        Ehlo(slot, argument);
        return;
    }
  }
  if (verb == "HELO") {
    Reply(slot, c.behaviour == B::kEhlo421 ? too_many : absl::StrCat("250 ", name, "\r\n"),
          After::kNothing);
  } else if (verb == "NOOP" || verb == "RSET") {
    Reply(slot, "250 2.0.0 Ok\r\n", After::kNothing);
  } else if (verb == "STARTTLS") {
    StartTlsCommand(slot);
  } else if (verb.empty()) {
    Reply(slot, "500 5.5.2 Error: bad syntax\r\n", After::kNothing);
  } else {
    Reply(slot, "502 5.5.2 Error: command not recognized\r\n", After::kNothing);
  }
}

void SmtpServer::Ehlo(uint32_t slot, std::string_view argument) {
  Conn& c = conns_[slot];
  const std::string& name = addresses_[sockets_[c.socket].address].name;
  const EsmtpProfile& profile = ProfileOf(c.behaviour);
  std::vector<std::string_view> extensions =
      c.tls == Tls::kOn ? profile.tls_extensions : profile.extensions;
  if (!options_.tls) std::erase(extensions, std::string_view("STARTTLS"));
  std::string reply = absl::StrCat("250", extensions.empty() ? " " : "-", name);
  if (profile.hello != EsmtpProfile::Hello::kName && c.peer.empty()) c.peer = PeerText(c.fd);
  if (profile.hello == EsmtpProfile::Hello::kHelloArgPeer) {
    absl::StrAppend(&reply, " Hello ", Printable(argument), " [", c.peer, "]");
  } else if (profile.hello == EsmtpProfile::Hello::kHelloPeer) {
    absl::StrAppend(&reply, " Hello [", c.peer, "]");
  }
  reply += "\r\n";
  for (size_t i = 0; i < extensions.size(); ++i) {
    reply.append(i + 1 == extensions.size() ? "250 " : "250-").append(extensions[i]).append("\r\n");
  }
  Reply(slot, reply, After::kNothing);
}

void SmtpServer::StartTlsCommand(uint32_t slot) {
  Conn& c = conns_[slot];
  if (c.tls != Tls::kOff) {
    Reply(slot, "554 5.5.1 Error: TLS already active\r\n", After::kNothing);
    return;
  }
  if (!options_.tls || !ProfileOf(c.behaviour).starttls) {
    Reply(slot, "502 5.5.2 Error: command not recognized\r\n", After::kNothing);
    return;
  }
  switch (TlsPlanOf(c.behaviour).answer) {
    case TlsAnswer::kRejected:
      Reply(slot, "454 4.7.0 TLS not available due to local problem\r\n", After::kNothing);
      return;
    case TlsAnswer::kInjection:
      // One write: a client that reads the 220 gets the injected line in the same read, as if
      // a man in the middle had appended it to the plaintext.
      Reply(slot, "220 2.0.0 Ready to start TLS\r\n250 injected\r\n", After::kStartTls);
      return;
    default:
      Reply(slot, "220 2.0.0 Ready to start TLS\r\n", After::kStartTls);
      return;
  }
}

bool SmtpServer::ImplicitTls(uint32_t socket) const {
  const Socket& s = sockets_[socket];
  return options_.tls && kSmtpLogicalPorts[s.port_index] == 465 && s.behaviour != B::kPlain465;
}

SSL_CTX* SmtpServer::ContextFor(uint32_t socket) {
  Socket& s = sockets_[socket];
  if (s.tls_ctx != nullptr) return s.tls_ctx;
  const Address& a = addresses_[s.address];
  const TlsPlan plan = TlsPlanOf(s.behaviour, options_.ecdsa_leaves);
  const auto key =
      std::make_tuple(s.address, uint8_t(plan.cert), plan.rsa, plan.min_version, plan.max_version);
  if (auto it = contexts_.find(key); it != contexts_.end()) {
    s.tls_ctx = it->second.get();
    return s.tls_ctx;
  }
  CertSpec spec{.dns_names = CertDnsNames(plan.cert, a.name),
                .ip_addresses = {a.ip},
                .key = plan.rsa ? TestKeyType::kRsa2048 : TestKeyType::kEcdsaP256};
  const int64_t now = int64_t(time(nullptr));
  switch (plan.cert) {
    case TlsCert::kExpired:
      spec.not_before = now - 120 * kDaySeconds;
      spec.not_after = now - 30 * kDaySeconds;
      break;
    case TlsCert::kNotYetValid:
      spec.not_before = now + 30 * kDaySeconds;
      spec.not_after = now + 120 * kDaySeconds;
      break;
    case TlsCert::kSelfSigned:
      spec.issuer = CertSpec::Issuer::kSelf;
      break;
    case TlsCert::kUntrustedCa:
      spec.issuer = CertSpec::Issuer::kUntrustedCa;
      break;
    default:
      break;
  }
  absl::StatusOr<IssuedCert> cert = ca_->Issue(spec);
  if (!cert.ok()) return nullptr;
  absl::StatusOr<bssl::UniquePtr<SSL_CTX>> ctx =
      NewServerContext(*cert, plan.min_version, plan.max_version);
  if (!ctx.ok()) return nullptr;
  s.tls_ctx = ctx->get();
  contexts_.emplace(key, *std::move(ctx));
  return s.tls_ctx;
}

void SmtpServer::StartTls(uint32_t slot) {
  Conn& c = conns_[slot];
  ++c.input_epoch;
  c.in.clear();
  switch (TlsPlanOf(c.behaviour).answer) {
    case TlsAnswer::kGarbage:
      c.tls = Tls::kHello;
      c.hello_bytes = 0;
      return;
    case TlsAnswer::kStall:
      c.tls = Tls::kDiscard;
      return;
    default:
      break;
  }
  SSL_CTX* ctx = ContextFor(c.socket);
  bssl::UniquePtr<SSL> ssl(ctx ? SSL_new(ctx) : nullptr);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  if (!ssl || !in || !out) {
    BIO_free(in);
    BIO_free(out);
    ERR_clear_error();
    Close(slot);
    return;
  }
  SSL_set_bio(ssl.get(), in, out);
  SSL_set_accept_state(ssl.get());
  // A reply and the close_notify after it, or a flight and the greeting, are small writes back
  // to back: Nagle would hold the second for the client's delayed ACK.
  int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  c.ssl = std::move(ssl);
  c.tls = Tls::kHandshake;
  DriveHandshake(slot);  // the ClientHello may be here already
}

SmtpServer::Io SmtpServer::RecvTls(uint32_t slot) {
  Conn& c = conns_[slot];
  char buf[4096];
  for (;;) {
    const ssize_t n = recv(c.fd, buf, sizeof(buf), 0);
    if (n > 0) {
      NoteSpoke(slot);
      BIO_write(SSL_get_rbio(c.ssl.get()), buf, int(n));
      return Io::kData;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Io::kAgain;
    return Io::kEnd;
  }
}

bool SmtpServer::DriveHandshake(uint32_t slot) {
  for (;;) {
    Conn& c = conns_[slot];
    const int r = SSL_do_handshake(c.ssl.get());
    if (!SendWire(slot)) {
      Close(slot);
      return false;
    }
    if (r == 1) {
      const uint16_t generation = c.generation;
      c.tls = Tls::kOn;
      Bump(counters_.handshakes);
      if (const char* sni = SSL_get_servername(c.ssl.get(), TLSEXT_NAMETYPE_host_name)) {
        std::lock_guard<std::mutex> lock(sni_mu_);
        sni_[c.socket] = sni;
      }
      auto alive = [&] { return conns_[slot].fd >= 0 && conns_[slot].generation == generation; };
      if (!c.greeted) Greet(slot);  // implicit TLS: the greeting comes inside
      if (!alive()) return false;
      // The client's first record may have come with its Finished, already out of the socket:
      // nothing would wake us for it (this may run from a timer, not from a read event).
      if (!ReadInput(slot)) return false;
      ProcessInput(slot);
      return alive();
    }
    const int error = SSL_get_error(c.ssl.get(), r);
    ERR_clear_error();
    if (error != SSL_ERROR_WANT_READ) {
      Close(slot);  // whatever the client sent was no handshake we could finish
      return false;
    }
    switch (RecvTls(slot)) {
      case Io::kData:
        continue;
      case Io::kAgain:
        return true;
      case Io::kEnd:
        Close(slot);
        return false;
    }
  }
}

void SmtpServer::UpdateInterest(uint32_t slot) {
  Conn& c = conns_[slot];
  uint32_t events = EPOLLRDHUP;  // a client that leaves is noticed even while reading pauses
  const bool wire = c.wire_off < c.wire.size();
  switch (c.tls) {
    case Tls::kHandshake:
    case Tls::kHello:
    case Tls::kDiscard:
      events |= EPOLLIN;
      if (wire || c.out_off < c.out.size()) events |= EPOLLOUT;
      break;
    case Tls::kOff:
    case Tls::kOn:
      if (c.in.size() < kInBytesMax && c.out.size() - c.out_off < kOutHighWater) {
        events |= EPOLLIN;
      }
      if (wire || c.out_off < c.out.size() || c.stream != Stream::kNone) events |= EPOLLOUT;
      break;
  }
  if (events == c.events) return;
  c.events = events;
  if (!loop_->Rewatch(c.fd, events, handler_id_, ConnTag(slot)).ok()) Close(slot);
}

void SmtpServer::OnConn(uint32_t slot, uint32_t events) {
  const uint16_t generation = conns_[slot].generation;
  auto alive = [&] { return conns_[slot].fd >= 0 && conns_[slot].generation == generation; };
  if (events & EPOLLERR) {
    Close(slot);
    return;
  }
  const bool gone = events & (EPOLLRDHUP | EPOLLHUP);
  switch (conns_[slot].tls) {
    case Tls::kHello:
    case Tls::kDiscard:
      if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) && !ReadRaw(slot)) return;
      if ((events & EPOLLOUT) && !Flush(slot)) return;
      if (alive()) UpdateInterest(slot);
      return;
    case Tls::kHandshake:
      if ((events & EPOLLOUT) && !Flush(slot)) return;  // the server's flight
      if (!DriveHandshake(slot)) return;
      if (conns_[slot].tls == Tls::kHandshake) {
        if (gone) {
          Close(slot);
        } else {
          UpdateInterest(slot);
        }
        return;
      }
      // Complete: the client's first command may have come with its Finished.
      events |= EPOLLIN;
      break;
    default:
      break;
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) {
    // Inside TLS, input may wait in the SSL rather than in the socket once `in` has room again
    // (nothing would wake us for it), so read until neither has any or `in` is full.
    for (int round = 0; round < 4; ++round) {
      if (!ReadInput(slot)) return;
      if (gone) {  // the client is gone; its last words do not matter
        Close(slot);
        return;
      }
      const size_t before = conns_[slot].in.size();
      ProcessInput(slot);
      if (!alive()) return;
      const Conn& c = conns_[slot];
      // A STARTTLS answered in this round started a handshake: its bytes are DriveHandshake's.
      // Reading on here would run the handshake inside SSL_read, whose flight nobody sends (the
      // ClientHello that came meanwhile was answered into the BIO, and the client waited for
      // its ServerHello until its deadline).
      if (!c.ssl || c.tls != Tls::kOn || c.in.size() >= before || c.in.size() >= kInBytesMax) {
        break;
      }
    }
  }
  if ((events & EPOLLOUT) && !Flush(slot)) return;
  if (alive()) UpdateInterest(slot);
}

void SmtpServer::Arm(uint32_t slot, int64_t due_ms) {
  Conn& c = conns_[slot];
  c.due_ms = due_ms;
  timers_.push({due_ms, slot, c.generation});
  if (timer_armed_ms_ < 0 || due_ms < timer_armed_ms_) ArmTimerFd();
}

void SmtpServer::ArmTimerFd() {
  while (!timers_.empty()) {
    const Timer& t = timers_.top();
    const Conn& c = conns_[t.slot];
    if (c.fd >= 0 && c.generation == t.generation && c.due_ms == t.due_ms) break;
    timers_.pop();  // its connection closed or moved on
  }
  itimerspec its{};
  if (timers_.empty()) {
    timer_armed_ms_ = -1;
  } else {
    const int64_t due = timers_.top().due_ms;
    if (due == timer_armed_ms_) return;
    timer_armed_ms_ = due;
    its.it_value.tv_sec = due / 1000;
    its.it_value.tv_nsec = (due % 1000) * 1'000'000;
    if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0) its.it_value.tv_nsec = 1;
  }
  timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &its, nullptr);
}

void SmtpServer::OnTimers() {
  uint64_t expirations;
  (void)!read(timer_fd_, &expirations, sizeof(expirations));
  timer_armed_ms_ = -1;
  const int64_t now = EpollLoop::NowMs();
  while (!timers_.empty() && timers_.top().due_ms <= now) {
    const Timer t = timers_.top();
    timers_.pop();
    Conn& c = conns_[t.slot];
    if (c.fd < 0 || c.generation != t.generation || c.due_ms != t.due_ms) continue;
    c.due_ms = -1;
    if (c.delayed.empty() && c.behaviour == B::kResetMidReply) {
      Close(t.slot, /*abort=*/true);  // the partial greeting went out reset_delay_ms ago
      continue;
    }
    if (c.delayed.empty() && c.behaviour == B::kDrip) {
      // One more byte of a greeting that never ends.
      const std::string line = absl::StrCat("220-", addresses_[sockets_[c.socket].address].name,
                                            " greeting, one byte at a time\r\n");
      c.out.push_back(line[c.streamed % line.size()]);
      ++c.streamed;
      if (!Flush(t.slot)) continue;
      Arm(t.slot, now + std::max<int64_t>(options_.drip_interval_ms, 1));
    } else {
      std::string text = std::move(c.delayed);
      c.delayed.clear();
      Emit(t.slot, text, c.delayed_after);
      ProcessInput(t.slot);  // commands that arrived while the reply was held
    }
    if (conns_[t.slot].fd >= 0 && conns_[t.slot].generation == t.generation) {
      UpdateInterest(t.slot);
    }
  }
  ArmTimerFd();
}

void SmtpServer::Close(uint32_t slot, bool abort) {
  Conn& c = conns_[slot];
  Address& a = addresses_[sockets_[c.socket].address];
  if (c.prev != kNil) {
    conns_[c.prev].next = c.next;
  } else {
    a.first_conn = c.next;
  }
  if (c.next != kNil) conns_[c.next].prev = c.prev;
  c.prev = c.next = kNil;
  // Counted down before the descriptor closes: a client that sees the close sees the counts.
  --a.open;
  counters_.open.store(counters_.open.load(std::memory_order_relaxed) - 1,
                       std::memory_order_relaxed);
  loop_->Unwatch(c.fd);
  if (abort) {
    linger l{.l_onoff = 1, .l_linger = 0};  // close sends RST
    setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  } else if (c.tls == Tls::kOn) {
    // close_notify, as a real server says goodbye; best effort, the socket is closing anyway.
    SSL_shutdown(c.ssl.get());
    ERR_clear_error();
    SendWire(slot);
  }
  c.ssl.reset();
  c.tls = Tls::kOff;
  c.tls_pending = false;
  close(c.fd);
  const bool idle = counters_.descriptors.fetch_sub(1) == 1;
  c.fd = -1;
  ++c.generation;
  c.due_ms = -1;
  c.stream = Stream::kNone;
  c.wire_off = 0;
  for (std::string* s : {&c.in, &c.out, &c.delayed, &c.wire}) {
    if (s->capacity() > kKeptCapacity) {
      std::string().swap(*s);
    } else {
      s->clear();
    }
  }
  c.out_off = 0;
  free_conns_.push_back(slot);
  if (idle && idle_waiters_.load() > 0) {
    std::lock_guard<std::mutex> lock(idle_mu_);
    idle_cv_.notify_all();
  }
}

void SmtpServer::OnTick(int64_t now_ms) {
  if (any_paused_) {
    any_paused_ = false;
    for (uint32_t i = 0; i < sockets_.size(); ++i) {
      Socket& s = sockets_[i];
      if (!s.paused) continue;
      s.paused = !loop_->Watch(s.fd, EPOLLIN, handler_id_, uint64_t(i) << 2 | kTagSocket).ok();
      any_paused_ |= s.paused;
    }
  }
  for (uint32_t slot = 0; slot < conns_.size(); ++slot) {
    if (conns_[slot].fd >= 0 && now_ms - conns_[slot].opened_ms > options_.connection_lifetime_ms) {
      Close(slot);
      Bump(counters_.lifetime_closed);
    }
  }
}

}  // namespace mxray::fleet
