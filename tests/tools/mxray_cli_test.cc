// The `mxray` binary as a user runs it: spawned as a separate process with its stdin, stdout and
// stderr as pipes, its exit status and signal checked, and its JSON lines validated against
// docs/output.schema.json and compared with the simulated fleet's expectations. These tests hold
// the command-line contract of README.md (flags, exit status, where output and errors go).
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "rapidjson/document.h"
#include "report/schema_validator.h"
#include "tools/fleet/fleet.h"

#ifndef MXRAY_BINARY
#error "MXRAY_BINARY must name the mxray executable"
#endif
#ifndef MXRAY_SOURCE_DIR
#error "MXRAY_SOURCE_DIR must name the source tree"
#endif

extern char** environ;

namespace mxray {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

// ---------------------------------------------------------------------------------------------
// Running the binary.

struct RunOptions {
  // Written to the child's stdin through a pipe; nullopt gives it /dev/null.
  std::optional<std::string> stdin_data;
  // When >= 0, the child's stdout is this descriptor and `out` stays empty.
  int stdout_fd = -1;
};

struct RunResult {
  bool exited = false;  // ended through exit(); false: killed by `signal`
  int exit_code = -1;
  int signal = 0;
  std::string out;
  std::string err;
};

std::ostream& operator<<(std::ostream& os, const RunResult& r) {
  if (r.exited) {
    os << "exit " << r.exit_code;
  } else {
    os << "killed by signal " << r.signal << " (" << strsignal(r.signal) << ")";
  }
  return os << "\n--- stderr ---\n"
            << r.err << "--- stdout (" << r.out.size() << " bytes) ---\n"
            << r.out.substr(0, 2000);
}

void SetNonBlocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Runs MXRAY_BINARY with `args` as a shell would: signals at their default dispositions (so a
// write to a closed pipe raises SIGPIPE unless mxray ignores it) and none blocked. Feeds stdin,
// collects stdout and stderr until both close, then reaps the child.
RunResult RunMxray(const std::vector<std::string>& args, const RunOptions& options = {}) {
  // The test itself must survive writing stdin to a child that stopped reading.
  static const bool kSigpipeIgnored = [] { return signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();
  EXPECT_TRUE(kSigpipeIgnored);

  RunResult result;
  int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
  if (options.stdin_data.has_value() && pipe2(in_pipe, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << strerror(errno);
    return result;
  }
  if ((options.stdout_fd < 0 && pipe2(out_pipe, O_CLOEXEC) != 0) ||
      pipe2(err_pipe, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << strerror(errno);
    return result;
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (options.stdin_data.has_value()) {
    posix_spawn_file_actions_adddup2(&actions, in_pipe[0], STDIN_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_adddup2(
      &actions, options.stdout_fd >= 0 ? options.stdout_fd : out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t all_signals, no_signals;
  sigfillset(&all_signals);
  sigemptyset(&no_signals);
  posix_spawnattr_setsigdefault(&attr, &all_signals);
  posix_spawnattr_setsigmask(&attr, &no_signals);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<std::string> argv_strings = {MXRAY_BINARY};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  pid_t pid = -1;
  int spawn_error = posix_spawn(&pid, MXRAY_BINARY, &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  // The child's ends are the child's now.
  for (int fd : {in_pipe[0], out_pipe[1], err_pipe[1]}) {
    if (fd >= 0) close(fd);
  }
  if (spawn_error != 0) {
    ADD_FAILURE() << "posix_spawn " << MXRAY_BINARY << ": " << strerror(spawn_error);
    for (int fd : {in_pipe[1], out_pipe[0], err_pipe[0]}) {
      if (fd >= 0) close(fd);
    }
    return result;
  }

  int in_fd = in_pipe[1], out_fd = out_pipe[0], err_fd = err_pipe[0];
  const std::string no_input;
  std::string_view to_write =
      options.stdin_data.has_value() ? std::string_view(*options.stdin_data) : no_input;
  if (in_fd >= 0) {
    SetNonBlocking(in_fd);
    if (to_write.empty()) {
      close(in_fd);
      in_fd = -1;
    }
  }
  char buffer[65536];
  while (in_fd >= 0 || out_fd >= 0 || err_fd >= 0) {
    pollfd fds[3];
    int n = 0;
    if (in_fd >= 0) fds[n++] = {in_fd, POLLOUT, 0};
    if (out_fd >= 0) fds[n++] = {out_fd, POLLIN, 0};
    if (err_fd >= 0) fds[n++] = {err_fd, POLLIN, 0};
    if (poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      ADD_FAILURE() << "poll: " << strerror(errno);
      break;
    }
    for (int i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      int fd = fds[i].fd;
      if (fd == in_fd) {
        ssize_t w = write(in_fd, to_write.data(), to_write.size());
        if (w > 0) to_write.remove_prefix(static_cast<size_t>(w));
        if (to_write.empty() || (w < 0 && errno != EAGAIN && errno != EINTR)) {
          close(in_fd);  // all written, or the child closed its stdin (EPIPE)
          in_fd = -1;
        }
        continue;
      }
      ssize_t r = read(fd, buffer, sizeof(buffer));
      if (r > 0) {
        (fd == out_fd ? result.out : result.err).append(buffer, static_cast<size_t>(r));
      } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        close(fd);
        (fd == out_fd ? out_fd : err_fd) = -1;
      }
    }
  }

  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      ADD_FAILURE() << "waitpid: " << strerror(errno);
      return result;
    }
  }
  if (WIFEXITED(status)) {
    result.exited = true;
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Reading what it wrote.

// The lines of `text`, which must end in '\n' (whole lines only) unless empty.
std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  if (text.empty()) return lines;
  EXPECT_EQ(text.back(), '\n') << "output ends in a partial line";
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

struct OutputLine {
  std::optional<std::string> domain;  // nullopt for JSON null
  std::string input;
  std::string status;
  std::string mx_source;
  std::string error;
};

OutputLine ParseLine(const std::string& line) {
  OutputLine parsed;
  rapidjson::Document doc;
  doc.Parse(line.data(), line.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    ADD_FAILURE() << "not a JSON object: " << line;
    return parsed;
  }
  auto text = [&doc](const char* key) -> std::string {
    auto it = doc.FindMember(key);
    if (it == doc.MemberEnd() || !it->value.IsString()) return {};
    return std::string(it->value.GetString(), it->value.GetStringLength());
  };
  if (auto it = doc.FindMember("domain"); it != doc.MemberEnd() && it->value.IsString()) {
    parsed.domain = std::string(it->value.GetString(), it->value.GetStringLength());
  }
  parsed.input = text("input");
  parsed.status = text("status");
  parsed.mx_source = text("mx_source");
  parsed.error = text("error");
  return parsed;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

void WriteFile(const std::string& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  ASSERT_TRUE(out.good()) << path;
}

// True if a line of `text`, trimmed, starts with the word `word`.
bool HasLineStartingWith(const std::string& text, const std::string& word) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos) continue;
    std::string_view rest = std::string_view(line).substr(start);
    if (rest.starts_with(word) &&
        (rest.size() == word.size() || rest[word.size()] == ' ' || rest[word.size()] == '\t')) {
      return true;
    }
  }
  return false;
}

// True if `flag` appears in `help` as a whole option name ("--summary" in "--summary,--no-...").
bool MentionsFlag(const std::string& help, const std::string& flag) {
  std::regex re("(^|[\\s,])" + flag + "($|[\\s,=\\{\\[])");
  return std::regex_search(help, re);
}

// The flags ("-o", "--output", ...) in the first cell of each row of the README's flag table.
std::set<std::string> ReadmeTableFlags(const std::string& readme) {
  std::set<std::string> flags;
  size_t table = readme.find("| flag | default | meaning |");
  if (table == std::string::npos) return flags;
  std::istringstream in(readme.substr(table));
  std::regex flag_re("(^|[\\s,`])(--?[a-z][a-z0-9-]*)");
  for (std::string line; std::getline(in, line) && line.starts_with("|");) {
    size_t cell_end = line.find('|', 1);
    std::string cell = line.substr(1, cell_end - 1);
    for (std::sregex_iterator it(cell.begin(), cell.end(), flag_re), end; it != end; ++it) {
      flags.insert((*it)[2].str());
    }
  }
  return flags;
}

// The flags in the README's usage synopsis of `command` ("mxray scan"), up to the next command.
std::set<std::string> ReadmeSynopsisFlags(const std::string& readme, const std::string& command) {
  std::set<std::string> flags;
  size_t start = readme.find("\n" + command + " ");
  if (start == std::string::npos) return flags;
  size_t end = readme.find("\nmxray ", start + 1);
  size_t fence = readme.find("\n```", start + 1);
  if (end == std::string::npos || fence < end) end = fence;
  std::string synopsis = readme.substr(start, end - start);
  std::regex flag_re("[\\[|\\s](--?[a-z][a-z0-9-]*)");
  for (std::sregex_iterator it(synopsis.begin(), synopsis.end(), flag_re), e; it != e; ++it) {
    flags.insert((*it)[1].str());
  }
  return flags;
}

// ---------------------------------------------------------------------------------------------
// The fixture: a private directory, the schema, and a fleet on demand.

// Short DNS deadlines: some fleet names never answer.
const std::vector<std::string> kFastDns = {"--dns-timeout-ms", "300", "--dns-retries", "1"};

class MxrayCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "mxray_cli_test.XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr) << strerror(errno);
    dir_ = pattern;
    absl::StatusOr<std::unique_ptr<report::SchemaValidator>> validator =
        report::SchemaValidator::LoadFile(MXRAY_SOURCE_DIR "/docs/output.schema.json");
    ASSERT_TRUE(validator.ok()) << validator.status();
    validator_ = *std::move(validator);
  }

  void TearDown() override {
    std::error_code ignored;
    if (!dir_.empty()) {
      // Give back permissions a test took away so that the directory can be removed.
      std::filesystem::permissions(dir_, std::filesystem::perms::owner_all,
                                   std::filesystem::perm_options::add, ignored);
      std::filesystem::remove_all(dir_, ignored);
    }
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  std::unique_ptr<fleet::Fleet> StartFleet(size_t domains, uint64_t seed = 7) {
    fleet::FleetOptions options;
    options.seed = seed;
    options.domain_count = domains;
    absl::StatusOr<std::unique_ptr<fleet::Fleet>> f = fleet::Fleet::Start(options);
    EXPECT_TRUE(f.ok()) << f.status();
    return f.ok() ? *std::move(f) : nullptr;
  }

  // Every line of `out` is schema-valid; returns them parsed.
  std::vector<OutputLine> ValidLines(const std::string& out) {
    std::vector<OutputLine> parsed;
    for (const std::string& line : SplitLines(out)) {
      absl::Status valid = validator_->ValidateLine(line);
      EXPECT_TRUE(valid.ok()) << valid << "\n" << line;
      parsed.push_back(ParseLine(line));
    }
    return parsed;
  }

  // Checks that each line's status and mx_source are the fleet's expectation for its domain.
  void ExpectMatchesFleet(const fleet::Fleet& f, const std::vector<OutputLine>& lines) {
    std::map<std::string, size_t> index;
    for (size_t i = 0; i < f.population().size(); ++i) index[f.population().DomainName(i)] = i;
    for (const OutputLine& line : lines) {
      ASSERT_TRUE(line.domain.has_value()) << line.input;
      auto it = index.find(*line.domain);
      ASSERT_NE(it, index.end()) << "not a fleet domain: " << *line.domain;
      fleet::Expectation want = f.population().Expect(it->second);
      EXPECT_EQ(line.status, want.status)
          << *line.domain << " (" << fleet::DomainKindName(want.kind) << ")";
      EXPECT_EQ(line.mx_source, want.mx_source)
          << *line.domain << " (" << fleet::DomainKindName(want.kind) << ")";
    }
  }

  std::vector<std::string> ScanArgs(const fleet::Fleet& f, std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"scan", "--resolver", f.dns_server()};
    args.insert(args.end(), kFastDns.begin(), kFastDns.end());
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }

  // Names of the first fleet domain of each kind, one per line.
  static std::string NamesOf(const fleet::Fleet& f,
                             std::initializer_list<fleet::DomainKind> kinds) {
    std::string text;
    for (fleet::DomainKind kind : kinds) {
      std::optional<size_t> i = f.population().FirstOfKind(kind);
      EXPECT_TRUE(i.has_value()) << fleet::DomainKindName(kind);
      if (i) text += f.population().DomainName(*i) + "\n";
    }
    return text;
  }

  std::string dir_;
  std::unique_ptr<report::SchemaValidator> validator_;
};

// Checks the shape every rejected invocation must have: a normal non-zero exit, a message on
// stderr that contains each of `mentions`, and nothing on stdout.
void ExpectRejected(const RunResult& r, const std::vector<std::string>& mentions) {
  EXPECT_TRUE(r.exited) << r;
  EXPECT_NE(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, IsEmpty()) << r;
  EXPECT_THAT(r.err, Not(IsEmpty())) << r;
  for (const std::string& m : mentions) EXPECT_THAT(r.err, HasSubstr(m)) << r;
}

// ---------------------------------------------------------------------------------------------
// Help and version.

TEST_F(MxrayCliTest, HelpExitsZeroAndListsEveryCommand) {
  RunResult r = RunMxray({"--help"});
  ASSERT_TRUE(r.exited) << r;
  EXPECT_EQ(r.exit_code, 0) << r;
  for (const char* command : {"scan", "demo", "version"}) {
    EXPECT_TRUE(HasLineStartingWith(r.out, command)) << command << " not listed:\n" << r.out;
  }
}

TEST_F(MxrayCliTest, ScanHelpListsEveryFlagOfTheReadme) {
  std::string readme = ReadFile(MXRAY_SOURCE_DIR "/README.md");
  std::set<std::string> flags = ReadmeTableFlags(readme);
  // The table as it stands; a new row adds to this automatically.
  for (const char* known :
       {"-o", "--output", "--resolver", "--concurrency", "--dns-timeout-ms", "--dns-retries",
        "--max-exchanges", "--max-addresses", "--cache-entries", "--summary"}) {
    EXPECT_TRUE(flags.contains(known)) << known << " missing from the README table parse";
  }
  flags.merge(ReadmeSynopsisFlags(readme, "mxray scan"));
  EXPECT_TRUE(flags.contains("--no-summary"));

  RunResult r = RunMxray({"scan", "--help"});
  ASSERT_TRUE(r.exited) << r;
  EXPECT_EQ(r.exit_code, 0) << r;
  for (const std::string& flag : flags) {
    EXPECT_TRUE(MentionsFlag(r.out, flag)) << flag << " not in `mxray scan --help`:\n" << r.out;
  }
}

TEST_F(MxrayCliTest, DemoHelpListsEveryFlagOfTheReadmeSynopsis) {
  std::set<std::string> flags =
      ReadmeSynopsisFlags(ReadFile(MXRAY_SOURCE_DIR "/README.md"), "mxray demo");
  EXPECT_THAT(flags, SizeIs(3));  // --domains --seed -o
  RunResult r = RunMxray({"demo", "--help"});
  ASSERT_TRUE(r.exited) << r;
  EXPECT_EQ(r.exit_code, 0) << r;
  for (const std::string& flag : flags) {
    EXPECT_TRUE(MentionsFlag(r.out, flag)) << flag << " not in `mxray demo --help`:\n" << r.out;
  }
}

TEST_F(MxrayCliTest, VersionNamesBoringSsl) {
  RunResult r = RunMxray({"version"});
  ASSERT_TRUE(r.exited) << r;
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, HasSubstr("mxray"));
  EXPECT_THAT(r.out, HasSubstr("BoringSSL"));
  EXPECT_THAT(r.err, IsEmpty());
}

// ---------------------------------------------------------------------------------------------
// Rejected invocations: non-zero exit, a message that says what is wrong, no output.

TEST_F(MxrayCliTest, UnknownFlagIsRejected) {
  ExpectRejected(RunMxray({"scan", "--no-such-flag"}), {"--no-such-flag"});
}

TEST_F(MxrayCliTest, UnknownCommandIsRejected) {
  // CLI11 answers "A subcommand is required" here rather than naming the word it did not know.
  ExpectRejected(RunMxray({"frobnicate"}), {"subcommand"});
}

TEST_F(MxrayCliTest, MissingSubcommandIsRejected) { ExpectRejected(RunMxray({}), {"subcommand"}); }

TEST_F(MxrayCliTest, ZeroConcurrencyIsRejected) {
  ExpectRejected(RunMxray({"scan", "--concurrency", "0"}, {.stdin_data = "a.test\n"}),
                 {"--concurrency", "0"});
}

TEST_F(MxrayCliTest, NonNumericConcurrencyIsRejected) {
  ExpectRejected(RunMxray({"scan", "--concurrency", "abc"}, {.stdin_data = "a.test\n"}),
                 {"--concurrency", "abc"});
}

TEST_F(MxrayCliTest, NegativeDnsTimeoutIsRejected) {
  ExpectRejected(RunMxray({"scan", "--dns-timeout-ms", "-1"}, {.stdin_data = "a.test\n"}),
                 {"--dns-timeout-ms", "-1"});
}

TEST_F(MxrayCliTest, FlagWithoutItsValueIsRejected) {
  ExpectRejected(RunMxray({"scan", "--concurrency"}, {.stdin_data = "a.test\n"}),
                 {"--concurrency"});
}

TEST_F(MxrayCliTest, ZeroDemoDomainsIsRejected) {
  ExpectRejected(RunMxray({"demo", "--domains", "0"}), {"--domains"});
}

TEST_F(MxrayCliTest, MissingInputFileFailsNamingThePath) {
  std::string missing = Path("no-such-file.txt");
  RunResult r = RunMxray({"scan", "--resolver", "127.0.0.1:53", missing});
  ExpectRejected(r, {missing});
  EXPECT_EQ(r.exit_code, 1) << r;
}

TEST_F(MxrayCliTest, MissingInputFileAfterAGoodOneWritesNothing) {
  std::string good = Path("good.txt"), missing = Path("missing.txt");
  WriteFile(good, "a.test\nb.test\n");
  RunResult r = RunMxray({"scan", "--resolver", "127.0.0.1:53", good, missing});
  ExpectRejected(r, {missing});
  EXPECT_EQ(r.exit_code, 1) << r;
}

TEST_F(MxrayCliTest, DirectoryAsInputFailsNamingThePath) {
  std::string sub = Path("subdir");
  ASSERT_TRUE(std::filesystem::create_directory(sub));
  RunResult r = RunMxray({"scan", "--resolver", "127.0.0.1:53", sub});
  ExpectRejected(r, {sub});
  EXPECT_EQ(r.exit_code, 1) << r;
}

TEST_F(MxrayCliTest, UnreadableInputFileFailsNamingThePath) {
  std::string locked = Path("locked.txt");
  WriteFile(locked, "a.test\n");
  ASSERT_EQ(chmod(locked.c_str(), 0), 0) << strerror(errno);
  if (access(locked.c_str(), R_OK) == 0) {
    GTEST_SKIP() << "running with privileges that read any file (root?)";
  }
  RunResult r = RunMxray({"scan", "--resolver", "127.0.0.1:53", locked});
  ExpectRejected(r, {locked});
  EXPECT_EQ(r.exit_code, 1) << r;
}

TEST_F(MxrayCliTest, ResolverThatIsNotAnAddressIsRejected) {
  RunResult r = RunMxray({"scan", "--resolver", "not-an-ip"}, {.stdin_data = "a.test\n"});
  ExpectRejected(r, {"resolver", "not-an-ip"});
  EXPECT_EQ(r.exit_code, 1) << r;
}

TEST_F(MxrayCliTest, ResolverWithAPortOutOfRangeIsRejected) {
  RunResult r = RunMxray({"scan", "--resolver", "127.0.0.1:99999"}, {.stdin_data = "a.test\n"});
  ExpectRejected(r, {"resolver", "127.0.0.1:99999"});
  EXPECT_EQ(r.exit_code, 1) << r;
}

TEST_F(MxrayCliTest, BadResolverInAListIsRejected) {
  RunResult r = RunMxray({"scan", "--resolver", "127.0.0.1:53,bogus"}, {.stdin_data = "a.test\n"});
  ExpectRejected(r, {"resolver", "bogus"});
  EXPECT_EQ(r.exit_code, 1) << r;
}

TEST_F(MxrayCliTest, BadPortListIsRejected) {
  RunResult r = RunMxray({"scan", "--ports", "25,0"}, {.stdin_data = "a.test\n"});
  ExpectRejected(r, {"0"});
  EXPECT_EQ(r.exit_code, 1) << r;
}

TEST_F(MxrayCliTest, BadPortMapIsRejected) {
  RunResult r = RunMxray({"scan", "--port-map", "25"}, {.stdin_data = "a.test\n"});
  ExpectRejected(r, {"25"});
  EXPECT_EQ(r.exit_code, 1) << r;
}

TEST_F(MxrayCliTest, MissingBlocklistFileIsRejected) {
  std::string missing = Path("no-such-blocklist.txt");
  RunResult r = RunMxray({"scan", "--resolver", "127.0.0.1:53", "--blocklist", missing},
                         {.stdin_data = "a.test\n"});
  ExpectRejected(r, {missing});
  EXPECT_EQ(r.exit_code, 1) << r;
}

// ---------------------------------------------------------------------------------------------
// Scanning the simulated fleet.

TEST_F(MxrayCliTest, PortsNoneAuditsDnsOnly) {
  std::unique_ptr<fleet::Fleet> f = StartFleet(100);
  ASSERT_NE(f, nullptr);
  std::string list = Path("domains.txt");
  ASSERT_TRUE(f->WriteDomainList(list).ok());
  RunResult r = RunMxray(ScanArgs(*f, {"--ports", "none", "--allow-private", list}));
  ASSERT_TRUE(r.exited) << r;
  EXPECT_EQ(r.exit_code, 0) << r;
  std::vector<OutputLine> lines = ValidLines(r.out);
  EXPECT_THAT(lines, SizeIs(f->population().size()));
  EXPECT_THAT(r.out, testing::Not(testing::HasSubstr("\"ports\"")));
  EXPECT_EQ(f->smtp_stats().TotalConnections(), 0u);
}

TEST_F(MxrayCliTest, ScanProbesTheFleetsSmtpThroughThePortMap) {
  std::unique_ptr<fleet::Fleet> f = StartFleet(100);
  ASSERT_NE(f, nullptr);
  std::string list = Path("domains.txt");
  ASSERT_TRUE(f->WriteDomainList(list).ok());
  RunResult r = RunMxray(ScanArgs(
      *f, {"--allow-private", "--port-map", f->smtp_port_map(), "--ports", "25", "--ehlo-name",
           "cli.mxray.test", "--banner-timeout-ms", "1000", "--command-timeout-ms", "1000", list}));
  ASSERT_TRUE(r.exited) << r;
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(ValidLines(r.out), SizeIs(f->population().size()));
  // The JSON keeps the logical port whatever was dialled.
  EXPECT_THAT(r.out, testing::HasSubstr("\"port\":25,\"state\":\"open\""));
  EXPECT_THAT(r.out, testing::Not(testing::HasSubstr("\"port\":587")));
  EXPECT_GT(f->smtp_stats().TotalConnections(), 0u);
}

// The TLS flags reach the probe: --ca-file decides trust, --tls-chain adds the PEM chain,
// --starttls never keeps the conversation in plaintext.
TEST_F(MxrayCliTest, TlsFlagsDecideTrustChainAndStarttls) {
  std::unique_ptr<fleet::Fleet> f = StartFleet(100);
  ASSERT_NE(f, nullptr);
  std::string list = Path("tls.txt");
  {
    std::ofstream out(list);
    out << NamesOf(*f, {fleet::DomainKind::kTlsRsa});
  }
  std::vector<std::string> common = {
      "--allow-private",  "--port-map", f->smtp_port_map(), "--ports", "25",
      "--tls-timeout-ms", "2000"};
  auto run = [&](std::vector<std::string> more) {
    std::vector<std::string> args = common;
    args.insert(args.end(), more.begin(), more.end());
    args.push_back(list);
    RunResult r = RunMxray(ScanArgs(*f, args));
    EXPECT_TRUE(r.exited) << r;
    EXPECT_EQ(r.exit_code, 0) << r;
    EXPECT_THAT(ValidLines(r.out), SizeIs(1));
    return r.out;
  };

  std::string trusted = run({"--ca-file", f->ca_file(), "--tls-chain"});
  EXPECT_THAT(trusted, HasSubstr(R"("outcome":"ok")"));
  EXPECT_THAT(trusted, HasSubstr(R"("version":"TLSv1.3")"));
  EXPECT_THAT(trusted,
              HasSubstr(R"("verify":{"status":"ok","hostname_match":true,"trusted":true)"));
  EXPECT_THAT(trusted, HasSubstr(R"("chain_pem":"-----BEGIN CERTIFICATE-----\n)"));
  EXPECT_THAT(trusted, HasSubstr(R"("findings":[])"));

  // The system bundle does not hold the fleet's test root.
  std::string system = run({});
  EXPECT_THAT(system, HasSubstr(R"("verify":{"status":"untrusted")"));
  EXPECT_THAT(system, HasSubstr(R"("id":"cert_untrusted")"));
  EXPECT_THAT(system, Not(HasSubstr("chain_pem")));

  std::string plain = run({"--starttls", "never"});
  EXPECT_THAT(plain, HasSubstr(R"("outcome":"ok")"));
  EXPECT_THAT(plain, Not(HasSubstr(R"("tls":)")));
  EXPECT_THAT(plain, Not(HasSubstr(R"("starttls":{)")));
}

TEST_F(MxrayCliTest, BadDnsblZoneOrProfileIsRejected) {
  ExpectRejected(RunMxray({"scan", "--resolver", "127.0.0.1:53", "--dnsbl", "zen.test=nope"},
                          {.stdin_data = "a.test\n"}),
                 {"--dnsbl", "zen.test=nope"});
  ExpectRejected(RunMxray({"scan", "--resolver", "127.0.0.1:53", "--dnsbl", "nodots"},
                          {.stdin_data = "a.test\n"}),
                 {"--dnsbl", "nodots"});
}

TEST_F(MxrayCliTest, ReputationFlagsTurnLookupsOnAndOff) {
  std::unique_ptr<fleet::Fleet> f = StartFleet(100);
  ASSERT_NE(f, nullptr);
  std::string list = Path("rep.txt");
  {
    std::ofstream out(list);
    out << NamesOf(*f, {fleet::DomainKind::kPlain});
  }
  RunResult off = RunMxray(ScanArgs(*f, {"--ports", "none", "--dnsbl", "none", "--no-ptr", list}));
  EXPECT_EQ(off.exit_code, 0) << off;
  EXPECT_THAT(ValidLines(off.out), SizeIs(1));
  EXPECT_THAT(off.out, Not(HasSubstr(R"("dnsbl")")));
  EXPECT_THAT(off.out, Not(HasSubstr(R"("ptr")")));

  RunResult on = RunMxray(ScanArgs(*f, {"--ports", "none", "--dnsbl",
                                        "zen.dnsbl.fleet.test=spamhaus-zen", "--dnsbl-txt", list}));
  EXPECT_EQ(on.exit_code, 0) << on;
  EXPECT_THAT(ValidLines(on.out), SizeIs(1));
  EXPECT_THAT(on.out,
              HasSubstr(R"("dnsbl":[{"zone":"zen.dnsbl.fleet.test","status":"not_listed"})"));
  EXPECT_THAT(on.out, HasSubstr(R"("fcrdns":true)"));
}

TEST_F(MxrayCliTest, BadStarttlsModeIsRejected) {
  ExpectRejected(RunMxray({"scan", "--starttls", "sometimes"}, {.stdin_data = "a.test\n"}),
                 {"--starttls"});
}

TEST_F(MxrayCliTest, MissingCaFileIsASetupErrorNamingThePath) {
  std::string missing = Path("no-such-ca.pem");
  RunResult r = RunMxray({"scan", "--resolver", "127.0.0.1:53", "--ca-file", missing},
                         {.stdin_data = "a.test\n"});
  ExpectRejected(r, {missing});
}

TEST_F(MxrayCliTest, ScanOfAFleetWritesOneValidExpectedLinePerDomain) {
  std::unique_ptr<fleet::Fleet> f = StartFleet(300);
  ASSERT_NE(f, nullptr);
  std::string list = Path("domains.txt");
  ASSERT_TRUE(f->WriteDomainList(list).ok());

  RunResult r = RunMxray(ScanArgs(*f, {list}));
  ASSERT_TRUE(r.exited) << r;
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.err, IsEmpty()) << "no summary unless asked when stderr is not a terminal";

  std::vector<OutputLine> lines = ValidLines(r.out);
  EXPECT_THAT(lines, SizeIs(f->population().size()));
  std::map<std::string, int> seen;
  for (const OutputLine& line : lines) ++seen[line.input];
  for (size_t i = 0; i < f->population().size(); ++i) {
    EXPECT_EQ(seen[f->population().DomainName(i)], 1) << f->population().DomainName(i);
  }
  ExpectMatchesFleet(*f, lines);
}

// The lines a small mixed stdin gives: the comments and blank lines are skipped, a valid name in
// odd case with a trailing dot is normalized, invalid lines each get an invalid_input line.
void ExpectStdinLines(const std::vector<OutputLine>& lines, const std::string& plain,
                      const std::string& null_mx) {
  ASSERT_THAT(lines, SizeIs(4));
  std::map<std::string, OutputLine> by_input;
  for (const OutputLine& line : lines) by_input[line.input] = line;
  std::string shouted = plain;
  for (char& c : shouted) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  shouted += ".";
  ASSERT_TRUE(by_input.contains(shouted));
  EXPECT_EQ(by_input[shouted].domain, plain);
  EXPECT_EQ(by_input[shouted].status, "ok");
  ASSERT_TRUE(by_input.contains(null_mx));
  EXPECT_EQ(by_input[null_mx].status, "null_mx");
  for (const char* bad : {"foo..bar", "not a domain"}) {
    ASSERT_TRUE(by_input.contains(bad)) << bad;
    EXPECT_EQ(by_input[bad].status, "invalid_input");
    EXPECT_FALSE(by_input[bad].domain.has_value());
    EXPECT_THAT(by_input[bad].error, Not(IsEmpty()));
  }
  EXPECT_EQ(by_input["foo..bar"].error, "empty_label");  // as docs/output.md shows
}

std::string MixedStdin(const std::string& plain, const std::string& null_mx) {
  std::string shouted = plain;
  for (char& c : shouted) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  return "# a comment\n\n   \t \n  " + shouted + ".  \n   # an indented comment\nfoo..bar\n" +
         null_mx + "\r\nnot a domain\n#\n";
}

TEST_F(MxrayCliTest, ScanReadsStdinGivenAsDash) {
  std::unique_ptr<fleet::Fleet> f = StartFleet(100);
  ASSERT_NE(f, nullptr);
  std::string plain =
      f->population().DomainName(*f->population().FirstOfKind(fleet::DomainKind::kPlain));
  std::string null_mx =
      f->population().DomainName(*f->population().FirstOfKind(fleet::DomainKind::kNullMx));
  RunResult r = RunMxray(ScanArgs(*f, {"-"}), {.stdin_data = MixedStdin(plain, null_mx)});
  ASSERT_TRUE(r.exited) << r;
  EXPECT_EQ(r.exit_code, 0) << r;
  ExpectStdinLines(ValidLines(r.out), plain, null_mx);
}

TEST_F(MxrayCliTest, ScanWithoutFileReadsStdin) {
  std::unique_ptr<fleet::Fleet> f = StartFleet(100);
  ASSERT_NE(f, nullptr);
  std::string plain =
      f->population().DomainName(*f->population().FirstOfKind(fleet::DomainKind::kPlain));
  std::string null_mx =
      f->population().DomainName(*f->population().FirstOfKind(fleet::DomainKind::kNullMx));
  RunResult r = RunMxray(ScanArgs(*f), {.stdin_data = MixedStdin(plain, null_mx)});
  ASSERT_TRUE(r.exited) << r;
  EXPECT_EQ(r.exit_code, 0) << r;
  ExpectStdinLines(ValidLines(r.out), plain, null_mx);
}

TEST_F(MxrayCliTest, InputOfOnlyCommentsAndBlankLinesWritesNothing) {
  RunResult r = RunMxray({"scan", "--resolver", "127.0.0.1:53"},
                         {.stdin_data = "# nothing here\n\n   \n\t# nor here\n"});
  ASSERT_TRUE(r.exited) << r;
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(r.out, IsEmpty());
}

TEST_F(MxrayCliTest, OutputFileIsAppendedToAndStdoutStaysEmpty) {
  std::unique_ptr<fleet::Fleet> f = StartFleet(100);
  ASSERT_NE(f, nullptr);
  std::string list = Path("domains.txt"), out = Path("out.jsonl");
  ASSERT_TRUE(f->WriteDomainList(list).ok());

  RunResult first = RunMxray(ScanArgs(*f, {"-o", out, list}));
  ASSERT_TRUE(first.exited) << first;
  EXPECT_EQ(first.exit_code, 0) << first;
  EXPECT_THAT(first.out, IsEmpty());
  std::string after_first = ReadFile(out);
  EXPECT_THAT(ValidLines(after_first), SizeIs(100));

  RunResult second = RunMxray(ScanArgs(*f, {"--output", out, list}));
  ASSERT_TRUE(second.exited) << second;
  EXPECT_EQ(second.exit_code, 0) << second;
  EXPECT_THAT(second.out, IsEmpty());
  std::string after_second = ReadFile(out);
  EXPECT_TRUE(after_second.starts_with(after_first)) << "the first run's lines were not kept";
  std::vector<OutputLine> lines = ValidLines(after_second);
  EXPECT_THAT(lines, SizeIs(200));
  ExpectMatchesFleet(*f, lines);
}

TEST_F(MxrayCliTest, UnwritableOutputFileFailsBeforeWritingAnything) {
  std::string sub = Path("subdir");
  ASSERT_TRUE(std::filesystem::create_directory(sub));
  RunResult r =
      RunMxray({"scan", "--resolver", "127.0.0.1:53", "-o", sub}, {.stdin_data = "a.test\n"});
  ExpectRejected(r, {sub});
  EXPECT_EQ(r.exit_code, 1) << r;
}

TEST_F(MxrayCliTest, SeveralInputFilesAreAllReadInOrder) {
  std::unique_ptr<fleet::Fleet> f = StartFleet(60);
  ASSERT_NE(f, nullptr);
  const fleet::Population& p = f->population();
  // Three sources, stdin between two files; no kind that waits for timeouts.
  std::vector<std::string> names[3];
  std::string texts[3];
  for (size_t i = 0, n = 0; i < p.size() && n < 30; ++i) {
    std::string_view status = p.Expect(i).status;
    if (status == "dns_timeout") continue;
    names[n % 3].push_back(p.DomainName(i));
    texts[n % 3] += p.DomainName(i) + "\n";
    ++n;
  }
  std::string a = Path("a.txt"), c = Path("c.txt");
  WriteFile(a, texts[0]);
  WriteFile(c, "# the last file\n" + texts[2]);

  // One domain in flight at a time: completion order is input order.
  RunResult r = RunMxray(ScanArgs(*f, {"--concurrency", "1", a, "-", c}), {.stdin_data = texts[1]});
  ASSERT_TRUE(r.exited) << r;
  EXPECT_EQ(r.exit_code, 0) << r;
  std::vector<OutputLine> lines = ValidLines(r.out);
  std::vector<std::string> inputs, want;
  for (const OutputLine& line : lines) inputs.push_back(line.input);
  for (const auto& part : names) want.insert(want.end(), part.begin(), part.end());
  EXPECT_THAT(inputs, ElementsAreArray(want));
  ExpectMatchesFleet(*f, lines);
}

TEST_F(MxrayCliTest, ResolverGivenTwiceOrCommaSeparatedIsAccepted) {
  // Two fleets with the same seed answer identically: either may be asked.
  std::unique_ptr<fleet::Fleet> f = StartFleet(fleet::kDomainKindCount);
  std::unique_ptr<fleet::Fleet> twin = StartFleet(fleet::kDomainKindCount);
  ASSERT_NE(f, nullptr);
  ASSERT_NE(twin, nullptr);
  std::string list = Path("domains.txt");
  ASSERT_TRUE(f->WriteDomainList(list).ok());

  for (const std::vector<std::string>& resolver_flags :
       {std::vector<std::string>{"--resolver", f->dns_server(), "--resolver", twin->dns_server()},
        std::vector<std::string>{"--resolver", f->dns_server() + "," + twin->dns_server()}}) {
    std::vector<std::string> args = {"scan"};
    args.insert(args.end(), resolver_flags.begin(), resolver_flags.end());
    args.insert(args.end(), kFastDns.begin(), kFastDns.end());
    args.push_back(list);
    RunResult r = RunMxray(args);
    ASSERT_TRUE(r.exited) << r;
    EXPECT_EQ(r.exit_code, 0) << r;
    std::vector<OutputLine> lines = ValidLines(r.out);
    EXPECT_THAT(lines, SizeIs(fleet::kDomainKindCount));
    ExpectMatchesFleet(*f, lines);
  }
}

TEST_F(MxrayCliTest, SummaryFlagWritesOneLineOnStderr) {
  std::unique_ptr<fleet::Fleet> f = StartFleet(50);
  ASSERT_NE(f, nullptr);
  std::string input = NamesOf(*f, {fleet::DomainKind::kPlain, fleet::DomainKind::kNxdomain});

  RunResult with = RunMxray(ScanArgs(*f, {"--summary"}), {.stdin_data = input});
  ASSERT_TRUE(with.exited) << with;
  EXPECT_EQ(with.exit_code, 0) << with;
  EXPECT_THAT(SplitLines(with.err), SizeIs(1)) << with;
  EXPECT_THAT(with.err, HasSubstr("2 domains")) << with;
  EXPECT_THAT(ValidLines(with.out), SizeIs(2));

  RunResult without = RunMxray(ScanArgs(*f, {"--no-summary"}), {.stdin_data = input});
  ASSERT_TRUE(without.exited) << without;
  EXPECT_EQ(without.exit_code, 0) << without;
  EXPECT_THAT(without.err, IsEmpty());
  EXPECT_THAT(ValidLines(without.out), SizeIs(2));
}

// ---------------------------------------------------------------------------------------------
// demo, and output that cannot be written.

TEST_F(MxrayCliTest, DemoWritesOneValidLinePerDomainAndASummary) {
  RunResult r = RunMxray({"demo", "--domains", "200"});
  ASSERT_TRUE(r.exited) << r;
  EXPECT_EQ(r.exit_code, 0) << r;
  EXPECT_THAT(ValidLines(r.out), SizeIs(200));
  EXPECT_THAT(r.err, HasSubstr("200 domains")) << r;
}

TEST_F(MxrayCliTest, OutputToAClosedPipeFailsWithoutDyingOfSigpipe) {
  std::unique_ptr<fleet::Fleet> f = StartFleet(300);
  ASSERT_NE(f, nullptr);
  std::string list = Path("domains.txt");
  ASSERT_TRUE(f->WriteDomainList(list).ok());
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0) << strerror(errno);
  close(pipe_fds[0]);  // like `mxray scan ... | head -0` after head is gone

  RunResult r = RunMxray(ScanArgs(*f, {list}), {.stdout_fd = pipe_fds[1]});
  close(pipe_fds[1]);
  ASSERT_TRUE(r.exited) << r;
  EXPECT_EQ(r.exit_code, 1) << r;  // README: 1 when the output fails mid-run
  EXPECT_THAT(r.err, Not(IsEmpty())) << r;
}

TEST_F(MxrayCliTest, DemoOutputToAClosedPipeFailsWithoutDyingOfSigpipe) {
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0) << strerror(errno);
  close(pipe_fds[0]);
  RunResult r = RunMxray({"demo", "--domains", "200"}, {.stdout_fd = pipe_fds[1]});
  close(pipe_fds[1]);
  ASSERT_TRUE(r.exited) << r;
  EXPECT_EQ(r.exit_code, 1) << r;
}

}  // namespace
}  // namespace mxray
