// Incremental parser of one SMTP reply (RFC 5321 §4.2): bytes in, "need more", "complete" or
// "malformed" out. Every reply of every connection goes through it, so it is pure (no I/O, no
// clock), accepts any chunking of the input with the same result, bounds what one hostile server
// can make it store or read, and reuses its storage from one reply to the next.
#ifndef MXRAY_ENGINE_REPLY_PARSER_H_
#define MXRAY_ENGINE_REPLY_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mxray::engine {

// The caps of RELIABILITY.md. With them one reply never makes the parser store more than
// reply_bytes_max text bytes nor consume more than
// reply_bytes_max + skip_bytes_max + 6 * reply_lines_max + 1 bytes: the code, separator and CRLF
// of each line are read but not stored, and the byte that breaks a cap is consumed.
struct ReplyLimits {
  // One line as sent, without its CRLF or LF: code, separator and text (Postfix
  // line_length_limit). Past it the text is no longer stored and the line is skipped.
  size_t line_bytes_max = 2048;
  // Text stored for one reply, all lines together.
  size_t reply_bytes_max = 16 * 1024;
  // Lines of one reply; the first line is always accepted.
  size_t reply_lines_max = 100;
  // Bytes discarded past line_bytes_max while looking for the end of a line, all lines of one
  // reply together: a line without LF costs at most this much before the reply is given up.
  size_t skip_bytes_max = 64 * 1024;
};

// Why a reply is malformed. A closed set: the names of ReplyErrorName() are written to JSON,
// so add new values, never rename.
enum class ReplyError : uint8_t {
  kNone,
  kBadCode,        // a line does not start with three digits [2-5][0-5][0-9]
  kBadSeparator,   // the code is followed by something other than '-', ' ' or the line end
  kCodeMismatch,   // a continuation line carries another code than the first line
  kLineTooLong,    // no line end within skip_bytes_max bytes past line_bytes_max
  kReplyTooLarge,  // more than reply_bytes_max text bytes
  kTooManyLines,   // a continuation line past reply_lines_max lines
};

// "none", "bad_code", "bad_separator", "code_mismatch", "line_too_long", "reply_too_large",
// "too_many_lines".
std::string_view ReplyErrorName(ReplyError e);

struct SmtpReply {
  uint16_t code = 0;  // 0 until the first line's three digits were read
  // Text of each line after "250-" or "250 " (empty for a bare "250"), without the CRLF or LF.
  // Every other byte is kept raw: NUL, a CR that is not right before the LF, escapes, invalid
  // UTF-8. The JSON writer makes them safe.
  std::vector<std::string> lines;
  // The RFC 3463 status code that starts the first line ("2.1.0"), when its class is the reply
  // code's first digit (2, 4 or 5); empty otherwise. The text in `lines` still holds it.
  std::string enhanced_status;
  // The reply as kept is not all the server meant to send: a line was cut at line_bytes_max,
  // or the reply is partial (read before it was complete, or malformed), which is how partial
  // data kept after a close, a timeout or a protocol error is marked.
  bool truncated = false;
  // A line ended with a bare LF instead of CRLF (accepted, but an RFC 5321 §2.3.8 deviation).
  bool bare_lf = false;

  friend bool operator==(const SmtpReply&, const SmtpReply&) = default;
};

class ReplyParser {
 public:
  enum class Result : uint8_t { kNeedMore, kComplete, kMalformed };

  explicit ReplyParser(const ReplyLimits& limits = {});

  // Consumes `bytes` up to the end of the first complete reply, or up to and including the
  // byte that made it malformed, or all of them (always all of them for kNeedMore), and sets
  // *consumed (never null) to that count: bytes left after a complete reply were sent before we
  // asked, which pipelining and STARTTLS injection detection must see. Feeding the same bytes in
  // any chunks gives the same result, reply and total count. Once the result is kComplete or
  // kMalformed, further calls return it again and consume nothing until Reset().
  Result Feed(std::string_view bytes, size_t* consumed);

  // The complete reply, or what was kept so far (after kNeedMore and kMalformed too: partial
  // data is kept for the record, with `truncated` set).
  const SmtpReply& reply() const { return reply_; }
  // Moves the reply out (its storage goes with it) and resets: for a caller that keeps the
  // reply, which then costs no second copy.
  SmtpReply TakeReply() {
    SmtpReply out = std::move(reply_);
    reply_ = SmtpReply{};
    Reset();
    return out;
  }
  ReplyError error() const { return error_; }

  // Ready for the next reply. Keeps the storage of short lines, so that the replies of a
  // conversation cost no allocation once the first has been parsed.
  void Reset();

 private:
  enum class State : uint8_t { kCode, kSeparator, kText, kComplete, kMalformed };

  void StartLine();
  void EndLine(bool crlf);
  // Appends text bytes of the current line, storing or skipping them. On an error returns false
  // and sets *used to the bytes consumed, the offending byte included.
  bool AppendText(const char* p, size_t n, size_t* used);
  void Fail(ReplyError e);
  void SetEnhancedStatus();

  ReplyLimits limits_;
  SmtpReply reply_;
  std::vector<std::string> spare_lines_;  // cleared lines of earlier replies, for reuse
  State state_ = State::kCode;
  ReplyError error_ = ReplyError::kNone;
  uint8_t code_digits_ = 0;  // digits of the current line's code read so far
  uint16_t line_code_ = 0;
  bool continuation_ = false;  // the current line's separator was '-'
  bool pending_cr_ = false;    // a CR was the last byte: CRLF or text, the next byte tells
  bool skipping_ = false;      // the current line passed line_bytes_max
  bool line_cut_ = false;      // some line of this reply passed line_bytes_max
  size_t line_bytes_ = 0;      // bytes of the current line so far, CR or LF not included
  size_t stored_bytes_ = 0;    // text bytes stored for this reply
  size_t skipped_bytes_ = 0;   // bytes skipped for this reply
};

}  // namespace mxray::engine

#endif  // MXRAY_ENGINE_REPLY_PARSER_H_
