// The fleet's SMTP servers: one socket per (address, logical port) of the population's SMTP plan,
// every address on the same three port numbers, all served non-blocking on the fleet's EpollLoop
// thread (no thread per connection). Each accepted connection plays the behaviour of the
// address and port the client dialled (smtp_plan.h): ordinary ESMTP flavours and the hostile
// cases of RELIABILITY.md, with real TLS (STARTTLS on 25 and 587, implicit on 465) and its
// hostile cases. Delays (wide-area latency, slow greetings, the drip) are timers on the loop,
// never sleeps. Every connection's buffers are bounded, and the server counts connections per
// endpoint, concurrency per address, handshakes and the SNI it was sent, for the tests.
//
// TLS runs over memory BIOs: the server moves ciphertext between them and the non-blocking
// socket itself (send with MSG_NOSIGNAL, so a client that leaves mid-record never raises
// SIGPIPE in a process that may be mxray's own), and the SMTP logic above sees plaintext either
// way. Certificates are issued by the fleet's TestCa on the first TLS connection to an address
// (one per address and certificate kind), each with its own SSL_CTX, shared by its ports.
#ifndef MXRAY_TOOLS_FLEET_SMTP_SERVER_H_
#define MXRAY_TOOLS_FLEET_SMTP_SERVER_H_

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/fleet/epoll_loop.h"
#include "tools/fleet/population.h"
#include "tools/fleet/smtp_plan.h"
#include "tools/fleet/test_ca.h"

namespace mxray::fleet {

struct SmtpOptions {
  bool enabled = true;
  // The port number dialled for logical 25, 465 and 587, the same on every address. When one is
  // taken on some address, free numbers are picked instead unless `exact_ports`; 0 always picks.
  std::array<uint16_t, kSmtpPortCount> ports = {10025, 10465, 10587};
  bool exact_ports = false;
  // Wide-area mode: every reply (greeting, EHLO, QUIT...) goes out this much after its cause.
  uint32_t latency_ms = 0;
  // The slow greeting (within mxray's banner deadline) and the stalled one (beyond it). The
  // defaults suit mxray's default 30 s banner deadline; tests with a short one (say 500 ms) keep
  // 100 ms and set the stall to a few seconds.
  uint32_t greeting_delay_ms = 100;
  uint32_t greeting_stall_ms = 60'000;
  // The drip's pace: one byte of its endless greeting per interval.
  uint32_t drip_interval_ms = 1000;
  // The reset comes this long after the partial greeting, so that a client busy completing its
  // connect sees the connection up, then the data, then the RST (an RST that wins the race with
  // connect() fails the connect itself instead).
  uint32_t reset_delay_ms = 100;
  // The plan (population.h, smtp_plan.h): which addresses get sockets. See fleet.h for the
  // descriptor budget.
  size_t provider_hosts = 768;
  size_t own_addresses = 250;
  size_t hosts_per_kind = 4;
  // TLS as SmtpPlan::tls says: STARTTLS and implicit TLS on 465 (true), or a plaintext-only
  // fleet (false) where no EHLO offers STARTTLS and 465 speaks plaintext SMTP.
  bool tls = true;
  // Postfix and Microsoft servers present ECDSA P-256 leaves instead of RSA-2048 ones, like the
  // other ordinary flavours (SmtpPlan::ecdsa_leaves): for TLS throughput benchmarks.
  bool ecdsa_leaves = false;
  // The retry case (smtp_421_then_ok): its endpoints greet this many connections each with 421
  // before they serve (SmtpPlan::greeting_421_connections). Counted per (address, port) with
  // the connection counters, so ResetStats() starts it again.
  uint32_t greeting_421_connections = 2;
  // Limits of the server itself.
  size_t max_connections = 8192;              // open at once; more are accepted and closed
  uint32_t connection_lifetime_ms = 600'000;  // any connection is closed after this long
  uint64_t stream_bytes_max = 16 << 20;       // an endless reply ends (close) after this much

