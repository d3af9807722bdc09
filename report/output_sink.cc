// OutputSink over plain write(2): one descriptor, one writer, so "whole lines only" is just a
// matter of never handing the kernel a buffer that ends mid-line and of finishing every write.
#include "report/output_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace mxray::report {
namespace {

// A line far above the threshold grows the buffer; give that memory back afterwards.
constexpr size_t kBufferCapacityMax = 4 * OutputSink::kFlushThresholdBytes;

}  // namespace

absl::StatusOr<std::unique_ptr<OutputSink>> OutputSink::Open(std::string_view path) {
  if (path == "-") return ForFd(STDOUT_FILENO, /*owns_fd=*/false, "stdout");
  const std::string path_string(path);
  const int fd = open(path_string.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("open ", path_string));
  return ForFd(fd, /*owns_fd=*/true, path_string);
}

std::unique_ptr<OutputSink> OutputSink::ForFd(int fd, bool owns_fd, std::string name) {
  return std::unique_ptr<OutputSink>(new OutputSink(fd, owns_fd, std::move(name)));
}

OutputSink::OutputSink(int fd, bool owns_fd, std::string name)
    : fd_(fd), owns_fd_(owns_fd), name_(std::move(name)) {
  struct stat st;
  is_regular_file_ = fstat(fd_, &st) == 0 && S_ISREG(st.st_mode);
  buffer_.reserve(kFlushThresholdBytes + 4096);
}

OutputSink::~OutputSink() { Close().IgnoreError(); }

absl::Status OutputSink::WriteLine(std::string_view line) {
  if (!status_.ok()) return status_;
  if (closed_) return absl::FailedPreconditionError(absl::StrCat("write to closed ", name_));
  const bool add_newline = line.empty() || line.back() != '\n';
  const size_t size = line.size() + (add_newline ? 1 : 0);
  if (!buffer_.empty() && buffer_.size() + size > kFlushThresholdBytes) {
    if (absl::Status s = Flush(); !s.ok()) return s;
  }
  buffer_.append(line);
  if (add_newline) buffer_.push_back('\n');
  ++pending_lines_;
  if (buffer_.size() >= kFlushThresholdBytes) return Flush();
  return absl::OkStatus();
}

absl::Status OutputSink::Flush() {
  if (!status_.ok()) return status_;
  if (buffer_.empty()) return absl::OkStatus();
  absl::Status s = WriteAll(buffer_);
  if (s.ok()) lines_written_ += pending_lines_;
  pending_lines_ = 0;
  buffer_.clear();
  if (buffer_.capacity() > kBufferCapacityMax) {
    std::string().swap(buffer_);
    buffer_.reserve(kFlushThresholdBytes + 4096);
  }
  return s;
}

absl::Status OutputSink::Close() {
  if (closed_) return status_;
  Flush().IgnoreError();  // recorded in status_
  closed_ = true;
  if (owns_fd_) {
    // No retry on EINTR: on Linux the descriptor is released either way.
    const int rc = close(fd_);
    const int close_errno = errno;
    fd_ = -1;
    if (rc != 0 && status_.ok()) return Fail(close_errno, "close");
  }
  return status_;
}

absl::Status OutputSink::WriteAll(std::string_view data) {
  size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = write(fd_, data.data() + written, data.size() - written);
    if (n > 0) {
      written += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // Someone made the descriptor non-blocking (a shared stdout pipe): wait as a blocking
      // write would.
      pollfd p = {.fd = fd_, .events = POLLOUT, .revents = 0};
      if (poll(&p, 1, -1) < 0 && errno != EINTR) return Fail(errno, "poll");
      continue;
    }
    // write() returning 0 for a non-empty buffer would loop forever; treat it as an I/O error.
    const int error_number = n < 0 ? errno : EIO;
    const std::string_view done = data.substr(0, written);
    lines_written_ += static_cast<uint64_t>(std::count(done.begin(), done.end(), '\n'));
    bytes_written_ += written;
    CutPartialLine(data, written);
    return Fail(error_number, "write to");
  }
  bytes_written_ += written;
  return absl::OkStatus();
}

void OutputSink::CutPartialLine(std::string_view attempted, size_t written) {
  if (!is_regular_file_ || written == 0) return;
  const size_t last_newline = attempted.substr(0, written).rfind('\n');
  const size_t partial =
      last_newline == std::string_view::npos ? written : written - last_newline - 1;
  if (partial == 0) return;
  // Best effort: with the disk full, shrinking the file is about the only thing that still works.
  struct stat st;
  if (fstat(fd_, &st) != 0 || static_cast<size_t>(st.st_size) < partial) return;
  if (ftruncate(fd_, st.st_size - static_cast<off_t>(partial)) == 0) bytes_written_ -= partial;
}

absl::Status OutputSink::Fail(int error_number, const char* operation) {
  status_ = absl::ErrnoToStatus(error_number, absl::StrCat(operation, " ", name_));
  return status_;
}

}  // namespace mxray::report
