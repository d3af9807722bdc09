// OutputSink: every write(2) carries whole lines only, volumes arrive intact, appends to files,
// and EPIPE, ENOSPC and a file-size limit hit mid-write become sticky errors with no half line.
#include "report/output_sink.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mxray::report {
namespace {

using ::testing::HasSubstr;

// A line of `size` bytes (newline included) whose text says which line it is.
std::string Line(int index, size_t size) {
  std::string line = absl::StrCat("{\"line\":", index, ",\"pad\":\"");
  while (line.size() + 3 < size) line.push_back('a' + index % 26);
  line += "\"}\n";
  return line;
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "/output_sink_test.XXXXXX";
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    // Only the files these tests create.
    for (const char* name : {"out.jsonl", "limited.jsonl"}) unlink((path_ + "/" + name).c_str());
    rmdir(path_.c_str());
  }
  std::string File(const char* name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// SOCK_SEQPACKET keeps write(2) boundaries: each recv() returns exactly one write.
TEST(OutputSinkTest, EachWriteCallEndsOnALineBoundary) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
  int sndbuf = 4 << 20;
  setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
  std::vector<std::string> writes;
  std::thread reader([&] {
    std::vector<char> buffer(1 << 20);
    for (;;) {
      const ssize_t n = recv(fds[1], buffer.data(), buffer.size(), 0);
      if (n <= 0) break;
      writes.emplace_back(buffer.data(), static_cast<size_t>(n));
    }
  });
  std::string expected;
  {
    std::unique_ptr<OutputSink> sink = OutputSink::ForFd(fds[0], /*owns_fd=*/true, "socket");
    for (int i = 0; i < 5000; ++i) {
      // Mostly typical lines, now and then one bigger than the whole threshold.
      const std::string line = Line(i, i % 997 == 0 ? 100 * 1024 : 200 + i % 700);
      expected += line;
      ASSERT_TRUE(sink->WriteLine(line).ok());
    }
    ASSERT_TRUE(sink->Close().ok());
    EXPECT_EQ(sink->lines_written(), 5000u);
    EXPECT_EQ(sink->bytes_written(), expected.size());
  }
  reader.join();
  close(fds[1]);
  std::string received;
  for (const std::string& w : writes) {
    ASSERT_FALSE(w.empty());
    EXPECT_EQ(w.back(), '\n');
    received += w;
  }
  EXPECT_EQ(received, expected);
  // Batched, not one syscall per line.
  EXPECT_LT(writes.size(), 5000u / 10);
}

TEST(OutputSinkTest, LargeVolumeThroughAPipeArrivesIntact) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  std::string received;
  std::thread reader([&] {
    char buffer[65536];
    for (;;) {
      const ssize_t n = read(fds[0], buffer, sizeof(buffer));
      if (n <= 0) break;
      received.append(buffer, static_cast<size_t>(n));
    }
  });
  std::string expected;
  std::unique_ptr<OutputSink> sink = OutputSink::ForFd(fds[1], /*owns_fd=*/true, "pipe");
  for (int i = 0; i < 200000; ++i) {
    const std::string line = Line(i, 50 + i % 400);
    expected += line;
    ASSERT_TRUE(sink->WriteLine(line).ok());
  }
  ASSERT_TRUE(sink->Close().ok());
  reader.join();
  close(fds[0]);
  EXPECT_EQ(received.size(), expected.size());
  EXPECT_TRUE(received == expected);
}

TEST(OutputSinkTest, AddsTheMissingNewline) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  std::unique_ptr<OutputSink> sink = OutputSink::ForFd(fds[1], /*owns_fd=*/true, "pipe");
  ASSERT_TRUE(sink->WriteLine("{}").ok());
  ASSERT_TRUE(sink->WriteLine("{\"a\":1}\n").ok());
  ASSERT_TRUE(sink->Close().ok());
  char buffer[64];
  const ssize_t n = read(fds[0], buffer, sizeof(buffer));
  close(fds[0]);
  EXPECT_EQ(std::string(buffer, static_cast<size_t>(std::max<ssize_t>(n, 0))), "{}\n{\"a\":1}\n");
}

TEST(OutputSinkTest, OpenAppendsToAnExistingFile) {
  TempDir dir;
  const std::string path = dir.File("out.jsonl");
  for (int run = 0; run < 2; ++run) {
    absl::StatusOr<std::unique_ptr<OutputSink>> sink = OutputSink::Open(path);
    ASSERT_TRUE(sink.ok()) << sink.status();
    ASSERT_TRUE((*sink)->WriteLine(Line(run, 40)).ok());
    ASSERT_TRUE((*sink)->Close().ok());
  }
  EXPECT_EQ(ReadFile(path), Line(0, 40) + Line(1, 40));
}

