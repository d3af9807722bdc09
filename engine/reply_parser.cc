// ReplyParser: a byte-level state machine for the code and separator of each line, memchr over
// the text. Every decision is taken on one byte, never on how the input was chunked, which is
// what makes any split of the input give the same result.
//
// Leniency, decided against what real servers send and what an audit must not misread:
//  - a bare LF ends a line like CRLF (some servers send it; recorded in SmtpReply::bare_lf);
//  - a CR that is not right before the LF is text, not a line end: a lone CR ending a line would
//    let a server hide text from a parser that splits differently;
//  - "250" alone on a line is a last line with empty text (RFC 5321 §4.2 allows it);
//  - the code must match the RFC 5321 grammar %x32-35 %x30-35 %x30-39: servers do not send other
//    codes, and a first digit outside 2-5 is one clients should treat as fatal (§4.2.1);
//  - the separator is '-', ' ' or the line end, nothing else (no tab): an empty line, a line of
//    garbage, or an HTTP or TLS answer is a protocol error at its first wrong byte, not after a
//    timeout or a 2 KiB line;
//  - all lines must carry the first line's code (RFC 5321 §4.2.1 MUST): when they differ, clients
//    disagree on which one is the reply's (Exim takes the first line's, most the last line's),
//    so no code recorded for it would be right.
#include "engine/reply_parser.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "io/check.h"

