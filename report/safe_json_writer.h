// A RapidJSON Writer that writes any bytes as a JSON string. Text from the network and from the
// input file (names, banners, the raw input line) may hold NUL, terminal escapes, lone CR/LF and
// invalid UTF-8, yet every output line must be valid single-line UTF-8 JSON that is safe to print
// on a terminal. RapidJSON can only reject bad UTF-8, not repair it, hence this layer.
#ifndef MXRAY_REPORT_SAFE_JSON_WRITER_H_
#define MXRAY_REPORT_SAFE_JSON_WRITER_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace mxray::report {

// Appends `bytes` to `out` as a quoted JSON string literal:
//  - well-formed UTF-8 (RFC 3629) is copied unchanged, 4-byte sequences included;
//  - each byte that is not part of a well-formed sequence (stray continuation byte, truncated
//    sequence, overlong form, surrogate, above U+10FFFF, 0xC0/0xC1/0xF5..0xFF) becomes U+FFFD;
//  - '"' and '\' are escaped; \b \t \n \f \r use their short escapes; every other C0 control,
//    DEL, the C1 controls U+0080..U+009F and U+2028/U+2029 become \u00xx or \u20xx (lowercase
//    hex). No raw byte of the result is a control character or a line separator of any line
//    splitter (POSIX, Python's str.splitlines, JavaScript).
// A string that needs none of this is copied with one memcpy.
void AppendJsonString(std::string_view bytes, rapidjson::StringBuffer* out);

// The same, returning the literal; for tests and cold paths.
std::string JsonStringLiteral(std::string_view bytes);

// rapidjson::Writer plus SafeString(). Structure (objects, arrays, numbers, booleans, null) goes
// through the ordinary Writer calls; every string and key goes through SafeString() or the two
// helpers below, never through Writer::String()/Key(), which pass invalid UTF-8 and DEL through.
class SafeJsonWriter : public rapidjson::Writer<rapidjson::StringBuffer> {
 public:
  using Writer::Writer;

  // Writes `bytes` as a string value, or as a key when the writer expects one.
  bool SafeString(std::string_view bytes);

  // Keys and enum names we control. They go through the same memcpy path as SafeString():
  // rapidjson's own String() checks and reserves byte by byte, and was a third of a line's cost.
  template <size_t N>
  bool KeyLiteral(const char (&key)[N]) {
    return SafeString(std::string_view(key, N - 1));
  }
  bool PlainString(std::string_view ascii) { return SafeString(ascii); }

  // An array of strings from the network (names, reply lines), each through SafeString().
  void SafeStringArray(const std::vector<std::string>& items) {
    StartArray();
    for (const std::string& item : items) SafeString(item);
    EndArray();
  }
};

}  // namespace mxray::report

#endif  // MXRAY_REPORT_SAFE_JSON_WRITER_H_
