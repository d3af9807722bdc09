// UDP and TCP transport of the fleet's DNS (see dns_server.h).
#include "tools/fleet/dns_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace mxray::fleet {
namespace {

void Bump(std::atomic<uint64_t>& counter, uint64_t n = 1) {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

void SetBuffer(int fd, int force_opt, int opt, int bytes) {
  // FORCE ignores net.core.rmem_max/wmem_max but needs CAP_NET_ADMIN; fall back quietly.
  if (setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof(bytes)) != 0) {
    setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof(bytes));
  }
}

// Fills `addr` for a loopback address; anything else is refused: the fleet never listens
// beyond this machine.
absl::StatusOr<socklen_t> LoopbackSockaddr(const std::string& ip, uint16_t port,
                                           sockaddr_storage* addr) {
  std::memset(addr, 0, sizeof(*addr));
  auto* v4 = reinterpret_cast<sockaddr_in*>(addr);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    if ((ntohl(v4->sin_addr.s_addr) >> 24) != 127) {
      return absl::InvalidArgumentError(absl::StrCat(ip, " is not in 127.0.0.0/8"));
    }
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    return socklen_t(sizeof(sockaddr_in));
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(addr);
  if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    if (!IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)) {
      return absl::InvalidArgumentError(absl::StrCat(ip, " is not ::1"));
    }
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    return socklen_t(sizeof(sockaddr_in6));
  }
  return absl::InvalidArgumentError(absl::StrCat("not an IP address: ", ip));
}

}  // namespace

absl::StatusOr<std::unique_ptr<DnsServer>> DnsServer::Create(EpollLoop* loop,
                                                             std::vector<const Zone*> zones,
                                                             const DnsServerOptions& options) {
  std::unique_ptr<DnsServer> server(new DnsServer(loop, std::move(zones), options));
  absl::Status status = server->Bind();
  if (!status.ok()) return status;
  server->handler_id_ = loop->AddHandler(server.get());
  status = loop->Watch(server->udp_fd_, EPOLLIN, server->handler_id_, kTagUdp);
  if (status.ok()) {
    status = loop->Watch(server->listen_fd_, EPOLLIN, server->handler_id_, kTagListener);
  }
  if (!status.ok()) return status;
  return server;
}

DnsServer::DnsServer(EpollLoop* loop, std::vector<const Zone*> zones,
                     const DnsServerOptions& options)
    : loop_(loop),
      options_(options),
      responder_(std::move(zones)),
      udp_slots_(kUdpBatch),
      recv_msgs_(kUdpBatch),
      send_msgs_(kUdpBatch),
      tcp_scratch_(kMaxDnsMessageBytes) {}

DnsServer::~DnsServer() {
  for (Conn& c : conns_) {
    if (c.fd >= 0) close(c.fd);
  }
  if (udp_fd_ >= 0) close(udp_fd_);
  if (listen_fd_ >= 0) close(listen_fd_);
}

absl::Status DnsServer::Bind() {
  sockaddr_storage addr;
  absl::StatusOr<socklen_t> addr_len = LoopbackSockaddr(options_.ip, options_.port, &addr);
  if (!addr_len.ok()) return addr_len.status();
  const int family = addr.ss_family;
  // With port 0 the kernel picks the UDP port, which may be taken for TCP: try a few.
  for (int attempt = 0; attempt < 16; ++attempt) {
    udp_fd_ = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (udp_fd_ < 0) return absl::ErrnoToStatus(errno, "socket(UDP)");
    SetBuffer(udp_fd_, SO_RCVBUFFORCE, SO_RCVBUF, options_.udp_buffer_bytes);
    SetBuffer(udp_fd_, SO_SNDBUFFORCE, SO_SNDBUF, options_.udp_buffer_bytes);
    if (bind(udp_fd_, reinterpret_cast<sockaddr*>(&addr), *addr_len) != 0) {
      return absl::ErrnoToStatus(errno, absl::StrCat("bind(UDP ", address(), ")"));
    }
    sockaddr_storage bound;
    socklen_t bound_len = sizeof(bound);
    getsockname(udp_fd_, reinterpret_cast<sockaddr*>(&bound), &bound_len);
    port_ = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                    : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
    if (family == AF_INET) {
      reinterpret_cast<sockaddr_in*>(&addr)->sin_port = htons(port_);
    } else {
      reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port = htons(port_);
    }
    listen_fd_ = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) return absl::ErrnoToStatus(errno, "socket(TCP)");
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), *addr_len) == 0) {
      if (listen(listen_fd_, 1024) != 0) return absl::ErrnoToStatus(errno, "listen");
      return absl::OkStatus();
    }
    int err = errno;
    close(listen_fd_);
    close(udp_fd_);
    listen_fd_ = udp_fd_ = -1;
    if (err != EADDRINUSE || options_.port != 0) {
      return absl::ErrnoToStatus(err, absl::StrCat("bind(TCP ", address(), ")"));
    }
    if (family == AF_INET) {
      reinterpret_cast<sockaddr_in*>(&addr)->sin_port = 0;
    } else {
      reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port = 0;
    }
  }
  return absl::UnavailableError("no port free for both UDP and TCP");
}

