// One endpoint probe on the loop: a non-blocking TCP connect under a deadline, then the
// SmtpSession over the socket with a deadline per step and one for the whole endpoint. Probes
// are pooled by their owner and reused only once the kernel holds none of their buffers.
#ifndef MXRAY_ENGINE_SMTP_PROBE_H_
#define MXRAY_ENGINE_SMTP_PROBE_H_

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "engine/audit_config.h"
#include "engine/port_record.h"
#include "engine/smtp_session.h"
#include "io/event_loop.h"
#include "io/ip_address.h"

namespace mxray::engine {

class SmtpProbe : public io::IoHandler, public io::TimerHandler {
 public:
  class Owner {
   public:
    virtual ~Owner() = default;
    // The probe is finished; its record is final.
    virtual void OnProbeDone(SmtpProbe* probe, PortRecordPtr record) = 0;
    // The probe may be started again.
    virtual void OnProbeReusable(SmtpProbe* probe) = 0;
  };

  SmtpProbe(io::EventLoop* loop, const ProbeConfig* config, Owner* owner)
      : loop_(loop), config_(config), owner_(owner) {}

  void Start(const io::IpAddress& ip, uint16_t logical_port);
  const io::IpAddress& ip() const { return ip_; }
  uint16_t port() const { return logical_port_; }

  void OnIo(io::OpKind op, int32_t res, bool more) override;
  void OnTimer(uint64_t cookie) override;

 private:
  void OnConnect(int32_t res);
  void OnRecv(int32_t res);
  void OnSend(int32_t res);
  void Apply(SmtpSession::Next next);
  void ArmPhaseDeadline(uint32_t ms);
  void Finish();

  io::EventLoop* loop_;
  const ProbeConfig* config_;
  Owner* owner_;

  io::IpAddress ip_;
  uint16_t logical_port_ = 0;
  int fd_ = -1;
  io::SlotId slot_;
  sockaddr_storage addr_{};
  socklen_t addr_len_ = 0;
  uint64_t start_ns_ = 0;
  uint64_t endpoint_deadline_ns_ = 0;
  io::TimerId timer_;
  std::shared_ptr<PortRecord> record_;
  std::optional<SmtpSession> session_;
  std::string_view pending_send_;
  bool recv_in_flight_ = false;
  bool send_in_flight_ = false;
  bool finished_ = false;
  // Replies are small; a longer one just takes more reads. Part of the per-probe memory budget.
  std::array<char, 512> buf_;
};

}  // namespace mxray::engine

#endif  // MXRAY_ENGINE_SMTP_PROBE_H_
