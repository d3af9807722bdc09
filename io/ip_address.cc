// IpAddress parsing and formatting through the C library's inet_pton/inet_ntop.
#include "io/ip_address.h"

#include <arpa/inet.h>

#include <cstring>

namespace mxray::io {

IpAddress IpAddress::V4(const uint8_t bytes[4]) {
  IpAddress a;
  a.family_ = Family::kV4;
  std::memcpy(a.bytes_.data(), bytes, 4);
  return a;
}

IpAddress IpAddress::V6(const uint8_t bytes[16]) {
  IpAddress a;
  a.family_ = Family::kV6;
  std::memcpy(a.bytes_.data(), bytes, 16);
  return a;
}

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  char buf[INET6_ADDRSTRLEN + 1];
  // inet_pton reads a C string: an embedded NUL would cut "1.2.3.4\0junk" down to an address.
  if (text.empty() || text.size() >= sizeof(buf) || text.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  uint8_t bytes[16];
  if (inet_pton(AF_INET, buf, bytes) == 1) return V4(bytes);
  if (inet_pton(AF_INET6, buf, bytes) == 1) return V6(bytes);
  return std::nullopt;
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof(buf));
  return buf;
}

socklen_t IpAddress::ToSockaddr(uint16_t port, sockaddr_storage* out) const {
  std::memset(out, 0, sizeof(*out));
  if (is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(out);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    std::memcpy(&sin->sin_addr, bytes_.data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(out);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  std::memcpy(&sin6->sin6_addr, bytes_.data(), 16);
  return sizeof(sockaddr_in6);
}

}  // namespace mxray::io
