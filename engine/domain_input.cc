// Domain normalization (IDNA via libidn2, LDH checks) and the streaming line reader.
#include "engine/domain_input.h"

#include <errno.h>
#include <fcntl.h>
#include <idn2.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "io/ip_address.h"

namespace mxray::engine {
namespace {

namespace err = input_error;

constexpr size_t kMaxLabelBytes = 63;
constexpr size_t kMaxNameBytes = 253;  // 255 on the wire, minus the first length and the root
constexpr size_t kReadBufferBytes = 64 * 1024;
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

bool IsBlank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

bool IsAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// The absl in this toolchain takes its own string_view, not std::string_view, so these two
// small helpers stand in for AsciiStrToLower and StartsWithIgnoreCase.
void AppendLower(std::string_view s, std::string* out) {
  for (char c : s) out->push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view lower_prefix) {
  if (s.size() < lower_prefix.size()) return false;
  for (size_t i = 0; i < lower_prefix.size(); ++i) {
    if (absl::ascii_tolower(static_cast<unsigned char>(s[i])) != lower_prefix[i]) return false;
  }
  return true;
}

bool IsLdh(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-'; }

// RFC 3629: rejects overlong forms, surrogates and code points past U+10FFFF, which libidn2
// would otherwise report as a generic encoding error (or, for some, not at all).
bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 3;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // UTF-16 surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 4;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // past U+10FFFF
    } else {
      return false;
    }
    if (static_cast<size_t>(end - p) < n) return false;
    if (p[1] < lo || p[1] > hi) return false;
    for (size_t i = 2; i < n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
    }
    p += n;
  }
  return true;
}

// One part of an address in the forms inet_aton(3) accepts: decimal, octal or 0x-hex.
bool IsNumericPart(std::string_view part) {
  if (part.empty()) return false;
  if (part.size() >= 2 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X')) {
    return std::all_of(part.begin() + 2, part.end(),
                       [](char c) { return absl::ascii_isxdigit(static_cast<unsigned char>(c)); });
  }
  return std::all_of(part.begin(), part.end(),
                     [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); });
}