  SmtpPlan plan() const {
    return {.enabled = enabled,
            .provider_hosts = provider_hosts,
            .own_addresses = own_addresses,
            .hosts_per_kind = hosts_per_kind,
            .tls = tls,
            .ecdsa_leaves = ecdsa_leaves,
            .greeting_421_connections = greeting_421_connections};
  }
};

// One SMTP socket of the fleet.
struct SmtpEndpoint {
  std::string ip;         // "127.1.0.1", "::1"
  uint16_t logical_port;  // 25, 465, 587
  uint16_t port;          // the number dialled
  SmtpBehaviour behaviour;
};

// A snapshot of the SMTP counters (Fleet::smtp_stats()). Ports are logical (25, 465, 587); the
// numbers dialled are accepted too.
struct SmtpStats {
  // Connections accepted on (ip, port) since the start or the last reset.
  uint64_t ConnectionsTo(std::string_view ip, uint16_t port) const;
  // The most connections ever open at once to `ip` (all ports together), and the largest such
  // figure over every address. Taken each time a connection's client speaks for the first time
  // and is still connected: the server then counts the connections to that address whose client
  // has not closed (the kernel's view, not what the loop has yet to read), itself included; 1 as
  // soon as one is accepted. So a client that closes a connection and opens the next at once is
  // never counted twice, even when its FIN trails the next SYN by microseconds (io_uring's deferred
  // close does that), and one that holds two while speaking on one is. Connections that never speak
  // (465 reachability checks, waits on a silent greeting) count only when another one speaks.
  uint64_t MaxConcurrentTo(std::string_view ip) const;
  uint64_t MaxConcurrentPerAddress() const;
  uint64_t TotalConnections() const { return total_accepted; }
  // The server name (SNI) the last handshake on (ip, port) that sent one carried; "" if none.
  std::string SniAt(std::string_view ip, uint16_t port) const;

  uint64_t total_accepted = 0;
  uint64_t open = 0;      // connections open now
  uint64_t rejected = 0;  // over max_connections: accepted and closed at once
  uint64_t dropped = 0;   // the client sent more than 4 KiB without a newline
  uint64_t lifetime_closed = 0;
  std::array<uint16_t, kSmtpPortCount> ports = {};                // dialled numbers of 25, 465, 587
  std::map<std::pair<std::string, uint16_t>, uint64_t> accepted;  // non-zero entries only
  std::map<std::string, uint64_t> max_concurrent;                 // non-zero entries only
  // Per (ip, logical port), the SNI of the last handshake that sent one; such endpoints only.
  std::map<std::pair<std::string, uint16_t>, std::string> sni;
  uint64_t tls_handshakes = 0;  // server handshakes completed (STARTTLS and implicit)

 private:
  uint16_t Logical(uint16_t port) const;  // a dialled number to its logical port
};

class SmtpServer : public EpollLoop::Handler {
 public:
  // Binds every socket of `population`'s SMTP plan and registers them on `loop`; serving starts
  // when the loop runs. `population` and `ca` (which issues the servers' certificates; may be
  // null only without TLS) must outlive the server; the loop must be stopped before the server
  // is destroyed.
  static absl::StatusOr<std::unique_ptr<SmtpServer>> Create(EpollLoop* loop,
                                                            const Population* population,
                                                            const SmtpOptions& options, TestCa* ca);
  ~SmtpServer() override;

  // The number dialled for a logical port (25, 465, 587); 0 for another.
  uint16_t port(uint16_t logical_port) const;
  const std::array<uint16_t, kSmtpPortCount>& ports() const { return ports_; }
  // "25=10025,465=10465,587=10587": what mxray's --port-map takes.
  std::string port_map() const;
  // Descriptors the server holds while idle: sockets plus the filtered ports' own connections.
  size_t idle_descriptors() const { return sockets_.size() + fillers_; }
  std::vector<SmtpEndpoint> endpoints() const;

  // Safe from any thread.
  SmtpStats stats() const;
  void ResetStats();
  // Blocks until every connection made before the call (accepted or still in the kernel's
  // queue) has been accepted and closed (true), or `timeout_ms` passed (false).
  bool WaitIdle(int64_t timeout_ms) const;

  void OnEvents(uint64_t tag, uint32_t events) override;
  void OnTick(int64_t now_ms) override;

 private:
  static constexpr size_t kLineBytesMax = 4096;        // a longer line drops the connection
  static constexpr size_t kInBytesMax = 8192;          // unprocessed input; past it reading pauses
  static constexpr size_t kOutHighWater = 65536;       // unsent output; past it reading pauses
  static constexpr size_t kStreamBurstBytes = 65536;   // endless output per event, for fairness
  static constexpr size_t kTlsRecordBytes = 16384;     // plaintext per SSL_write: one record
  static constexpr size_t kHelloBytesMax = 16384 + 5;  // the longest ClientHello record we wait for
  static constexpr uint32_t kNil = UINT32_MAX;

  enum TagKind : uint64_t { kTagSocket = 0, kTagConn = 1, kTagTimer = 2, kTagSync = 3 };

