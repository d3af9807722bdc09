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
#include <string_view>

#include "engine/audit_config.h"
#include "engine/port_record.h"
#include "engine/smtp_session.h"
#include "io/event_loop.h"
#include "io/ip_address.h"
#include "tls/client_context.h"

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

  // `tls` is the run's shared client context (null: no TLS, 465 is checked for reachability).
  SmtpProbe(io::EventLoop* loop, const ProbeConfig* config, const tls::ClientContext* tls,
            Owner* owner);
  ~SmtpProbe() override;

  // `server_name` is the MX name that asked for the endpoint first: the TLS SNI.
  // `attempt` counts from 1 (retries after temporary failures).
  void Start(const io::IpAddress& ip, uint16_t logical_port, std::string_view server_name,
             uint8_t attempt = 1);
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
  void StartRecv();
  void Finish();
  // TLS: the handshake and records over the same socket, the session seeing only plaintext.
  void BeginTls();
  void OnTlsBytes(std::string_view ciphertext);
  void FlushTls();
  void RecordHandshake(std::string_view error);
  void HandshakeFailed(std::string_view error, bool timed_out);

  io::EventLoop* loop_;
  const ProbeConfig* config_;
  const tls::ClientContext* tls_context_;
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
  // TLS state, allocated when the handshake starts and freed when the probe finishes: a
  // plaintext probe pays for none of it.
  struct TlsState;
  std::unique_ptr<TlsState> tls_;
  std::string server_name_;
};

}  // namespace mxray::engine

#endif  // MXRAY_ENGINE_SMTP_PROBE_H_
