// Assembly of the fleet (see fleet.h) and the writers of its domain and expectation lists.
#include "tools/fleet/fleet.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace mxray::fleet {
namespace {

constexpr size_t kFlushBytes = 1 << 20;

absl::Status WriteAll(int fd, std::string* buffer) {
  size_t off = 0;
  while (off < buffer->size()) {
    ssize_t r = write(fd, buffer->data() + off, buffer->size() - off);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return absl::ErrnoToStatus(errno, "write");
    off += size_t(r);
  }
  buffer->clear();
  return absl::OkStatus();
}

template <typename AppendLine>
absl::Status WriteLines(const Population& population, int fd, AppendLine append_line) {
  std::string buffer;
  buffer.reserve(kFlushBytes + 4096);
  std::string line;
  for (size_t i = 0; i < population.size(); ++i) {
    append_line(i, &buffer, &line);
    buffer.push_back('\n');
    if (buffer.size() >= kFlushBytes) {
      absl::Status status = WriteAll(fd, &buffer);
      if (!status.ok()) return status;
    }
  }
  return WriteAll(fd, &buffer);
}

template <typename Writer>
absl::Status WriteToPath(const std::string& path, Writer writer) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("open ", path));
  absl::Status status = writer(fd);
  if (close(fd) != 0 && status.ok()) status = absl::ErrnoToStatus(errno, "close " + path);
  return status;
}

}  // namespace

absl::Status WriteDomainList(const Population& population, int fd) {
  return WriteLines(population, fd, [&](size_t i, std::string* buffer, std::string*) {
    population.AppendDomainName(i, buffer);
  });
}

absl::Status WriteExpectations(const Population& population, int fd) {
  return WriteLines(population, fd, [&](size_t i, std::string* buffer, std::string* line) {
    population.WriteExpectation(i, line);
    buffer->append(*line);
  });
}

Fleet::Fleet(Population population)
    : population_(std::move(population)),
      zone_(&population_),
      reverse_v4_zone_(&population_, ReverseDnsZone::Family::kIpv4),
      reverse_v6_zone_(&population_, ReverseDnsZone::Family::kIpv6) {}

std::vector<std::string> Fleet::dnsbl_zones() { return {kDnsblZones.begin(), kDnsblZones.end()}; }

absl::StatusOr<std::unique_ptr<Fleet>> Fleet::Start(const FleetOptions& options) {
  PopulationOptions population_options;
  population_options.seed = options.seed;
  population_options.domain_count = options.domain_count;
  population_options.provider_count = options.provider_count;
  population_options.kind_weights = options.kind_weights;
  population_options.max_exchanges = options.max_exchanges;
  population_options.max_addresses = options.max_addresses;
  population_options.smtp = options.smtp.plan();
  absl::StatusOr<Population> population = Population::Create(population_options);
  if (!population.ok()) return population.status();

  std::unique_ptr<Fleet> fleet(new Fleet(*std::move(population)));
  absl::StatusOr<std::unique_ptr<TestCa>> ca =
      TestCa::Create(options.rsa_ca ? TestKeyType::kRsa2048 : TestKeyType::kEcdsaP256);
  if (!ca.ok()) return ca.status();
  fleet->ca_ = *std::move(ca);
  const char* tmp = getenv("TMPDIR");
  std::string path = absl::StrCat(tmp && *tmp ? tmp : "/tmp", "/mxray-fleet-ca-XXXXXX.pem");
  int fd = mkstemps(path.data(), 4);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("mkstemps ", path));
  close(fd);
  fleet->ca_file_ = path;  // removed by the destructor from here on
  absl::Status written = fleet->ca_->WriteRootPem(path);
  if (!written.ok()) return written;
  if (options.smtp.enabled && options.smtp.tls) {
    // The RSA leaf key is made once per process on first use, which takes tens of
    // milliseconds: better here than in the middle of the first client's handshake.
    absl::StatusOr<IssuedCert> warm = fleet->ca_->Issue({.key = TestKeyType::kRsa2048});
    if (!warm.ok()) return warm.status();
  }
  absl::StatusOr<std::unique_ptr<EpollLoop>> loop = EpollLoop::Create();
  if (!loop.ok()) return loop.status();
  fleet->loop_ = *std::move(loop);

  DnsServerOptions dns_options;
  dns_options.ip = options.dns_ip;
  dns_options.port = options.dns_port;
  absl::StatusOr<std::unique_ptr<DnsServer>> dns = DnsServer::Create(
      fleet->loop_.get(),
      {&fleet->zone_, &fleet->dnsbl_zone_, &fleet->reverse_v4_zone_, &fleet->reverse_v6_zone_},
      dns_options);
  if (!dns.ok()) return dns.status();
  fleet->dns_ = *std::move(dns);

  if (options.smtp.enabled) {
    absl::StatusOr<std::unique_ptr<SmtpServer>> smtp =
        SmtpServer::Create(fleet->loop_.get(), &fleet->population_, options.smtp, fleet->ca_.get());
    if (!smtp.ok()) return smtp.status();
    fleet->smtp_ = *std::move(smtp);
  }

  fleet->loop_->Start();
  return fleet;
}

Fleet::~Fleet() {
  Stop();
  if (!ca_file_.empty()) unlink(ca_file_.c_str());
}

void Fleet::Stop() {
  if (loop_) loop_->Stop();
}

uint16_t Fleet::smtp_port(uint16_t logical_port) const {
  return smtp_ ? smtp_->port(logical_port) : 0;
}

std::array<uint16_t, kSmtpPortCount> Fleet::smtp_ports() const {
  return smtp_ ? smtp_->ports() : std::array<uint16_t, kSmtpPortCount>{};
}

std::string Fleet::smtp_port_map() const { return smtp_ ? smtp_->port_map() : std::string(); }

std::vector<SmtpEndpoint> Fleet::smtp_endpoints() const {
  return smtp_ ? smtp_->endpoints() : std::vector<SmtpEndpoint>{};
}

size_t Fleet::smtp_idle_descriptors() const { return smtp_ ? smtp_->idle_descriptors() : 0; }

SmtpStats Fleet::smtp_stats() const { return smtp_ ? smtp_->stats() : SmtpStats{}; }

void Fleet::ResetSmtpStats() {
  if (smtp_) smtp_->ResetStats();
}

bool Fleet::WaitForSmtpIdle(int64_t timeout_ms) const {
  return smtp_ ? smtp_->WaitIdle(timeout_ms) : true;
}

absl::Status Fleet::WriteDomainList(int fd) const {
  return fleet::WriteDomainList(population_, fd);
}

absl::Status Fleet::WriteDomainList(const std::string& path) const {
  return WriteToPath(path, [&](int fd) { return fleet::WriteDomainList(population_, fd); });
}

absl::Status Fleet::WriteExpectations(int fd) const {
  return fleet::WriteExpectations(population_, fd);
}

absl::Status Fleet::WriteExpectations(const std::string& path) const {
  return WriteToPath(path, [&](int fd) { return fleet::WriteExpectations(population_, fd); });
}

}  // namespace mxray::fleet
