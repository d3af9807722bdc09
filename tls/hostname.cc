// RFC 6125 matching: strict on wildcards, because a wrong "match" hides a real mismatch.
#include "tls/hostname.h"

#include <algorithm>
#include <cstddef>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace mxray::tls {
namespace {

std::string_view TrimDot(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return absl::EqualsIgnoreCase(absl::string_view(a.data(), a.size()),
                                absl::string_view(b.data(), b.size()));
}

bool ValidLabels(std::string_view s) {
  if (s.empty()) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    size_t end = dot == std::string_view::npos ? s.size() : dot;
    if (end == start) return false;  // empty label
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

}  // namespace

bool MatchesDnsIdentifier(std::string_view reference, std::string_view presented) {
  reference = TrimDot(reference);
  presented = TrimDot(presented);
  if (!ValidLabels(reference) || !ValidLabels(presented)) return false;
  if (!presented.starts_with("*.")) {
    // No other '*' is a wildcard; a literal one can only match a literal one.
    return EqualsIgnoreCase(reference, presented);
  }
  std::string_view parent = presented.substr(2);
  if (parent.find('*') != std::string_view::npos) return false;
  if (std::count(parent.begin(), parent.end(), '.') < 1) return false;  // "*.test"
  size_t dot = reference.find('.');
  if (dot == std::string_view::npos) return false;
  std::string_view first = reference.substr(0, dot);
  if (first.size() >= 4 && EqualsIgnoreCase(first.substr(0, 4), "xn--")) return false;
  return EqualsIgnoreCase(reference.substr(dot + 1), parent);
}

bool MatchesHostname(std::string_view reference, const CertificateFacts& cert) {
  if (!cert.san_dns.empty()) {
    return std::any_of(cert.san_dns.begin(), cert.san_dns.end(), [&](const std::string& san) {
      return MatchesDnsIdentifier(reference, san);
    });
  }
  return !cert.common_name.empty() && MatchesDnsIdentifier(reference, cert.common_name);
}

}  // namespace mxray::tls
