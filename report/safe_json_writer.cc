// Byte-level JSON string escaping with UTF-8 repair. Runs for every string of every output line
// (tens of thousands of lines a second), so it copies runs of plain bytes with memcpy and decides
// each other byte with a table and a few comparisons.
#include "report/safe_json_writer.h"

#include <array>
#include <cstdint>
#include <cstring>

namespace mxray::report {
namespace {

enum ByteClass : uint8_t {
  kCopy,     // printable ASCII other than '"' and '\'
  kEscape,   // ASCII that must be escaped: C0 controls, '"', '\', DEL
  kNonAscii  // the start (or a stray part) of a multi-byte sequence
};

constexpr std::array<uint8_t, 256> MakeByteClasses() {
  std::array<uint8_t, 256> classes{};
  for (int b = 0; b < 256; ++b) {
    if (b < 0x20 || b == '"' || b == '\\' || b == 0x7f) {
      classes[b] = kEscape;
    } else if (b >= 0x80) {
      classes[b] = kNonAscii;
    } else {
      classes[b] = kCopy;
    }
  }
  return classes;
}
constexpr std::array<uint8_t, 256> kByteClasses = MakeByteClasses();

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kReplacementCharacter[] = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// Every escape or replacement writes at most this many bytes per input byte ("\u00xx" for one).
constexpr size_t kMaxExpansion = 6;

char* PutUnicodeEscape(char* p, uint32_t code_point) {
  p[0] = '\\';
  p[1] = 'u';
  p[2] = kHexDigits[(code_point >> 12) & 0xf];
  p[3] = kHexDigits[(code_point >> 8) & 0xf];
  p[4] = kHexDigits[(code_point >> 4) & 0xf];
  p[5] = kHexDigits[code_point & 0xf];
  return p + 6;
}

// The two-character escape of an ASCII byte, or 0 when it takes the \u00xx form.
constexpr std::array<char, 128> MakeShortEscapes() {
  std::array<char, 128> escapes{};
  escapes['"'] = '"';
  escapes['\\'] = '\\';
  escapes['\b'] = 'b';
  escapes['\t'] = 't';
  escapes['\n'] = 'n';
  escapes['\f'] = 'f';
  escapes['\r'] = 'r';
  return escapes;
}
constexpr std::array<char, 128> kShortEscapes = MakeShortEscapes();

char* PutAsciiEscape(char* p, uint8_t c) {
  if (kShortEscapes[c] == 0) return PutUnicodeEscape(p, c);
  p[0] = '\\';
  p[1] = kShortEscapes[c];
  return p + 2;
}

bool IsContinuation(uint8_t b) { return (b & 0xc0) == 0x80; }

// Length of the well-formed UTF-8 sequence that starts s[0] (RFC 3629 table 3-7 of Unicode), or 0
// when s[0] does not start one. The second byte's range excludes overlong forms, surrogates and
// code points above U+10FFFF.
size_t WellFormedLength(const uint8_t* s, size_t n) {
  const uint8_t b0 = s[0];
  if (b0 >= 0xc2 && b0 <= 0xdf) return n >= 2 && IsContinuation(s[1]) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    if (n < 3) return 0;
    const uint8_t lo = b0 == 0xe0 ? 0xa0 : 0x80;
    const uint8_t hi = b0 == 0xed ? 0x9f : 0xbf;
    return s[1] >= lo && s[1] <= hi && IsContinuation(s[2]) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    if (n < 4) return 0;
    const uint8_t lo = b0 == 0xf0 ? 0x90 : 0x80;
    const uint8_t hi = b0 == 0xf4 ? 0x8f : 0xbf;
    return s[1] >= lo && s[1] <= hi && IsContinuation(s[2]) && IsContinuation(s[3]) ? 4 : 0;
  }
  return 0;
}

}  // namespace

void AppendJsonString(std::string_view bytes, rapidjson::StringBuffer* out) {
  const auto* s = reinterpret_cast<const uint8_t*>(bytes.data());
  const size_t n = bytes.size();
  // Reserve the worst case once and give back the rest at the end: no per-byte capacity checks.
  const size_t reserved = n * kMaxExpansion + 2;
  char* const start = out->Push(reserved);
  char* p = start;
  *p++ = '"';
  size_t i = 0;
  while (i < n) {
    size_t run_end = i;
    while (run_end < n && kByteClasses[s[run_end]] == kCopy) ++run_end;
    if (run_end != i) {
      std::memcpy(p, s + i, run_end - i);
      p += run_end - i;
      i = run_end;
      if (i == n) break;
    }
    const uint8_t c = s[i];
    if (kByteClasses[c] == kEscape) {
      p = PutAsciiEscape(p, c);
      ++i;
      continue;
    }
    const size_t length = WellFormedLength(s + i, n - i);
    if (length == 0) {
      // Replace this byte only and resynchronize on the next one, so each bad byte is one U+FFFD.
      std::memcpy(p, kReplacementCharacter, 3);
      p += 3;
      ++i;
    } else if (length == 2 && c == 0xc2 && s[i + 1] <= 0x9f) {
      // C1 controls: U+009B is a one-character CSI on some terminals, U+0085 a line break.
      p = PutUnicodeEscape(p, s[i + 1]);
      i += 2;
    } else if (length == 3 && c == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] & 0xfe) == 0xa8) {
      // U+2028/U+2029 are line breaks to JavaScript and to Unicode-aware line splitters.
      p = PutUnicodeEscape(p, 0x2000 | (s[i + 2] - 0x80));
      i += 3;
    } else {
      std::memcpy(p, s + i, length);
      p += length;
      i += length;
    }
  }
  *p++ = '"';
  out->Pop(static_cast<size_t>(start + reserved - p));
}

std::string JsonStringLiteral(std::string_view bytes) {
  rapidjson::StringBuffer buffer;
  AppendJsonString(bytes, &buffer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

bool SafeJsonWriter::SafeString(std::string_view bytes) {
  Prefix(rapidjson::kStringType);
  AppendJsonString(bytes, os_);
  return EndValue(true);
}

}  // namespace mxray::report
