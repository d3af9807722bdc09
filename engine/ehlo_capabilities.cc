// ParseEhlo: splits each EHLO line into keyword and parameters, keeps the keywords that have the
// RFC 5321 ehlo-keyword syntax, and folds the ones an audit asks about into fields.
#include "engine/ehlo_capabilities.h"

#include <string_view>

namespace mxray::engine {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// CR too: a lone CR that the reply parser kept as text must not end up in a parameter's edge.
bool IsTrimmed(char c) { return IsBlank(c) || c == '\r'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsTrimmed(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsTrimmed(s.back())) s.remove_suffix(1);
  return s;
}

// The first word of `s` (which starts with a non-blank) and what follows it.
std::string_view FirstWord(std::string_view s, std::string_view* rest) {
  size_t end = 0;
  while (end < s.size() && !IsBlank(s[end])) ++end;
  *rest = s.substr(end);
  return s.substr(0, end);
}

bool IsAlnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

char ToUpper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ToUpper(c);
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToUpper(a[i]) != ToUpper(b[i])) return false;
  }
  return true;
}

// RFC 5321 §4.1.1.1: ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-").
bool IsEhloKeyword(std::string_view s) {
  if (s.empty() || !IsAlnum(s[0])) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '-') return false;
  }
  return true;
}

// RFC 4422 §3.1: sasl-mech = 1*20mech-char, mech-char = UPPER-ALPHA / DIGIT / "-" / "_";
// checked after uppercasing, since servers send "auth login plain" too.
bool IsSaslMechanism(std::string_view s) {
  if (s.empty() || s.size() > 20) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '-' && c != '_') return false;
  }
  return true;
}

void AddMechanisms(std::string_view list, std::vector<std::string>* auth) {
  while (true) {
    while (!list.empty() && IsBlank(list.front())) list.remove_prefix(1);
    if (list.empty()) return;
    const std::string_view token = FirstWord(list, &list);
    if (!IsSaslMechanism(token)) continue;
    bool seen = false;
    for (const std::string& m : *auth) {
      if (EqualsIgnoreCase(m, token)) {
        seen = true;
        break;
      }
    }
    if (!seen && auth->size() < kEhloAuthMechanismsMax) auth->push_back(Upper(token));
  }
}

// RFC 1870: size-param = 1*20DIGIT. A number past 2^64 - 1 is not a size we can state.
std::optional<uint64_t> ParseSize(std::string_view params) {
  std::string_view rest;
  const std::string_view digits = FirstWord(params, &rest);
  if (digits.empty() || digits.size() > 20) return std::nullopt;
  uint64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - d) / 10) return std::nullopt;
    value = value * 10 + d;
  }
  return value;
}

// The fields for the extensions an audit asks about; nullptr for the others.
bool* FlagFor(std::string_view upper_keyword, EhloCapabilities* caps) {
  struct Known {
    std::string_view keyword;
    bool EhloCapabilities::*flag;
  };
  static constexpr Known kKnown[] = {
      {"PIPELINING", &EhloCapabilities::pipelining},
      {"8BITMIME", &EhloCapabilities::eightbitmime},
      {"SMTPUTF8", &EhloCapabilities::smtputf8},
      {"CHUNKING", &EhloCapabilities::chunking},
      {"BINARYMIME", &EhloCapabilities::binarymime},
      {"DSN", &EhloCapabilities::dsn},
      {"ENHANCEDSTATUSCODES", &EhloCapabilities::enhancedstatuscodes},
      {"REQUIRETLS", &EhloCapabilities::requiretls},
      {"STARTTLS", &EhloCapabilities::starttls},
  };
  for (const Known& k : kKnown) {
    if (k.keyword == upper_keyword) return &(caps->*k.flag);
  }
  return nullptr;
}

}  // namespace

EhloCapabilities ParseEhlo(const SmtpReply& reply) {
  EhloCapabilities caps;
  if (reply.lines.empty()) return caps;
  std::string_view rest;
  caps.greeting_name.assign(FirstWord(Trim(reply.lines.front()), &rest));
  for (size_t i = 1; i < reply.lines.size(); ++i) {
    const std::string_view line = Trim(reply.lines[i]);
    std::string_view params;
    const std::string_view keyword = FirstWord(line, &params);
    params = Trim(params);
    // "AUTH=LOGIN PLAIN": the mechanisms start after the '=' of the first word.
    if (keyword.size() >= 5 && EqualsIgnoreCase(keyword.substr(0, 5), "AUTH=")) {
      caps.auth_old_form = true;
      AddMechanisms(keyword.substr(5), &caps.auth);
      AddMechanisms(params, &caps.auth);
      continue;
    }
    if (!IsEhloKeyword(keyword)) {
      ++caps.ignored_lines;
      continue;
    }
    std::string upper = Upper(keyword);
    if (bool* flag = FlagFor(upper, &caps)) *flag = true;
    if (upper == "AUTH") AddMechanisms(params, &caps.auth);
    bool listed = false;
    for (const auto& [k, v] : caps.extensions) {
      if (k == upper) {
        listed = true;
        break;
      }
    }
    if (listed) continue;
    if (caps.extensions.size() >= kEhloExtensionsMax) {
      ++caps.ignored_lines;
      continue;
    }
    if (upper == "SIZE") caps.size = ParseSize(params);
    caps.extensions.emplace_back(std::move(upper), std::string(params));
  }
  return caps;
}

}  // namespace mxray::engine