namespace mxray::engine {
namespace {

// Lines kept for reuse after Reset(). Enough for a long EHLO reply; a hostile reply's many or
// long lines are freed instead, so that an idle parser holds at most a few KiB.
constexpr size_t kSpareLinesMax = 32;
constexpr size_t kSpareLineCapacityMax = 256;

bool IsCodeDigit(uint8_t position, char c) {
  switch (position) {
    case 0:
      return c >= '2' && c <= '5';
    case 1:
      return c >= '0' && c <= '5';
    default:
      return c >= '0' && c <= '9';
  }
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// One of the dot-separated numbers of an RFC 3463 status code: 1 to 3 digits, no leading zero.
// Returns the bytes it spans, or 0.
size_t StatusNumberLength(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && n < 4 && IsDigit(s[n])) ++n;
  if (n == 0 || n > 3 || (n > 1 && s[0] == '0')) return 0;
  return n;
}

}  // namespace

std::string_view ReplyErrorName(ReplyError e) {
  switch (e) {
    case ReplyError::kNone:
      return "none";
    case ReplyError::kBadCode:
      return "bad_code";
    case ReplyError::kBadSeparator:
      return "bad_separator";
    case ReplyError::kCodeMismatch:
      return "code_mismatch";
    case ReplyError::kLineTooLong:
      return "line_too_long";
    case ReplyError::kReplyTooLarge:
      return "reply_too_large";
    case ReplyError::kTooManyLines:
      return "too_many_lines";
  }
  return "unknown";
}

ReplyParser::ReplyParser(const ReplyLimits& limits) : limits_(limits) {}

void ReplyParser::Reset() {
  for (std::string& line : reply_.lines) {
    if (spare_lines_.size() >= kSpareLinesMax) break;
    if (line.capacity() > kSpareLineCapacityMax) continue;
    line.clear();
    spare_lines_.push_back(std::move(line));
  }
  reply_.lines.clear();
  reply_.code = 0;
  reply_.enhanced_status.clear();
  reply_.truncated = false;
  reply_.bare_lf = false;
  state_ = State::kCode;
  error_ = ReplyError::kNone;
  code_digits_ = 0;
  line_code_ = 0;
  continuation_ = false;
  pending_cr_ = false;
  skipping_ = false;
  line_cut_ = false;
  line_bytes_ = 0;
  stored_bytes_ = 0;
  skipped_bytes_ = 0;
}

ReplyParser::Result ReplyParser::Feed(std::string_view bytes, size_t* consumed) {
  MXRAY_CHECK(consumed != nullptr);
  const char* const data = bytes.data();
  const size_t n = bytes.size();
  size_t i = 0;
  // Partial until the last line ends; EndLine() sets the final value.
  if (n > 0 && (state_ != State::kComplete && state_ != State::kMalformed)) {
    reply_.truncated = true;
  }
  while (i < n && state_ != State::kComplete && state_ != State::kMalformed) {
    if (pending_cr_) {
      pending_cr_ = false;
      if (data[i] == '\n') {
        ++i;
        if (state_ == State::kSeparator) StartLine();
        EndLine(/*crlf=*/true);
        continue;
      }
      // The CR is the offending or stored byte; it was consumed by the call that saw it, so the
      // byte after it is not consumed here.
      if (state_ == State::kSeparator) {
        Fail(ReplyError::kBadSeparator);
        break;
      }
      size_t used = 0;
      if (!AppendText("\r", 1, &used)) break;
      continue;
    }
    switch (state_) {
      case State::kCode: {
        const char c = data[i++];
        if (!IsCodeDigit(code_digits_, c)) {
          Fail(ReplyError::kBadCode);
          break;
        }
        line_code_ = static_cast<uint16_t>(line_code_ * 10 + (c - '0'));
        ++line_bytes_;
        if (++code_digits_ < 3) break;
        if (reply_.code == 0) {
          reply_.code = line_code_;
        } else if (line_code_ != reply_.code) {
          Fail(ReplyError::kCodeMismatch);
          break;
        }
        state_ = State::kSeparator;
        break;
      }
      case State::kSeparator: {
        const char c = data[i++];
        if (c == '-' || c == ' ') {
          continuation_ = c == '-';
          ++line_bytes_;
          StartLine();
          state_ = State::kText;
        } else if (c == '\n') {
          StartLine();
          EndLine(/*crlf=*/false);
        } else if (c == '\r') {
          pending_cr_ = true;
        } else {
          Fail(ReplyError::kBadSeparator);
        }
        break;
      }
      case State::kText: {
        const char* p = data + i;
        const size_t avail = n - i;
        const char* lf = static_cast<const char*>(std::memchr(p, '\n', avail));
        const size_t segment = lf != nullptr ? static_cast<size_t>(lf - p) : avail;
        // A CR at the end of the segment is the CR of CRLF, or pending when the LF is not here
        // yet; either way it is not text now.
        const bool cr_last = segment > 0 && p[segment - 1] == '\r';
        size_t used = 0;
        if (!AppendText(p, segment - (cr_last ? 1 : 0), &used)) {
          i += used;
          break;
        }
        if (lf != nullptr) {
          i += segment + 1;
          EndLine(/*crlf=*/cr_last);
        } else {
          i = n;
          pending_cr_ = cr_last;
        }
        break;
      }
      case State::kComplete:
      case State::kMalformed:
        break;
    }
  }
  *consumed = i;
  switch (state_) {
    case State::kComplete:
      return Result::kComplete;
    case State::kMalformed:
      return Result::kMalformed;
    default:
      return Result::kNeedMore;
  }
}

void ReplyParser::StartLine() {
  if (spare_lines_.empty()) {
    reply_.lines.emplace_back();
  } else {
    reply_.lines.push_back(std::move(spare_lines_.back()));
    spare_lines_.pop_back();
  }
}

void ReplyParser::EndLine(bool crlf) {
  if (!crlf) reply_.bare_lf = true;
  if (reply_.lines.size() == 1) SetEnhancedStatus();
  if (!continuation_) {
    state_ = State::kComplete;
    reply_.truncated = line_cut_;
    return;
  }
  // Fail at the end of the last allowed line rather than at the first byte of the next one: a
  // server that drips continuations and then stalls is cut off now, not at its deadline.
  if (reply_.lines.size() >= limits_.reply_lines_max) {
    Fail(ReplyError::kTooManyLines);
    return;
  }
  state_ = State::kCode;
  code_digits_ = 0;
  line_code_ = 0;
  continuation_ = false;
  skipping_ = false;
  line_bytes_ = 0;
}

bool ReplyParser::AppendText(const char* p, size_t n, size_t* used) {
  size_t stored = 0;
  if (!skipping_) {
    const size_t line_room =
        line_bytes_ < limits_.line_bytes_max ? limits_.line_bytes_max - line_bytes_ : 0;
    const size_t reply_room = limits_.reply_bytes_max - stored_bytes_;
    stored = std::min(n, line_room);
    if (stored > reply_room) {
      reply_.lines.back().append(p, reply_room);
      stored_bytes_ += reply_room;
      *used = reply_room + 1;
      Fail(ReplyError::kReplyTooLarge);
      return false;
    }
    reply_.lines.back().append(p, stored);
    stored_bytes_ += stored;
    line_bytes_ += stored;
    if (stored == n) return true;
    skipping_ = true;
    line_cut_ = true;
  }
  const size_t skipped = n - stored;
  const size_t skip_room = limits_.skip_bytes_max - skipped_bytes_;
  if (skipped > skip_room) {
    skipped_bytes_ += skip_room;
    *used = stored + skip_room + 1;
    Fail(ReplyError::kLineTooLong);
    return false;
  }
  skipped_bytes_ += skipped;
  return true;
}

void ReplyParser::Fail(ReplyError e) {
  error_ = e;
  state_ = State::kMalformed;
  reply_.truncated = true;
}

void ReplyParser::SetEnhancedStatus() {
  const char status_class = static_cast<char>('0' + reply_.code / 100);
  if (status_class != '2' && status_class != '4' && status_class != '5') return;
  const std::string_view text = reply_.lines.front();
  if (text.empty() || text[0] != status_class) return;
  size_t pos = 1;
  for (int part = 0; part < 2; ++part) {
    if (pos >= text.size() || text[pos] != '.') return;
    const size_t len = StatusNumberLength(text.substr(pos + 1));
    if (len == 0) return;
    pos += 1 + len;
  }
  if (pos < text.size() && text[pos] != ' ') return;
  reply_.enhanced_status.assign(text.substr(0, pos));
}

}  // namespace mxray::engine
