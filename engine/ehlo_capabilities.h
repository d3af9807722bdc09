// What a server announces in its EHLO reply (RFC 5321 §4.1.1.1, §2.4), as structured facts the
// report and the policy checks read: its name, the extensions in order with their parameters,
// and the ones an audit asks about (STARTTLS, SIZE, AUTH, SMTPUTF8...) as plain fields.
#ifndef MXRAY_ENGINE_EHLO_CAPABILITIES_H_
#define MXRAY_ENGINE_EHLO_CAPABILITIES_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/reply_parser.h"

namespace mxray::engine {

// Bounds on what ParseEhlo keeps, whatever the reply holds (the reply parser's limits already
// allow no more than 100 lines; these hold for any SmtpReply, e.g. a fuzzer's).
inline constexpr size_t kEhloExtensionsMax = 128;
inline constexpr size_t kEhloAuthMechanismsMax = 32;

struct EhloCapabilities {
  // The first word of the first line: the name the server gives itself, as sent.
  std::string greeting_name;
  // Each ehlo-keyword, uppercased, with its parameters: the rest of the line as sent, without
  // the blanks around it. In the order sent; a keyword sent again is listed once, with the
  // parameters of its first line. At most kEhloExtensionsMax entries.
  std::vector<std::pair<std::string, std::string>> extensions;
  // The SIZE parameter (RFC 1870): 0 means the server declares no limit. Empty when SIZE is
  // absent, has no parameter (allowed: SIZE supported, no fixed maximum declared) or a parameter
  // that is not a decimal number fitting 64 bits; `extensions` tells these apart.
  std::optional<uint64_t> size;
  bool pipelining = false;           // RFC 2920
  bool eightbitmime = false;         // RFC 6152
  bool smtputf8 = false;             // RFC 6531
  bool chunking = false;             // RFC 3030
  bool binarymime = false;           // RFC 3030
  bool dsn = false;                  // RFC 3461
  bool enhancedstatuscodes = false;  // RFC 2034
  bool requiretls = false;           // RFC 8689
  bool starttls = false;             // RFC 3207
  // SASL mechanisms (RFC 4954), uppercased: the union of every "AUTH ..." line and of the old
  // "AUTH=..." form, in order of first appearance, each once. Tokens that are not SASL mechanism
  // names (RFC 4422: 1 to 20 of A-Z 0-9 - _) are dropped. At most kEhloAuthMechanismsMax.
  std::vector<std::string> auth;
  // "AUTH=..." was sent: the pre-RFC 2554 form that servers add for old Outlook clients.
  bool auth_old_form = false;
  // Lines after the first that gave nothing: blank, a first word that is not an ehlo-keyword
  // (ALPHA / DIGIT, then ALPHA / DIGIT / '-'), or a new keyword past kEhloExtensionsMax.
  uint32_t ignored_lines = 0;

  friend bool operator==(const EhloCapabilities&, const EhloCapabilities&) = default;
};

// Reads the lines of an EHLO reply; the caller checks the code (a 250 is an EHLO answer).
// Keywords are case-insensitive (RFC 5321 §2.4); blanks are spaces or tabs, leading and trailing
// ones are ignored. Pure; the result is at most proportional to the input.
EhloCapabilities ParseEhlo(const SmtpReply& reply);

}  // namespace mxray::engine

#endif  // MXRAY_ENGINE_EHLO_CAPABILITIES_H_
