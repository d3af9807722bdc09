// Parsers for --ports and --port-map, and the logical-to-dialed port lookup.
#include "engine/port_map.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace mxray::engine {
namespace {

absl::string_view AbslView(std::string_view s) { return absl::string_view(s.data(), s.size()); }

std::string_view StripAscii(std::string_view s) {
  const absl::string_view stripped = absl::StripAsciiWhitespace(AbslView(s));
  return std::string_view(stripped.data(), stripped.size());
}

// Quotes untrusted text for an error message: C escapes, and long input cut short.
std::string Quote(std::string_view s) {
  constexpr size_t kMaxQuoted = 40;
  const bool cut = s.size() > kMaxQuoted;
  if (cut) s = s.substr(0, kMaxQuoted);
  return absl::StrCat("\"", absl::CHexEscape(AbslView(s)), cut ? "...\"" : "\"");
}

// Splits on ',' keeping empty pieces (so "25,,587" and "25," can be rejected).
std::vector<std::string_view> SplitCommas(std::string_view s) {
  std::vector<std::string_view> items;
  size_t start = 0;
  while (true) {
    const size_t comma = s.find(',', start);
    if (comma == std::string_view::npos) {
      items.push_back(s.substr(start));
      return items;
    }
    items.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
}

// A TCP port: 1-5 decimal digits, 1..65535. `what` names the value in errors.
absl::StatusOr<uint16_t> ParsePort(std::string_view text, std::string_view what) {
  const std::string_view t = StripAscii(text);
  if (t.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("missing ", AbslView(what)));
  }
  if (!std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return absl::InvalidArgumentError(
        absl::StrCat(AbslView(what), " ", Quote(t), " is not a decimal number"));
  }
  uint32_t value = 0;
  for (char c : t) {
    value = value * 10 + static_cast<uint32_t>(c - '0');
    if (value > 65535) break;  // stops before the accumulator can overflow
  }
  if (value == 0 || value > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(AbslView(what), " ", Quote(t), " is out of range (1-65535)"));
  }
  return static_cast<uint16_t>(value);
}

}  // namespace

absl::StatusOr<std::vector<uint16_t>> ParsePortList(std::string_view spec) {
  if (StripAscii(spec).empty()) return absl::InvalidArgumentError("empty port list");
  std::vector<uint16_t> ports;
  for (std::string_view item : SplitCommas(spec)) {
    if (StripAscii(item).empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("empty item in port list ", Quote(spec), " (expected e.g. 25,465,587)"));
    }
    absl::StatusOr<uint16_t> port = ParsePort(item, "port");
    if (!port.ok()) return port.status();
    if (std::find(ports.begin(), ports.end(), *port) == ports.end()) ports.push_back(*port);
  }
  return ports;
}

absl::Status PortMap::Add(uint16_t logical, uint16_t dial) {
  if (logical == 0 || dial == 0) {
    return absl::InvalidArgumentError("port 0 cannot be mapped");
  }
  for (const auto& [from, to] : entries_) {
    if (from == logical) {
      return absl::InvalidArgumentError(
          absl::StrCat("logical port ", logical, " is mapped twice (to ", to, " and ", dial, ")"));
    }
  }
  entries_.emplace_back(logical, dial);
  return absl::OkStatus();
}

uint16_t PortMap::Dial(uint16_t logical) const {
  for (const auto& [from, to] : entries_) {
    if (from == logical) return to;
  }
  return logical;
}

std::string PortMap::ToString() const {
  std::string out;
  for (const auto& [from, to] : entries_) {
    absl::StrAppend(&out, out.empty() ? "" : ",", from, "=", to);
  }
  return out;
}

absl::StatusOr<PortMap> ParsePortMap(std::string_view spec) {
  PortMap map;
  if (StripAscii(spec).empty()) return map;
  for (std::string_view item : SplitCommas(spec)) {
    const std::string_view entry = StripAscii(item);
    if (entry.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("empty item in port map ", Quote(spec), " (expected e.g. 25=10025)"));
    }
    const size_t eq = entry.find('=');
    if (eq == std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "port map item ", Quote(entry), " has no '=' (expected LOGICAL=DIAL, e.g. 25=10025)"));
    }
    if (entry.find('=', eq + 1) != std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "port map item ", Quote(entry), " has more than one '=' (expected LOGICAL=DIAL)"));
    }
    absl::StatusOr<uint16_t> logical = ParsePort(entry.substr(0, eq), "logical port");
    absl::Status status = logical.status();
    absl::StatusOr<uint16_t> dial;
    if (status.ok()) {
      dial = ParsePort(entry.substr(eq + 1), "dial port");
      status = dial.status();
    }
    if (status.ok()) status = map.Add(*logical, *dial);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("port map item ", Quote(entry), ": ", status.message()));
    }
  }
  return map;
}

}  // namespace mxray::engine
