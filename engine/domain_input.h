// Input side of a run: streams domain lines from files or stdin and turns each one into an
// A-label domain or a stable reason code, so that every input line yields exactly one record.
// Also exports the host-name syntax check that the resolver applies to MX exchange names.
#ifndef MXRAY_ENGINE_DOMAIN_INPUT_H_
#define MXRAY_ENGINE_DOMAIN_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mxray::engine {

// Reason codes written as "error" next to "status":"invalid_input". Their text is part of the
// JSON contract: add new ones, never rename.
namespace input_error {
inline constexpr std::string_view kEmpty = "empty";  // nothing left, e.g. the line was "."
inline constexpr std::string_view kEmptyLabel = "empty_label";       // "a..b", ".a", "a.."
inline constexpr std::string_view kLabelTooLong = "label_too_long";  // a label over 63 octets
inline constexpr std::string_view kNameTooLong = "name_too_long";    // over 253 octets
inline constexpr std::string_view kBadCharacter = "bad_character";   // outside [a-z0-9-]
inline constexpr std::string_view kHyphenAtLabelEdge = "hyphen_at_label_edge";
inline constexpr std::string_view kIdnError = "idn_error";        // libidn2 refused a Unicode label
inline constexpr std::string_view kIpLiteral = "ip_literal";      // "1.2.3.4", "[::1]", "0x7f.1"
inline constexpr std::string_view kSingleLabel = "single_label";  // "localhost": no MX use
inline constexpr std::string_view kNumericTld = "numeric_tld";    // "example.123"
inline constexpr std::string_view kLineTooLong = "line_too_long";  // over max_line_bytes
inline constexpr std::string_view kInvalidUtf8 = "invalid_utf8";
inline constexpr std::string_view kNulByte = "nul_byte";
}  // namespace input_error

// The longest trimmed input NormalizeDomain hands to libidn2. Unicode input may legitimately be
// longer than 253 bytes (4-byte characters, characters that UTS #46 maps away), but not by this
// much; the cap bounds the work one hostile line can cause.
inline constexpr size_t kMaxDomainInputBytes = 1024;

struct NormalizedDomain {
  bool ok = false;
  std::string domain;      // A-label, lowercase, no trailing dot; empty unless ok
  std::string_view error;  // one of input_error::k*; empty when ok
};

// Normalizes one trimmed input line: lowercase, one trailing dot dropped, Unicode labels to
// A-labels (UTS #46 non-transitional), then the same checks as HostnameError(). Pure and
// thread-safe.
NormalizedDomain NormalizeDomain(std::string_view raw);

// Why `name` is not a usable host name, or an empty view when it is. `name` is expected in
// A-label form without a trailing dot (the resolver strips the root). ASCII case is accepted
// because DNS compares names case-insensitively (RFC 4343); callers lowercase for display.
// Returns input_error::kIpLiteral for names that are addresses, so the resolver can tell
// ExchangeStatus::kIpLiteral from kInvalidName.
std::string_view HostnameError(std::string_view name);
inline bool IsValidHostname(std::string_view name) { return HostnameError(name).empty(); }

struct InputLine {
  std::string text;          // trimmed; when too_long, the first max_line_bytes of it
  uint64_t line_number = 0;  // 1-based physical line within `source`, blank lines included
  std::string_view source;   // the path as given ("-" for stdin); valid while the reader lives
  bool too_long = false;
};

// NormalizeDomain(line.text), or input_error::kLineTooLong for a truncated line.
NormalizedDomain NormalizeInputLine(const InputLine& line);

// Streams lines from several sources in order with one fixed buffer, so input size never
// matters: only LF ends a line, so NUL bytes, lone CRs and invalid UTF-8 stay inside the line
// they belong to and reach NormalizeDomain, which turns them into a reason code.
class InputReader {
 public:
  static constexpr size_t kDefaultMaxLineBytes = 4096;

  // Opens every source before the first line is read, so a typo in the last path fails the run
  // before any probing: NotFound / PermissionDenied / InvalidArgument naming the path. "-" is
  // stdin.
  static absl::StatusOr<std::unique_ptr<InputReader>> Open(
      std::vector<std::string> paths, size_t max_line_bytes = kDefaultMaxLineBytes);

  // Reads from a descriptor the caller keeps ownership of (a pipe, a socket, a test's fd).
  // `source_name` is what InputLine::source reports.
  static std::unique_ptr<InputReader> FromFd(int fd, std::string source_name,
                                             size_t max_line_bytes = kDefaultMaxLineBytes);

  InputReader(const InputReader&) = delete;
  InputReader& operator=(const InputReader&) = delete;
  ~InputReader();

  // The next non-blank line whose first non-blank character is not '#', trimmed of ASCII
  // whitespace (CR included). A UTF-8 byte order mark at the start of a source is dropped.
  // A line whose trimmed length exceeds max_line_bytes comes back truncated to that many bytes
  // (cut back to a UTF-8 character boundary) with too_long set; the rest of it is skipped
  // without being buffered. Returns false at the end of the last source or on a read error.
  bool Next(InputLine* out);

  // OK, or the read error that ended the stream early (the run's output is then incomplete).
  const absl::Status& status() const { return status_; }

 private:
  struct Source {
    int fd;
    bool owns_fd;
    std::string name;
  };

  InputReader(std::vector<Source> sources, size_t max_line_bytes);

  // Reads more of the current source into buffer_; false at its end or on error.
  bool Fill();
  // Appends one byte run of the current physical line to line_, honouring the length cap.
  void Append(const char* data, size_t size);
  // Finishes the physical line in line_; true when it is a line to return.
  bool Finish(InputLine* out);

  std::vector<Source> sources_;
  size_t current_ = 0;
  size_t max_line_bytes_;
  std::unique_ptr<char[]> buffer_;
  size_t begin_ = 0;  // unread bytes are buffer_[begin_, end_)
  size_t end_ = 0;
  uint64_t line_number_ = 0;    // within the current source
  std::string line_;            // the current physical line, leading whitespace skipped, capped
  bool line_started_ = false;   // a byte of the current physical line has been seen
  bool line_overflow_ = false;  // line_ is full: later bytes are only inspected
  bool line_too_long_ = false;  // a non-blank byte was dropped by the cap
  bool line_comment_ = false;   // the line starts with '#': its bytes are not kept
  absl::Status status_;
};

using InputReaderPtr = std::unique_ptr<InputReader>;

}  // namespace mxray::engine

#endif  // MXRAY_ENGINE_DOMAIN_INPUT_H_
