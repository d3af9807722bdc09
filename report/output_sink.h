// Where the JSON lines go: stdout or a file, written in large whole-line chunks. Readers (jq,
// `tail -f`, a resumed run reading what is already done) must never see half a line, and a full
// disk or a closed pipe must stop the run with a clear error instead of losing lines silently.
#ifndef MXRAY_REPORT_OUTPUT_SINK_H_
#define MXRAY_REPORT_OUTPUT_SINK_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mxray::report {

// Buffers whole lines and hands them to write(2) in chunks of about kFlushThresholdBytes, looping
// over partial writes, EINTR and EAGAIN, so lines from one sink never interleave with anything.
// One writer only: not thread-safe.
//
// Errors are sticky: after a failed write every call returns that same status. A write to a
// closed pipe fails with EPIPE only if the process ignores SIGPIPE (the CLI does); the sink does
// not change signal dispositions itself.
//
// If a write fails halfway through a regular file, the partial line at its end is cut off again
// (ftruncate), so the file holds only whole lines.
class OutputSink {
 public:
  static constexpr size_t kFlushThresholdBytes = 64 * 1024;

  // "-" is stdout (flushed, never closed). Anything else is opened
  // O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC, mode 0644: a rerun adds to what is there.
  static absl::StatusOr<std::unique_ptr<OutputSink>> Open(std::string_view path);

  // Writes to an open descriptor; closes it on Close()/destruction when `owns_fd`. `name` appears
  // in error messages.
  static std::unique_ptr<OutputSink> ForFd(int fd, bool owns_fd, std::string name);

  OutputSink(const OutputSink&) = delete;
  OutputSink& operator=(const OutputSink&) = delete;
  // Flushes and closes; errors are lost, so call Close() to see them.
  ~OutputSink();

  // Queues one line. `line` should end in '\n'; one is added when it does not. A line must not
  // hold another '\n' (JsonlWriter output never does). May flush.
  absl::Status WriteLine(std::string_view line);

  // Writes out everything queued.
  absl::Status Flush();

  // Flush, then close the descriptor if owned. Further calls return the first result.
  absl::Status Close();

  // Counts of what write(2) accepted, for progress reports.
  uint64_t lines_written() const { return lines_written_; }
  uint64_t bytes_written() const { return bytes_written_; }

 private:
  OutputSink(int fd, bool owns_fd, std::string name);

  // Writes all of `data` or fails; keeps the counters.
  absl::Status WriteAll(std::string_view data);
  absl::Status Fail(int error_number, const char* operation);
  // After a failed write to a regular file, removes the incomplete last line it left.
  void CutPartialLine(std::string_view attempted, size_t written);

  int fd_;
  bool owns_fd_;
  bool closed_ = false;
  bool is_regular_file_ = false;
  std::string name_;
  std::string buffer_;          // whole lines only
  absl::Status status_;         // first error, sticky
  uint64_t pending_lines_ = 0;  // lines in buffer_
  uint64_t lines_written_ = 0;
  uint64_t bytes_written_ = 0;
};

}  // namespace mxray::report

#endif  // MXRAY_REPORT_OUTPUT_SINK_H_