std::string DnsServer::address() const {
  if (options_.ip.find(':') != std::string::npos)
    return absl::StrCat("[", options_.ip, "]:", port_);
  return absl::StrCat(options_.ip, ":", port_);
}

DnsServerStats DnsServer::stats() const {
  auto get = [](const std::atomic<uint64_t>& c) { return c.load(std::memory_order_relaxed); };
  DnsServerStats s;
  s.queries_udp = get(counters_.queries_udp);
  s.queries_tcp = get(counters_.queries_tcp);
  s.dropped = get(counters_.dropped);
  s.truncated = get(counters_.truncated);
  s.malformed = get(counters_.malformed);
  s.rcode_noerror = get(counters_.rcode_noerror);
  s.rcode_nxdomain = get(counters_.rcode_nxdomain);
  s.rcode_servfail = get(counters_.rcode_servfail);
  s.rcode_refused = get(counters_.rcode_refused);
  s.rcode_other = get(counters_.rcode_other);
  s.udp_send_failed = get(counters_.udp_send_failed);
  s.tcp_accepted = get(counters_.tcp_accepted);
  s.tcp_rejected = get(counters_.tcp_rejected);
  s.tcp_idle_closed = get(counters_.tcp_idle_closed);
  s.tcp_open = get(counters_.tcp_open);
  return s;
}

void DnsServer::Count(const ResponseInfo& info) {
  if (info.dropped) {
    Bump(counters_.dropped);
    return;
  }
  if (info.truncated) Bump(counters_.truncated);
  if (info.malformed) {
    Bump(counters_.malformed);
    return;
  }
  switch (info.rcode) {
    case kRcodeNoError:
      Bump(counters_.rcode_noerror);
      break;
    case kRcodeNxDomain:
      Bump(counters_.rcode_nxdomain);
      break;
    case kRcodeServFail:
      Bump(counters_.rcode_servfail);
      break;
    case kRcodeRefused:
      Bump(counters_.rcode_refused);
      break;
    default:
      Bump(counters_.rcode_other);
      break;
  }
}