TEST(OutputSinkTest, FlushMakesLinesVisible) {
  TempDir dir;
  const std::string path = dir.File("out.jsonl");
  absl::StatusOr<std::unique_ptr<OutputSink>> sink = OutputSink::Open(path);
  ASSERT_TRUE(sink.ok()) << sink.status();
  ASSERT_TRUE((*sink)->WriteLine(Line(1, 30)).ok());
  EXPECT_EQ(ReadFile(path), "");  // still buffered
  ASSERT_TRUE((*sink)->Flush().ok());
  EXPECT_EQ(ReadFile(path), Line(1, 30));
}

TEST(OutputSinkTest, OpenReportsThePath) {
  absl::StatusOr<std::unique_ptr<OutputSink>> sink =
      OutputSink::Open("/nonexistent-mxray-dir/out.jsonl");
  ASSERT_FALSE(sink.ok());
  EXPECT_EQ(sink.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(sink.status().message(), HasSubstr("/nonexistent-mxray-dir/out.jsonl"));
}

TEST(OutputSinkTest, DashIsStdout) {
  absl::StatusOr<std::unique_ptr<OutputSink>> sink = OutputSink::Open("-");
  ASSERT_TRUE(sink.ok()) << sink.status();
  ASSERT_TRUE((*sink)->Close().ok());
  EXPECT_NE(fcntl(STDOUT_FILENO, F_GETFD), -1);  // not closed
}

TEST(OutputSinkTest, ClosedPipeIsAStickyError) {
  signal(SIGPIPE, SIG_IGN);
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  close(fds[0]);
  std::unique_ptr<OutputSink> sink = OutputSink::ForFd(fds[1], /*owns_fd=*/true, "pipe");
  ASSERT_TRUE(sink->WriteLine("{}\n").ok());  // only buffered
  const absl::Status flushed = sink->Flush();
  EXPECT_EQ(flushed.code(), absl::ErrnoToStatusCode(EPIPE));
  EXPECT_THAT(flushed.message(), HasSubstr("write to pipe"));
  EXPECT_THAT(flushed.message(), HasSubstr("Broken pipe"));
  EXPECT_EQ(sink->WriteLine("{}\n"), flushed);
  EXPECT_EQ(sink->Flush(), flushed);
  EXPECT_EQ(sink->Close(), flushed);
  EXPECT_EQ(sink->lines_written(), 0u);
}

TEST(OutputSinkTest, FullDiskIsReported) {
  absl::StatusOr<std::unique_ptr<OutputSink>> sink = OutputSink::Open("/dev/full");
  if (!sink.ok()) GTEST_SKIP() << "no /dev/full: " << sink.status();
  ASSERT_TRUE((*sink)->WriteLine("{}\n").ok());
  const absl::Status closed = (*sink)->Close();
  EXPECT_EQ(closed.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(closed.message(), HasSubstr("/dev/full"));
}

// RLIMIT_FSIZE makes write(2) stop short in mid-line and then fail (EFBIG), as a filling disk does.
TEST(OutputSinkTest, FailedWriteLeavesOnlyWholeLinesInTheFile) {
  TempDir dir;
  const std::string path = dir.File("limited.jsonl");
  signal(SIGXFSZ, SIG_IGN);
  rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  rlimit limited = saved;
  limited.rlim_cur = 1000;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);

  absl::StatusOr<std::unique_ptr<OutputSink>> sink = OutputSink::Open(path);
  ASSERT_TRUE(sink.ok()) << sink.status();
  std::string expected;
  for (int i = 0; i < 30; ++i) {
    const std::string line = Line(i, 64);
    if (expected.size() + line.size() <= 1000) expected += line;
    ASSERT_TRUE((*sink)->WriteLine(line).ok());
  }
  const absl::Status flushed = (*sink)->Flush();
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &saved), 0);

  EXPECT_EQ(flushed.code(), absl::ErrnoToStatusCode(EFBIG));
  EXPECT_EQ(ReadFile(path), expected);
  EXPECT_EQ((*sink)->lines_written(), expected.size() / 64);
  EXPECT_EQ((*sink)->bytes_written(), expected.size());
}

TEST(OutputSinkTest, WriteAfterCloseFails) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  std::unique_ptr<OutputSink> sink = OutputSink::ForFd(fds[1], /*owns_fd=*/true, "pipe");
  ASSERT_TRUE(sink->Close().ok());
  EXPECT_EQ(sink->WriteLine("{}\n").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(sink->Close().ok());
  close(fds[0]);
}

}  // namespace
}  // namespace mxray::report