  struct Address {
    std::string ip;
    std::string name;  // in greetings and EHLO replies
    sockaddr_storage addr{};
    socklen_t addr_len = 0;
    uint32_t open = 0;  // loop thread
    uint32_t first_conn = kNil;
  };
  struct Socket {
    int fd = -1;
    uint32_t address = 0;
    uint8_t port_index = 0;
    SmtpBehaviour behaviour = SmtpBehaviour::kNone;
    int filler_fd = -1;   // kFiltered: the fleet's own connection that fills the accept queue
    bool paused = false;  // out of descriptors: re-armed on the next tick
    SSL_CTX* tls_ctx = nullptr;  // made on first use; owned by contexts_
  };
  // What to do once a reply's bytes are queued.
  enum class After : uint8_t {
    kNothing,
    kGreeted,             // commands are read from now on
    kClose,               // once sent
    kAbort,               // RST reset_delay_ms after the bytes
    kStreamLine,          // then bytes without LF until the client leaves
    kStreamContinuation,  // then "250-" lines until the client leaves
    kStartTls,            // then TLS, once the bytes have gone out (the 220 to STARTTLS)
  };
  enum class Stream : uint8_t { kNone, kLine, kContinuation };
  enum class Tls : uint8_t {
    kOff,        // plaintext
    kHandshake,  // the server side of a handshake is running
    kOn,         // commands and replies go through TLS
    kHello,      // TlsAnswer::kGarbage: reading the ClientHello, to answer it with garbage
    kDiscard,    // reads and discards everything, never writes again (kStall, and after garbage)
  };
  struct Conn {
    int fd = -1;
    uint16_t generation = 0;
    uint32_t socket = 0;
    uint32_t events = 0;
    SmtpBehaviour behaviour = SmtpBehaviour::kNone;
    bool greeted = false;  // commands are read only after the greeting
    bool close_after_flush = false;
    bool mute = false;  // kSilentAfterEhlo once EHLO came: input is read and discarded
    Stream stream = Stream::kNone;
    uint64_t streamed = 0;  // bytes of the endless reply (or the drip) sent so far
    std::string in;         // unprocessed input
    std::string out;        // unsent output, from out_off
    size_t out_off = 0;
    std::string delayed;  // a reply waiting for `due_ms`
    After delayed_after = After::kNothing;
    int64_t due_ms = -1;  // the next timer of this connection: delayed reply or drip byte
    int64_t opened_ms = 0;
    uint32_t prev = kNil, next = kNil;  // the address's list of open connections
    bool spoke = false;                 // the client sent something: concurrency was taken then
    std::string peer;                   // the client's address, for Exim and Microsoft EHLO lines
    Tls tls = Tls::kOff;
    bool tls_pending = false;  // the 220 to STARTTLS is queued: TLS starts once it has gone out
    uint32_t input_epoch = 0;  // bumped when TLS starts and unread plaintext is thrown away
    bssl::UniquePtr<SSL> ssl;  // over memory BIOs; freed when the connection closes
    std::string wire;          // ciphertext not yet sent, from wire_off (at most one record)
    size_t wire_off = 0;
    uint32_t hello_bytes = 0;  // kHello: bytes of the ClientHello read so far
    uint64_t ordinal = 0;      // its number among its endpoint's connections (1: the first)
  };
  struct Timer {
    int64_t due_ms;
    uint32_t slot;
    uint16_t generation;
    bool operator>(const Timer& o) const { return due_ms > o.due_ms; }
  };
  struct Counters {
    std::atomic<uint64_t> total{0}, open{0}, rejected{0}, dropped{0}, lifetime_closed{0},
        handshakes{0};
    // Connection descriptors still open: counted down after close(), for WaitIdle().
    std::atomic<uint64_t> descriptors{0};
  };

  SmtpServer(EpollLoop* loop, const Population* population, const SmtpOptions& options, TestCa* ca);
  absl::Status Plan();
  absl::Status BindAll();
  absl::Status BindPort(size_t port_index, uint16_t port, bool* in_use);
  absl::Status FillQueue(Socket& s);
  void CloseSockets(size_t port_index);