// True for text that names an address rather than a host. Besides dotted quads and IPv6 this
// covers the SMTP "[...]" form and the short numeric forms ("127.1", "0x7f000001") because
// getaddrinfo() passes those through inet_aton() and would connect to the address they encode.
bool IsIpLiteral(std::string_view s) {
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') {
    s = s.substr(1, s.size() - 2);
    if (StartsWithIgnoreCase(s, "ipv6:")) s.remove_prefix(5);
    return io::IpAddress::Parse(s).has_value();
  }
  if (s.find(':') != std::string_view::npos) return io::IpAddress::Parse(s).has_value();
  int parts = 0;
  for (size_t start = 0;;) {
    size_t dot = s.find('.', start);
    if (++parts > 4 || !IsNumericPart(s.substr(start, dot - start))) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// libidn2 codes that have a more precise reason of our own.
std::string_view IdnErrorReason(int rc) {
  switch (rc) {
    case IDN2_ENCODING_ERROR:
      return err::kInvalidUtf8;
    case IDN2_TOO_BIG_LABEL:
    case IDN2_PUNYCODE_BIG_OUTPUT:  // the A-label would exceed 63 octets
      return err::kLabelTooLong;
    case IDN2_TOO_BIG_DOMAIN:
      return err::kNameTooLong;
    case IDN2_HYPHEN_STARTEND:
      return err::kHyphenAtLabelEdge;
    default:
      return err::kIdnError;
  }
}

// Converts one label holding non-ASCII characters to its A-label(s) and appends them to `out`.
//
// UTS #46 non-transitional processing (IDNA2008 as browsers and registries now apply it): a mail
// auditor must look up the domain its owner registered, and transitional processing maps
// "faß.de" to "fass.de", a different domain with possibly a different owner. For the same reason
// there is no fallback to transitional processing: it only ever differs by auditing another name.
//
// IDN2_USE_STD3_ASCII_RULES is deliberately off: libidn2 2.3 with it silently deletes disallowed
// ASCII ("bü_cher" becomes "bücher"). The caller has already rejected such bytes, and
// HostnameError() checks the result.
std::string_view AppendALabel(std::string_view label, std::string* out) {
  // libidn2 wants a NUL-terminated string; `label` is a slice of a NUL-free input.
  std::string z(label);
  uint8_t* result = nullptr;
  int rc = idn2_lookup_u8(reinterpret_cast<const uint8_t*>(z.c_str()), &result,
                          IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
  if (rc != IDN2_OK) {
    idn2_free(result);
    return IdnErrorReason(rc);
  }
  out->append(reinterpret_cast<const char*>(result));
  idn2_free(result);
  return {};
}

}  // namespace

std::string_view HostnameError(std::string_view name) {
  if (name.empty()) return err::kEmpty;
  if (IsIpLiteral(name)) return err::kIpLiteral;
  if (name.size() > kMaxNameBytes) return err::kNameTooLong;
  size_t labels = 0;
  std::string_view last;
  for (size_t start = 0;;) {
    size_t dot = name.find('.', start);
    std::string_view label = name.substr(start, dot - start);
    if (label.empty()) return err::kEmptyLabel;
    if (label.size() > kMaxLabelBytes) return err::kLabelTooLong;
    if (!std::all_of(label.begin(), label.end(), IsLdh)) return err::kBadCharacter;
    if (label.front() == '-' || label.back() == '-') return err::kHyphenAtLabelEdge;
    ++labels;
    last = label;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (labels < 2) return err::kSingleLabel;
  // No top-level domain is all digits (RFC 3696 §2), and such a name reads as an address.
  if (std::all_of(last.begin(), last.end(),
                  [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); })) {
    return err::kNumericTld;
  }
  return {};
}

NormalizedDomain NormalizeDomain(std::string_view raw) {
  auto fail = [](std::string_view reason) { return NormalizedDomain{false, {}, reason}; };
  if (raw.empty()) return fail(err::kEmpty);
  if (raw.find('\0') != std::string_view::npos) return fail(err::kNulByte);
  const bool ascii = IsAscii(raw);
  if (!ascii && !IsValidUtf8(raw)) return fail(err::kInvalidUtf8);
  if (raw.size() > kMaxDomainInputBytes) return fail(err::kNameTooLong);

  // Only one trailing dot is the root; "example.com.." stays invalid (empty label).
  bool dropped_dot = false;
  if (raw.back() == '.') {
    raw.remove_suffix(1);
    dropped_dot = true;
  }
  if (raw.empty()) return fail(err::kEmpty);

  std::string name;
  if (ascii) {
    AppendLower(raw, &name);
  } else {
    // Label by label, so that only Unicode labels go through libidn2: it applies IDNA2008's
    // rules to every label of the name it is given, and would refuse ASCII labels that are
    // fine in DNS (hyphens in positions 3 and 4, as in "ab--cd.bücher.de").
    name.reserve(raw.size());
    for (size_t start = 0;;) {
      size_t dot = raw.find('.', start);
      std::string_view label = raw.substr(start, dot - start);
      if (IsAscii(label)) {
        AppendLower(label, &name);
      } else {
        // UTS #46 keeps ASCII as it is (but for case), so a bad ASCII byte here would only come
        // back as a vaguer libidn2 error; naming it keeps the reason precise.
        for (char c : label) {
          if (static_cast<unsigned char>(c) < 0x80 && !IsLdh(c)) return fail(err::kBadCharacter);
        }
        if (std::string_view e = AppendALabel(label, &name); !e.empty()) return fail(e);
      }
      if (dot == std::string_view::npos) break;
      name.push_back('.');
      start = dot + 1;
    }
    // A trailing ideographic full stop (U+3002 and kin) maps to '.': it is the root too.
    if (!dropped_dot && !name.empty() && name.back() == '.') name.pop_back();
  }

  if (std::string_view e = HostnameError(name); !e.empty()) return fail(e);
  return NormalizedDomain{true, std::move(name), {}};
}

NormalizedDomain NormalizeInputLine(const InputLine& line) {
  if (line.too_long) return NormalizedDomain{false, {}, err::kLineTooLong};
  return NormalizeDomain(line.text);
}

absl::StatusOr<InputReaderPtr> InputReader::Open(std::vector<std::string> paths,
                                                 size_t max_line_bytes) {
  if (paths.empty()) return absl::InvalidArgumentError("no input given");
  if (max_line_bytes == 0) return absl::InvalidArgumentError("max_line_bytes must be positive");
  std::vector<Source> sources;
  sources.reserve(paths.size());
  auto close_all = [&sources] {
    for (const Source& s : sources) {
      if (s.owns_fd) close(s.fd);
    }
  };
  for (std::string& path : paths) {
    if (path == "-") {
      sources.push_back(Source{STDIN_FILENO, false, std::move(path)});
      continue;
    }
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      absl::Status status =
          absl::ErrnoToStatus(errno, absl::StrCat("cannot open input '", path, "'"));
      close_all();
      return status;
    }
    struct stat st;
    if (fstat(fd, &st) == 0) {
      if (S_ISDIR(st.st_mode)) {
        close(fd);
        close_all();
        return absl::InvalidArgumentError(absl::StrCat("input '", path, "' is a directory"));
      }
      if (S_ISREG(st.st_mode)) posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    }
    sources.push_back(Source{fd, true, std::move(path)});
  }
  return InputReaderPtr(new InputReader(std::move(sources), max_line_bytes));
}

