// SmtpProbe: the framework half of a probe (zgrab2's split): sockets, deadlines and errno
// mapping here; the protocol in SmtpSession.
#include "engine/smtp_probe.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace mxray::engine {
namespace {

constexpr uint64_t kMs = 1'000'000;

}  // namespace

void SmtpProbe::Start(const io::IpAddress& ip, uint16_t logical_port) {
  ip_ = ip;
  logical_port_ = logical_port;
  finished_ = false;
  recv_in_flight_ = send_in_flight_ = false;
  pending_send_ = {};
  session_.reset();
  record_ = std::make_shared<PortRecord>();
  record_->port = logical_port;
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
  if (logical_port_ == 465) {
    // Implicit TLS comes with the TLS probe: for now 465 is checked for reachability only.
    record_->outcome = ProbeOutcome::kOk;
    Finish();
    return;
  }
  session_.emplace(&config_->session, record_.get());
  session_->Start();
  ArmPhaseDeadline(config_->banner_timeout_ms);
  recv_in_flight_ = true;
  loop_->Recv(slot_, fd_, buf_.data(), buf_.size());
}

void SmtpProbe::OnRecv(int32_t res) {
  if (finished_) return;
  if (res > 0) {
    Apply(session_->OnData(std::string_view(buf_.data(), size_t(res))));
  } else if (res == 0) {
    Apply(session_->OnPeerClosed(false));
  } else if (res == -ECANCELED) {
    return;  // our own deadline cancelled it; OnTimer already decided
  } else {
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
  }
}

void SmtpProbe::Apply(SmtpSession::Next next) {
  if (next.done) {
    Finish();
    return;
  }
  if (!next.send.empty()) {
    // The session writes only after a complete reply, so nothing is still being sent.
    pending_send_ = next.send;
    send_in_flight_ = true;
    loop_->Send(slot_, fd_, pending_send_.data(), pending_send_.size());
    ArmPhaseDeadline(session_->phase() == SmtpSession::Phase::kQuit ? config_->quit_timeout_ms
                                                                    : config_->command_timeout_ms);
  }
  if (!recv_in_flight_) {
    recv_in_flight_ = true;
    loop_->Recv(slot_, fd_, buf_.data(), buf_.size());
  }
}

void SmtpProbe::ArmPhaseDeadline(uint32_t ms) {
  loop_->CancelTimer(timer_);
  uint64_t deadline = std::min(loop_->now_ns() + uint64_t(ms) * kMs, endpoint_deadline_ns_);
  timer_ = loop_->AddTimer(deadline, this, 0);
}

void SmtpProbe::OnTimer(uint64_t) {
  timer_ = io::TimerId{};
  if (finished_) return;
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
  loop_->Release(slot_, [this] { owner_->OnProbeReusable(this); });
  owner_->OnProbeDone(this, std::move(result));
}

}  // namespace mxray::engine