void DnsServer::OnEvents(uint64_t tag, uint32_t events) {
  switch (tag & 3) {
    case kTagUdp:
      OnUdp();
      return;
    case kTagListener:
      OnAccept();
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

void DnsServer::OnUdp() {
  // A bounded number of batches per wakeup, so TCP clients are not starved under a flood.
  for (int round = 0; round < 16; ++round) {
    for (size_t j = 0; j < kUdpBatch; ++j) {
      UdpSlot& s = udp_slots_[j];
      s.in_iov = {s.query, sizeof(s.query)};
      msghdr& h = recv_msgs_[j].msg_hdr;
      h = msghdr{};
      h.msg_name = &s.peer;
      h.msg_namelen = sizeof(s.peer);
      h.msg_iov = &s.in_iov;
      h.msg_iovlen = 1;
    }
    int n = recvmmsg(udp_fd_, recv_msgs_.data(), kUdpBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) return;
    size_t to_send = 0;
    for (int j = 0; j < n; ++j) {
      UdpSlot& s = udp_slots_[j];
      ResponseInfo info;
      size_t len = responder_.Respond({s.query, recv_msgs_[j].msg_len}, Transport::kUdp,
                                      {s.response, sizeof(s.response)}, &info);
      Count(info);
      if (len == 0) continue;
      s.out_iov = {s.response, len};
      msghdr& h = send_msgs_[to_send++].msg_hdr;
      h = msghdr{};
      h.msg_name = &s.peer;
      h.msg_namelen = recv_msgs_[j].msg_hdr.msg_namelen;
      h.msg_iov = &s.out_iov;
      h.msg_iovlen = 1;
    }
    Bump(counters_.queries_udp, uint64_t(n));
    size_t sent = 0;
    while (sent < to_send) {
      int r = sendmmsg(udp_fd_, send_msgs_.data() + sent, unsigned(to_send - sent), MSG_DONTWAIT);
      if (r > 0) {
        sent += size_t(r);
      } else if (r < 0 && errno == EINTR) {
        continue;
      } else {
        // EAGAIN with an 8 MB buffer, or a peer gone (ECONNREFUSED): UDP may lose it, the
        // client retries.
        Bump(counters_.udp_send_failed);
        ++sent;  // skip the one that failed, keep the rest of the batch
      }
    }
    if (size_t(n) < kUdpBatch) return;
  }
}

uint64_t DnsServer::ConnTag(uint32_t slot) const {
  return ConnectionTag(slot, conns_[slot].generation, kTagConn);
}

void DnsServer::OnAccept() {
  for (;;) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Level-triggered: the listener would wake us forever. Rest until the next tick.
        loop_->Unwatch(listen_fd_);
        listen_paused_ = true;
      }
      return;
    }
    if (counters_.tcp_open.load(std::memory_order_relaxed) >= options_.max_tcp_connections) {
      close(fd);
      Bump(counters_.tcp_rejected);
      continue;
    }
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
    c.eof = false;
    c.in_len = 0;
    c.out_off = 0;
    c.events = EPOLLIN | EPOLLRDHUP;
    c.last_active_ms = EpollLoop::NowMs();
    if (!loop_->Watch(fd, c.events, handler_id_, ConnTag(slot)).ok()) {
      close(fd);
      c.fd = -1;
      free_conns_.push_back(slot);
      continue;
    }
    Bump(counters_.tcp_accepted);
    Bump(counters_.tcp_open);
  }
}

void DnsServer::OnConn(uint32_t slot, uint32_t events) {
  Conn& c = conns_[slot];
  if (events & EPOLLERR) {
    CloseConn(slot);
    return;
  }
  c.last_active_ms = EpollLoop::NowMs();
  if (events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP)) ReadConn(c);
  // Answer until the input holds no complete query or the peer stops taking output. Queries
  // already read get no new EPOLLIN, so none may be left behind while output can still drain.
  for (;;) {
    AnswerFrames(c);
    if (!FlushConn(c)) {
      CloseConn(slot);
      return;
    }
    if (c.out.size() - c.out_off >= kTcpOutHighWater || !HasCompleteFrame(c)) break;
  }
  // After end of input every complete query has been answered (AnswerFrames stops early only
  // while output is pending), so an idle, drained connection is done.
  if (c.eof && c.out_off == c.out.size()) {
    CloseConn(slot);
    return;
  }
  UpdateInterest(slot);
}

bool DnsServer::HasCompleteFrame(const Conn& c) {
  return c.in_len >= 2 && c.in_len - 2 >= (size_t(c.in[0]) << 8 | c.in[1]);
}