InputReaderPtr InputReader::FromFd(int fd, std::string source_name, size_t max_line_bytes) {
  std::vector<Source> sources;
  sources.push_back(Source{fd, false, std::move(source_name)});
  return InputReaderPtr(new InputReader(std::move(sources), std::max<size_t>(max_line_bytes, 1)));
}

InputReader::InputReader(std::vector<Source> sources, size_t max_line_bytes)
    : sources_(std::move(sources)),
      max_line_bytes_(max_line_bytes),
      buffer_(new char[kReadBufferBytes]) {
  line_.reserve(std::min(max_line_bytes_, kReadBufferBytes));
}

InputReader::~InputReader() {
  for (const Source& s : sources_) {
    if (s.owns_fd) close(s.fd);
  }
}

bool InputReader::Fill() {
  const Source& source = sources_[current_];
  for (;;) {
    ssize_t n = read(source.fd, buffer_.get(), kReadBufferBytes);
    if (n > 0) {
      begin_ = 0;
      end_ = static_cast<size_t>(n);
      return true;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      // Someone made a shared stdin non-blocking; wait rather than take it as the end.
      pollfd p{source.fd, POLLIN, 0};
      if (poll(&p, 1, -1) >= 0 || errno == EINTR) continue;
    }
    status_ = absl::ErrnoToStatus(
        errno, absl::StrCat("reading input '", source.name, "' after line ", line_number_));
    return false;
  }
}

void InputReader::Append(const char* data, size_t size) {
  line_started_ = true;
  if (line_comment_ || line_too_long_) return;
  if (line_.empty()) {
    while (size > 0 && IsBlank(*data)) {
      ++data;
      --size;
    }
    if (size == 0) return;
    if (*data == '#') {
      line_comment_ = true;
      return;
    }
  }
  size_t take = std::min(size, max_line_bytes_ - line_.size());
  line_.append(data, take);
  // Bytes past the cap only matter if one of them is not blank: trailing blanks are trimmed
  // anyway, so "example.com" followed by 10 kB of spaces is not a long line.
  if (std::any_of(data + take, data + size, [](char c) { return !IsBlank(c); })) {
    line_too_long_ = true;
  }
}

bool InputReader::Finish(InputLine* out) {
  ++line_number_;
  bool keep = !line_comment_;
  bool too_long = line_too_long_;
  line_started_ = line_comment_ = line_too_long_ = false;
  if (!keep) {
    line_.clear();
    return false;
  }
  std::string_view text = line_;
  // Editors on Windows start files with a byte order mark; it is not part of the first domain.
  if (line_number_ == 1 && text.substr(0, kUtf8Bom.size()) == kUtf8Bom) {
    text.remove_prefix(kUtf8Bom.size());
    while (!text.empty() && IsBlank(text.front())) text.remove_prefix(1);
    if (!text.empty() && text.front() == '#') text = {};
  }
  while (!text.empty() && IsBlank(text.back())) text.remove_suffix(1);
  if (too_long) {
    // Do not leave half a character at the cut: the record quotes this text.
    size_t i = text.size();
    size_t back = 0;
    while (i > 0 && back < 4 && (static_cast<unsigned char>(text[i - 1]) & 0xC0) == 0x80) {
      --i;
      ++back;
    }
    if (i > 0) {
      unsigned char lead = static_cast<unsigned char>(text[i - 1]);
      size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
      if (need > 1 && back + 1 < need) text = text.substr(0, i - 1);
    }
  }
  bool emit = !text.empty();
  if (emit) {
    out->text.assign(text);
    out->line_number = line_number_;
    out->source = sources_[current_].name;
    out->too_long = too_long;
  }
  line_.clear();
  return emit;
}

bool InputReader::Next(InputLine* out) {
  while (current_ < sources_.size() && status_.ok()) {
    if (begin_ == end_ && !Fill()) {
      if (!status_.ok()) return false;
      // End of this source: a last line without LF is still a line.
      bool emit = line_started_ && Finish(out);
      ++current_;
      line_number_ = 0;
      begin_ = end_ = 0;
      if (emit) return true;
      continue;
    }
    const char* start = buffer_.get() + begin_;
    size_t size = end_ - begin_;
    const char* lf = static_cast<const char*>(std::memchr(start, '\n', size));
    if (lf == nullptr) {
      Append(start, size);
      begin_ = end_;
      continue;
    }
    Append(start, static_cast<size_t>(lf - start));
    begin_ += static_cast<size_t>(lf - start) + 1;
    if (Finish(out)) return true;
  }
  return false;
}

}  // namespace mxray::engine