  // Accepts up to kAcceptBurst connections, or every queued one when `drain`.
  void OnAccept(uint32_t socket, bool drain = false);
  // WaitIdle()'s request, on the loop thread: take in every queued connection, let the ones
  // whose client left notice it, then report.
  void OnSync();
  void OnConn(uint32_t slot, uint32_t events);
  void OnTimers();
  void Start(uint32_t slot);
  // The greeting (and whatever the behaviour does instead of one).
  void Greet(uint32_t slot);
  // Reads what the socket holds (through TLS when it is on); false when the peer is gone or
  // broke a limit (closed then).
  bool ReadInput(uint32_t slot);
  // kHello and kDiscard: raw bytes, never commands.
  bool ReadRaw(uint32_t slot);
  // TLS. 465 with implicit TLS (TLS on, not kPlain465).
  bool ImplicitTls(uint32_t socket) const;
  // The socket's server context, issued on first use; null if that failed.
  SSL_CTX* ContextFor(uint32_t socket);
  // After STARTTLS's 220 (or at accept on 465): what the behaviour's TlsAnswer does next.
  void StartTls(uint32_t slot);
  // Runs the handshake as far as the input allows; false when the connection was closed.
  bool DriveHandshake(uint32_t slot);
  // Moves the socket's bytes into the SSL's input; kData, kAgain (nothing more now) or kEnd.
  enum class Io : uint8_t { kData, kAgain, kEnd };
  Io RecvTls(uint32_t slot);
  // The SSL's pending output into `wire`, then as much of `wire` as the socket takes; false
  // when the peer is gone.
  bool SendWire(uint32_t slot);
  // Sends from `data` (plaintext when TLS is on): bytes taken, 0 when the socket is full, -1
  // when the peer is gone.
  ssize_t SendSome(uint32_t slot, const char* data, size_t len);
  // The client's first bytes: concurrency is taken then.
  void NoteSpoke(uint32_t slot);
  void ProcessInput(uint32_t slot);
  void Command(uint32_t slot, std::string_view line);
  void Ehlo(uint32_t slot, std::string_view argument);
  void StartTlsCommand(uint32_t slot);
  // Queues `text` after the latency plus `extra_delay_ms`, then does `after`.
  void Reply(uint32_t slot, std::string_view text, After after, int64_t extra_delay_ms = 0);
  void Emit(uint32_t slot, std::string_view text, After after);
  // Sends what is queued (and the endless reply); false when the connection was closed.
  bool Flush(uint32_t slot);
  bool PumpStream(uint32_t slot);
  void UpdateInterest(uint32_t slot);
  void Arm(uint32_t slot, int64_t due_ms);
  void ArmTimerFd();
  void Close(uint32_t slot, bool abort = false);
  // Closes the connections to `address` whose client already left (the kernel knows before
  // the loop reads it).
  void Reap(uint32_t address);
  // The connections to `slot`'s address whose client is still there, `slot` included, into the
  // address's peak (SmtpStats::MaxConcurrentTo).
  void CountConcurrency(uint32_t slot);
  uint64_t ConnTag(uint32_t slot) const;

  EpollLoop* loop_;
  const Population* population_;
  SmtpOptions options_;
  TestCa* ca_;
  uint16_t handler_id_ = 0;
  int timer_fd_ = -1;
  int sync_fd_ = -1;  // eventfd: WaitIdle() asks the loop for a sync pass
  int64_t timer_armed_ms_ = -1;
  std::array<uint16_t, kSmtpPortCount> ports_ = {};
  std::vector<Address> addresses_;
  std::vector<Socket> sockets_;
  size_t fillers_ = 0;
  bool any_paused_ = false;
  std::vector<Conn> conns_;
  std::vector<uint32_t> free_conns_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
  // Endpoint lookups for stats(): built before serving, read-only afterwards.
  std::map<std::pair<std::string, uint16_t>, uint32_t> socket_index_;  // (ip, logical) -> socket
  std::map<std::string, uint32_t> address_index_;
  // Server contexts per (address, certificate kind, RSA, min and max version); loop thread only.
  std::map<std::tuple<uint32_t, uint8_t, bool, uint16_t, uint16_t>, bssl::UniquePtr<SSL_CTX>>
      contexts_;

  // Written by the loop thread (ResetStats() aside), read by anyone.
  std::unique_ptr<std::atomic<uint64_t>[]> accepted_;  // per socket
  std::unique_ptr<std::atomic<uint64_t>[]> max_open_;  // per address
  Counters counters_;
  mutable std::mutex sni_mu_;
  std::vector<std::string> sni_;  // per socket, the last SNI received
  mutable std::mutex idle_mu_;
  mutable std::condition_variable idle_cv_;
  mutable std::atomic<int> idle_waiters_{0};
  mutable std::atomic<uint64_t> sync_requested_{0};
  std::atomic<uint64_t> sync_done_{0};
};

}  // namespace mxray::fleet

#endif  // MXRAY_TOOLS_FLEET_SMTP_SERVER_H_
