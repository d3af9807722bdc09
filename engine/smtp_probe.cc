// SmtpProbe: the framework half of a probe (zgrab2's split): sockets, deadlines and errno
// mapping here; the protocol in SmtpSession.
#include "engine/smtp_probe.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "io/check.h"
#include "tls/tls_client.h"

namespace mxray::engine {
namespace {

constexpr uint64_t kMs = 1'000'000;
// What an implicit-TLS port sent during the handshake is kept up to this much, to tell a
// plaintext SMTP greeting from TLS garbage.
constexpr size_t kEarlyBytesKept = 512;
// Handshake flights carry certificate chains: read them in bigger pieces than SMTP replies.
constexpr size_t kTlsReadBuffer = 4096;

}  // namespace

struct SmtpProbe::TlsState {
  std::unique_ptr<tls::TlsClient> client;
  std::unique_ptr<char[]> buf{new char[kTlsReadBuffer]};
  std::string sending;    // ciphertext the kernel may be reading
  std::string queued;     // ciphertext produced while a send was in flight
  std::string plaintext;  // decrypted, handed to the session
  std::string early;      // the first bytes of an implicit-TLS port
  uint64_t start_ns = 0;
};

SmtpProbe::SmtpProbe(io::EventLoop* loop, const ProbeConfig* config, const tls::ClientContext* tls,
                     Owner* owner)
    : loop_(loop), config_(config), tls_context_(tls), owner_(owner) {}

SmtpProbe::~SmtpProbe() = default;

void SmtpProbe::Start(const io::IpAddress& ip, uint16_t logical_port, std::string_view server_name,
                      uint8_t attempt) {
  ip_ = ip;
  logical_port_ = logical_port;
  server_name_.assign(server_name);
  tls_.reset();
  finished_ = false;
  recv_in_flight_ = send_in_flight_ = false;
  pending_send_ = {};
  session_.reset();
  record_ = std::make_shared<PortRecord>();
  record_->port = logical_port;
  record_->attempts = attempt;
  start_ns_ = loop_->now_ns();
  endpoint_deadline_ns_ = start_ns_ + uint64_t(config_->endpoint_timeout_ms) * kMs;
  slot_ = loop_->Register(this);

  fd_ = socket(ip.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    record_->state = PortState::kError;
    record_->outcome = ProbeOutcome::kLocalError;
    record_->error = strerror(errno);
    Finish();
    return;
  }
  // The conversation is a handful of small writes each waiting for a reply: Nagle would only
  // add delay. A short linger-free close keeps TIME_WAIT on the server side's problem.
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  addr_len_ = ip.ToSockaddr(config_->DialPort(logical_port), &addr_);
  loop_->Connect(slot_, fd_, reinterpret_cast<sockaddr*>(&addr_), addr_len_,
                 uint64_t(config_->connect_timeout_ms) * kMs);
}

void SmtpProbe::OnIo(io::OpKind op, int32_t res, bool more) {
  switch (op) {
    case io::OpKind::kConnect:
      OnConnect(res);
      break;
    case io::OpKind::kRecv:
      recv_in_flight_ = false;
      OnRecv(res);
      break;
    case io::OpKind::kSend:
      send_in_flight_ = false;
      OnSend(res);
      break;
    default:
      break;
  }
}

void SmtpProbe::OnConnect(int32_t res) {
  if (finished_) return;
  if (res == -ECONNRESET) {
    // Accepted, then reset before our connect completion was reaped: the server reset an open
    // connection, as it would have mid-conversation.
    record_->state = PortState::kOpen;
    record_->connect_ms = uint32_t((loop_->now_ns() - start_ns_) / kMs);
    record_->outcome = ProbeOutcome::kConnectionReset;
    Finish();
    return;
  }
  if (res != 0) {
    switch (-res) {
      case ECONNREFUSED:
        record_->state = PortState::kClosed;
        record_->outcome = ProbeOutcome::kConnectRefused;
        break;
      case ETIMEDOUT:
        record_->state = PortState::kFiltered;
        record_->outcome = ProbeOutcome::kConnectTimeout;
        break;
      case ENETUNREACH:
      case EHOSTUNREACH:
      case ENETDOWN:
      case EHOSTDOWN:
        record_->state = PortState::kUnreachable;
        record_->outcome = ProbeOutcome::kUnreachable;
        break;
      default:
        record_->state = PortState::kError;
        record_->outcome = ProbeOutcome::kLocalError;
        break;
    }
    record_->error = strerror(-res);
    Finish();
    return;
  }
  record_->state = PortState::kOpen;
  record_->connect_ms = uint32_t((loop_->now_ns() - start_ns_) / kMs);
  session_.emplace(&config_->session, record_.get());
  if (config_->ImplicitTls(logical_port_)) {
    if (tls_context_ == nullptr) {
      // Without TLS the port is checked for reachability only.
      record_->outcome = ProbeOutcome::kOk;
      Finish();
      return;
    }
    Apply(session_->StartImplicitTls());
    return;
  }
  session_->Start();
  ArmPhaseDeadline(config_->banner_timeout_ms);
  StartRecv();
}

void SmtpProbe::StartRecv() {
  if (recv_in_flight_) return;
  recv_in_flight_ = true;
  if (tls_) {
    loop_->Recv(slot_, fd_, tls_->buf.get(), kTlsReadBuffer);
  } else {
    loop_->Recv(slot_, fd_, buf_.data(), buf_.size());
  }
}

void SmtpProbe::OnRecv(int32_t res) {
  if (finished_) return;
  if (res > 0) {
    if (tls_) {
      OnTlsBytes(std::string_view(tls_->buf.get(), size_t(res)));
    } else {
      Apply(session_->OnData(std::string_view(buf_.data(), size_t(res))));
    }
  } else if (res == 0) {
    if (tls_ && tls_->client && !tls_->client->handshake_done()) {
      HandshakeFailed("connection closed during the handshake", false);
      return;
    }
    Apply(session_->OnPeerClosed(false));
  } else if (res == -ECANCELED) {
    return;  // our own deadline cancelled it; OnTimer already decided
  } else {
    if (tls_ && tls_->client && !tls_->client->handshake_done()) {
      HandshakeFailed("connection reset during the handshake", false);
      return;
    }
    if (res != -ECONNRESET) record_->error = strerror(-res);
    Apply(session_->OnPeerClosed(true));
  }
}

void SmtpProbe::OnSend(int32_t res) {
  if (finished_) return;
  if (res < 0) {
    if (res != -ECANCELED) Apply(session_->OnPeerClosed(true));
    return;
  }
  pending_send_.remove_prefix(std::min(pending_send_.size(), size_t(res)));
  if (!pending_send_.empty()) {
    send_in_flight_ = true;
    loop_->Send(slot_, fd_, pending_send_.data(), pending_send_.size());
  } else if (tls_) {
    FlushTls();  // what the handshake or the session produced meanwhile
  }
}

void SmtpProbe::Apply(SmtpSession::Next next) {
  if (next.done) {
    Finish();
    return;
  }
  if (next.start_tls) {
    BeginTls();
    return;
  }
  if (!next.send.empty()) {
    if (tls_) {
      MXRAY_CHECK(tls_->client != nullptr);  // nothing is sent after QUIT
      if (!tls_->client->Write(next.send)) {
        record_->error = std::string(tls_->client->error());
        Apply(session_->OnPeerClosed(true));
        return;
      }
      FlushTls();
      if (session_->phase() == SmtpSession::Phase::kQuit) {
        // QUIT is encrypted and on its way: nothing more is read from TLS, so the SSL (the
        // probe's largest allocation) goes now rather than after the server's 221.
        tls_->client.reset();
      }
    } else {
      // The session writes only after a complete reply, so nothing is still being sent.
      pending_send_ = next.send;
      send_in_flight_ = true;
      loop_->Send(slot_, fd_, pending_send_.data(), pending_send_.size());
    }
    ArmPhaseDeadline(session_->phase() == SmtpSession::Phase::kQuit ? config_->quit_timeout_ms
                                                                    : config_->command_timeout_ms);
  }
  StartRecv();
}

void SmtpProbe::BeginTls() {
  // TLS starts right after connect or from a completed read whose bytes the session spent (or
  // dropped, for STARTTLS injection): no read is in flight into the plaintext buffer.
  MXRAY_CHECK(!recv_in_flight_);
  tls_ = std::make_unique<TlsState>();
  tls_->client = tls::TlsClient::Create(tls_context_, server_name_);
  tls_->start_ns = loop_->now_ns();
  if (tls_->client == nullptr) {
    HandshakeFailed("cannot create a TLS connection", false);
    return;
  }
  ArmPhaseDeadline(config_->tls_timeout_ms);
  tls::TlsClient::Step step = tls_->client->Handshake();  // the ClientHello
  FlushTls();
  if (step == tls::TlsClient::Step::kFailed) {
    HandshakeFailed(tls_->client->error(), false);
    return;
  }
  StartRecv();
}

void SmtpProbe::FlushTls() {
  if (tls_->client) tls_->client->TakeOutput(&tls_->queued);
  if (send_in_flight_ || tls_->queued.empty()) return;
  tls_->sending.swap(tls_->queued);
  tls_->queued.clear();
  pending_send_ = tls_->sending;
  send_in_flight_ = true;
  loop_->Send(slot_, fd_, pending_send_.data(), pending_send_.size());
}

void SmtpProbe::OnTlsBytes(std::string_view ciphertext) {
  TlsState& t = *tls_;
  if (t.client == nullptr) {
    // The answer to QUIT, still encrypted: whatever it says, the conversation is over.
    Apply(session_->OnPeerClosed(false));
    return;
  }
  t.client->Feed(ciphertext);
  if (!t.client->handshake_done()) {
    if (t.early.size() < kEarlyBytesKept) {
      t.early.append(ciphertext.substr(0, kEarlyBytesKept - t.early.size()));
    }
    tls::TlsClient::Step step = t.client->Handshake();
    FlushTls();
    if (step == tls::TlsClient::Step::kFailed) {
      HandshakeFailed(t.client->error(), false);
      return;
    }
    if (step != tls::TlsClient::Step::kDone) {
      StartRecv();
      return;
    }
    RecordHandshake({});
    t.early.clear();
    t.early.shrink_to_fit();
    SmtpSession::Next next = session_->OnTlsEstablished();
    if (next.send.empty() && !next.done) ArmPhaseDeadline(config_->banner_timeout_ms);
    Apply(next);
    if (finished_) return;
  }
  // Records after the handshake: whatever decrypts goes to the session.
  t.plaintext.clear();
  tls::TlsClient::Step step = t.client->Read(&t.plaintext);
  // Static text, so it outlives the client, which the session's QUIT may free below.
  std::string_view read_error = t.client->error();
  if (!t.plaintext.empty()) {
    Apply(session_->OnData(t.plaintext));
    if (finished_) return;
  }
  if (step == tls::TlsClient::Step::kClosed) {
    Apply(session_->OnPeerClosed(false));
  } else if (step == tls::TlsClient::Step::kFailed) {
    record_->error = std::string(read_error);
    Apply(session_->OnPeerClosed(true));
  } else {
    StartRecv();
  }
}

void SmtpProbe::RecordHandshake(std::string_view error) {
  auto facts = std::make_unique<tls::TlsFacts>();
  if (error.empty()) {
    *facts = tls_->client->Facts(static_cast<int64_t>(time(nullptr)), config_->tls_chain);
  } else {
    facts->sni = server_name_;
    facts->error.assign(error);
  }
  facts->handshake_ms = uint32_t((loop_->now_ns() - tls_->start_ns) / kMs);
  record_->tls = std::move(facts);
}

void SmtpProbe::HandshakeFailed(std::string_view error, bool timed_out) {
  RecordHandshake(error);
  std::string_view early = tls_ ? std::string_view(tls_->early) : std::string_view();
  Apply(session_->OnTlsFailed(early, timed_out));
}

void SmtpProbe::ArmPhaseDeadline(uint32_t ms) {
  loop_->CancelTimer(timer_);
  uint64_t deadline = std::min(loop_->now_ns() + uint64_t(ms) * kMs, endpoint_deadline_ns_);
  timer_ = loop_->AddTimer(deadline, this, 0);
}

void SmtpProbe::OnTimer(uint64_t) {
  timer_ = io::TimerId{};
  if (finished_) return;
  if (tls_ && tls_->client && !tls_->client->handshake_done()) {
    HandshakeFailed("timeout", true);
    return;
  }
  Apply(session_->OnTimeout());
}

void SmtpProbe::Finish() {
  finished_ = true;
  loop_->CancelTimer(timer_);
  record_->elapsed_ms = uint32_t((loop_->now_ns() - start_ns_) / kMs);
  if (fd_ >= 0) {
    if (recv_in_flight_) loop_->Cancel(slot_, io::OpKind::kRecv);
    if (send_in_flight_) loop_->Cancel(slot_, io::OpKind::kSend);
    loop_->Close(slot_, fd_);
    fd_ = -1;
  }
  // The session (and the command bytes a cancelled send may still point at) lives until the
  // probe is started again, which the loop allows only once the kernel is done with it.
  PortRecordPtr result = std::move(record_);
  // Nothing TLS-sized outlives the conversation: the facts are in the record.
  if (tls_) tls_->client.reset();
  loop_->Release(slot_, [this] {
    tls_.reset();  // the kernel no longer reads or writes its buffers
    owner_->OnProbeReusable(this);
  });
  owner_->OnProbeDone(this, std::move(result));
}

}  // namespace mxray::engine
