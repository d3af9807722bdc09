// The fleet's DNS transport: UDP and TCP on one loopback address and port, on an EpollLoop. UDP
// goes in recvmmsg/sendmmsg batches (the hot path: ~150k queries/s on one core); TCP takes
// several length-framed queries per connection with bounded buffers and an idle timeout. What
// to answer is the DnsResponder's business.
#ifndef MXRAY_TOOLS_FLEET_DNS_SERVER_H_
#define MXRAY_TOOLS_FLEET_DNS_SERVER_H_

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/fleet/dns_responder.h"
#include "tools/fleet/epoll_loop.h"
#include "tools/fleet/zone.h"

namespace mxray::fleet {

struct DnsServerOptions {
  std::string ip = "127.0.0.1";  // loopback only: 127.0.0.0/8 or ::1
  uint16_t port = 0;             // 0: a free port, the same for UDP and TCP
  size_t max_tcp_connections = 1024;
  int64_t tcp_idle_timeout_ms = 30'000;
  int udp_buffer_bytes = 8 << 20;  // SO_RCVBUF/SO_SNDBUF (FORCE when root): absorbs bursts
};

struct DnsServerStats {
  uint64_t queries_udp = 0;
  uint64_t queries_tcp = 0;
  uint64_t dropped = 0;    // no response: never-answering names, unparseable queries
  uint64_t truncated = 0;  // TC=1 over UDP
  uint64_t malformed = 0;  // deliberately broken responses
  uint64_t rcode_noerror = 0;
  uint64_t rcode_nxdomain = 0;
  uint64_t rcode_servfail = 0;
  uint64_t rcode_refused = 0;
  uint64_t rcode_other = 0;  // FORMERR, NOTIMP
  uint64_t udp_send_failed = 0;
  uint64_t tcp_accepted = 0;
  uint64_t tcp_rejected = 0;  // over max_tcp_connections
  uint64_t tcp_idle_closed = 0;
  uint64_t tcp_open = 0;
};

class DnsServer : public EpollLoop::Handler {
 public:
  // Binds and registers on `loop`; serving starts when the loop runs. Zones must outlive the
  // server. The loop must be stopped before the server is destroyed.
  static absl::StatusOr<std::unique_ptr<DnsServer>> Create(EpollLoop* loop,
                                                           std::vector<const Zone*> zones,
                                                           const DnsServerOptions& options);
  ~DnsServer() override;

  const std::string& ip() const { return options_.ip; }
  uint16_t port() const { return port_; }
  // "127.0.0.1:5353" or "[::1]:5353".
  std::string address() const;
  // Safe from any thread.
  DnsServerStats stats() const;

  void OnEvents(uint64_t tag, uint32_t events) override;
  void OnTick(int64_t now_ms) override;

 private:
  static constexpr size_t kUdpBatch = 64;
  static constexpr size_t kUdpQueryBytes = 4096;
  static constexpr size_t kTcpInMax = 2 + kMaxDnsMessageBytes;
  // Past this much unsent output a connection stops being read: a client that does not read
  // cannot make us buffer without bound.
  static constexpr size_t kTcpOutHighWater = 128 * 1024;

  enum TagKind : uint64_t { kTagUdp = 0, kTagListener = 1, kTagConn = 2 };

  struct Conn {
    int fd = -1;
    uint16_t generation = 0;
    uint32_t events = 0;  // current epoll interest
    bool eof = false;
    int64_t last_active_ms = 0;
    std::vector<uint8_t> in;
    size_t in_len = 0;
    std::vector<uint8_t> out;
    size_t out_off = 0;
  };
  struct UdpSlot {
    uint8_t query[kUdpQueryBytes];
    uint8_t response[DnsResponder::kMaxUdpResponseBytes];
    sockaddr_storage peer;
    iovec in_iov;
    iovec out_iov;
  };

  DnsServer(EpollLoop* loop, std::vector<const Zone*> zones, const DnsServerOptions& options);
  absl::Status Bind();
  void OnUdp();
  void OnAccept();
  void OnConn(uint32_t slot, uint32_t events);
  void ReadConn(Conn& c);
  void AnswerFrames(Conn& c);
  static bool HasCompleteFrame(const Conn& c);
  bool FlushConn(Conn& c);
  void UpdateInterest(uint32_t slot);
  void CloseConn(uint32_t slot);
  void Count(const ResponseInfo& info);
  uint64_t ConnTag(uint32_t slot) const;

  EpollLoop* loop_;
  uint16_t handler_id_ = 0;
  DnsServerOptions options_;
  DnsResponder responder_;
  int udp_fd_ = -1;
  int listen_fd_ = -1;
  bool listen_paused_ = false;  // out of descriptors: resumed on the next tick
  uint16_t port_ = 0;

  std::vector<UdpSlot> udp_slots_;
  std::vector<mmsghdr> recv_msgs_;
  std::vector<mmsghdr> send_msgs_;
  std::vector<uint8_t> tcp_scratch_;  // one response before it is framed into a connection
  std::vector<Conn> conns_;
  std::vector<uint32_t> free_conns_;

  // Written by the loop thread only (load + store, no read-modify-write), read by anyone.
  struct Counters {
    std::atomic<uint64_t> queries_udp{0}, queries_tcp{0}, dropped{0}, truncated{0}, malformed{0},
        rcode_noerror{0}, rcode_nxdomain{0}, rcode_servfail{0}, rcode_refused{0}, rcode_other{0},
        udp_send_failed{0}, tcp_accepted{0}, tcp_rejected{0}, tcp_idle_closed{0}, tcp_open{0};
  };
  Counters counters_;
};

}  // namespace mxray::fleet

#endif  // MXRAY_TOOLS_FLEET_DNS_SERVER_H_