void DnsServer::ReadConn(Conn& c) {
  for (;;) {
    if (c.in_len == c.in.size()) {
      if (c.in.size() >= kTcpInMax) return;  // a whole maximal frame is waiting for room
      c.in.resize(std::min(kTcpInMax, std::max<size_t>(4096, 2 * c.in.size())));
    }
    ssize_t r = read(c.fd, c.in.data() + c.in_len, c.in.size() - c.in_len);
    if (r > 0) {
      c.in_len += size_t(r);
    } else if (r == 0) {
      c.eof = true;
      return;
    } else if (errno == EINTR) {
      continue;
    } else {
      if (errno != EAGAIN && errno != EWOULDBLOCK) c.eof = true;
      return;
    }
  }
}

void DnsServer::AnswerFrames(Conn& c) {
  size_t pos = 0;
  while (c.in_len - pos >= 2 && c.out.size() - c.out_off < kTcpOutHighWater) {
    size_t len = size_t(c.in[pos]) << 8 | c.in[pos + 1];
    if (len == 0) {  // cannot be a query: the stream is garbage from here on
      c.eof = true;
      pos = c.in_len;
      break;
    }
    if (c.in_len - pos - 2 < len) break;
    Bump(counters_.queries_tcp);
    ResponseInfo info;
    size_t n =
        responder_.Respond({c.in.data() + pos + 2, len}, Transport::kTcp, tcp_scratch_, &info);
    Count(info);
    pos += 2 + len;
    if (n == 0) continue;
    if (c.out_off == c.out.size()) {
      c.out.clear();
      c.out_off = 0;
    }
    c.out.push_back(uint8_t(n >> 8));
    c.out.push_back(uint8_t(n));
    c.out.insert(c.out.end(), tcp_scratch_.begin(), tcp_scratch_.begin() + n);
  }
  if (pos > 0) {
    std::memmove(c.in.data(), c.in.data() + pos, c.in_len - pos);
    c.in_len -= pos;
  }
}

bool DnsServer::FlushConn(Conn& c) {
  while (c.out_off < c.out.size()) {
    ssize_t r = send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
    if (r > 0) {
      c.out_off += size_t(r);
    } else if (r < 0 && errno == EINTR) {
      continue;
    } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    } else {
      return false;
    }
  }
  if (c.out_off == c.out.size()) {
    c.out.clear();
    c.out_off = 0;
  } else if (c.out_off >= kTcpOutHighWater) {
    c.out.erase(c.out.begin(), c.out.begin() + long(c.out_off));
    c.out_off = 0;
  }
  return true;
}

void DnsServer::UpdateInterest(uint32_t slot) {
  Conn& c = conns_[slot];
  uint32_t events = 0;
  bool pending_out = c.out_off < c.out.size();
  if (!c.eof && c.in_len < kTcpInMax && c.out.size() - c.out_off < kTcpOutHighWater) {
    events |= EPOLLIN | EPOLLRDHUP;
  }
  if (pending_out) events |= EPOLLOUT;
  if (events == c.events) return;
  c.events = events;
  if (!loop_->Rewatch(c.fd, events, handler_id_, ConnTag(slot)).ok()) CloseConn(slot);
}

void DnsServer::CloseConn(uint32_t slot) {
  Conn& c = conns_[slot];
  loop_->Unwatch(c.fd);
  close(c.fd);
  c.fd = -1;
  ++c.generation;
  // Give the memory back: an idle slot must not keep a 64 KiB buffer.
  std::vector<uint8_t>().swap(c.in);
  std::vector<uint8_t>().swap(c.out);
  c.in_len = 0;
  c.out_off = 0;
  free_conns_.push_back(slot);
  counters_.tcp_open.store(counters_.tcp_open.load(std::memory_order_relaxed) - 1,
                           std::memory_order_relaxed);
}

void DnsServer::OnTick(int64_t now_ms) {
  if (listen_paused_) {
    listen_paused_ = !loop_->Watch(listen_fd_, EPOLLIN, handler_id_, kTagListener).ok();
  }
  for (uint32_t slot = 0; slot < conns_.size(); ++slot) {
    if (conns_[slot].fd >= 0 &&
        now_ms - conns_[slot].last_active_ms > options_.tcp_idle_timeout_ms) {
      CloseConn(slot);
      Bump(counters_.tcp_idle_closed);
    }
  }
}

}  // namespace mxray::fleet
