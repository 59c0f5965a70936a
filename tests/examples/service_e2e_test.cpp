// The real sealed_service binary, started on 127.0.0.1 with port 0, talked to
// over TCP; and the kernel's own view (/proc/PID/smaps) of the pages the
// running service says hold its configuration and dispatch table.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/proc_maps.hpp"
#include "sealkit/sealkit.h"

namespace {

// A bound for a hung service, so that a broken build fails instead of hanging;
// never a measurement.
constexpr int kReadBoundMs = 20000;

// Line-at-a-time reader over a pipe or socket.
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  // The next line without its newline; nullopt at end of input or on timeout.
  std::optional<std::string> next() {
    for (;;) {
      if (auto nl = buf_.find('\n'); nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, kReadBoundMs) <= 0) return std::nullopt;
      char chunk[1024];
      ssize_t n = ::read(fd_, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      buf_.append(chunk, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_;
  std::string buf_;
};

std::string write_temp_file(const std::string& text) {
  std::string path = ::testing::TempDir() + "sealed_service_XXXXXX";
  int fd = ::mkstemp(path.data());
  EXPECT_GE(fd, 0) << strerror(errno);
  EXPECT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fd);
  return path;
}

// The service as a child process: its stdout and stderr on one pipe, its
// stdin from `stdin_path` (or /dev/null).
struct Service {
  pid_t pid = -1;
  int output = -1;

  static Service start(const std::vector<std::string>& args, const char* stdin_path = "/dev/null") {
    Service s;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return s;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, stdin_path, O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    std::vector<char*> argv{const_cast<char*>(SEALED_SERVICE_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    if (posix_spawn(&s.pid, SEALED_SERVICE_BINARY, &actions, nullptr, argv.data(), environ) != 0) s.pid = -1;
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    s.output = fds[0];
    return s;
  }
  // The exit status; kills the service first if it is still running when `kill_first`.
  int wait(bool kill_first = false) {
    if (kill_first) ::kill(pid, SIGKILL);
    int status = -1;
    ::waitpid(pid, &status, 0);
    ::close(output);
    pid = -1;
    return status;
  }
  Service() = default;
  Service(Service&& o) noexcept : pid(std::exchange(o.pid, -1)), output(std::exchange(o.output, -1)) {}
  Service& operator=(Service&& o) noexcept {
    std::swap(pid, o.pid);
    std::swap(output, o.output);
    return *this;
  }
  ~Service() {
    if (pid > 0) wait(true);
  }
};

int connect_loopback(unsigned port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// One request line sent, one answer line read.
std::string ask(int fd, LineReader& reader, const std::string& request) {
  const std::string line = request + "\n";
  if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) return "<send failed>";
  return reader.next().value_or("<no answer>");
}

class SealedServiceE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string_view(sealkit_backend()) == "none") GTEST_SKIP() << "this kernel cannot seal (no mseal)";
  }

  // Starts the service with `config` and reads its start-up output up to the
  // "listening on" line. Fills port_ and the sealed addresses it logs.
  void start(const std::string& config) {
    config_path_ = write_temp_file(config);
    service_ = Service::start({"--config", config_path_});
    ASSERT_GT(service_.pid, 0);
    LineReader out(service_.output);
    while (auto line = out.next()) {
      unsigned long config_addr = 0, table_addr = 0;
      if (std::sscanf(line->c_str(), "sealed_service: debug: configuration at %lx and dispatch table at %lx",
                      &config_addr, &table_addr) == 2) {
        sealed_addresses_ = {config_addr, table_addr};
      }
      if (std::sscanf(line->c_str(), "listening on 127.0.0.1:%u", &port_) == 1) return;
    }
    FAIL() << "the service never said where it listens";
  }
  void TearDown() override { ::unlink(config_path_.c_str()); }

  Service service_;
  std::string config_path_;
  unsigned port_ = 0;
  std::vector<unsigned long> sealed_addresses_;
};

constexpr const char* kTestConfig =
    "listen_port = 0\nlog_level = debug\nallowed_commands = PING, GET, SET, STATS, SHUTDOWN\nmax_line_bytes = 64\n";

TEST_F(SealedServiceE2E, ServesRequestsOverLoopbackUntilShutdown) {
  ASSERT_NO_FATAL_FAILURE(start(kTestConfig));
  int fd = connect_loopback(port_);
  ASSERT_GE(fd, 0) << strerror(errno);
  LineReader in(fd);
  int sent = 0;
  auto request = [&](const std::string& r) {
    ++sent;
    return ask(fd, in, r);
  };
  EXPECT_EQ(request("PING"), "PONG");
  EXPECT_EQ(request("SET color blue"), "OK");
  EXPECT_EQ(request("GET color"), "VALUE blue");
  EXPECT_EQ(request("GET size"), "ERR no such key");
  EXPECT_EQ(request("DELETE color"), "ERR unknown command");
  const std::string stats = request("STATS");  // counts itself
  EXPECT_EQ(stats, "requests=" + std::to_string(sent) + " keys=1 config_sealed=yes");
  EXPECT_EQ(ask(fd, in, "QUIT"), "BYE");
  EXPECT_EQ(in.next(), std::nullopt) << "QUIT should close the connection";
  ::close(fd);

  // A second client: too long a line ends its session, the service goes on.
  fd = connect_loopback(port_);
  ASSERT_GE(fd, 0) << strerror(errno);
  LineReader in2(fd);
  EXPECT_EQ(ask(fd, in2, "SET k " + std::string(100, 'x')), "ERR line too long");
  EXPECT_EQ(in2.next(), std::nullopt);
  ::close(fd);

  fd = connect_loopback(port_);
  ASSERT_GE(fd, 0) << strerror(errno);
  LineReader in3(fd);
  EXPECT_EQ(ask(fd, in3, "GET color"), "VALUE blue") << "the store should outlive a session";
  EXPECT_EQ(ask(fd, in3, "SHUTDOWN"), "BYE");
  ::close(fd);
  const int status = service_.wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

TEST_F(SealedServiceE2E, KernelShowsTheRunningServicesTablesSealedAndReadOnly) {
  ASSERT_NO_FATAL_FAILURE(start(kTestConfig));
  ASSERT_EQ(sealed_addresses_.size(), 2u) << "the service logged no sealed addresses at debug level";
  auto smaps = sealkit::core::read_proc_file(("/proc/" + std::to_string(service_.pid) + "/smaps").c_str());
  ASSERT_TRUE(smaps) << strerror(errno);
  for (unsigned long addr : sealed_addresses_) {
    bool found = false;
    sealkit::core::for_each_smaps_entry(*smaps, [&](const sealkit::core::SmapsEntry& e) {
      if (!e.map.range.contains(addr)) return true;
      found = true;
      EXPECT_TRUE(e.has_vmflags);
      EXPECT_TRUE(e.sealed) << "no 'sl' in VmFlags of the mapping at " << std::hex << addr;
      EXPECT_FALSE(e.map.write) << "the mapping at " << std::hex << addr << " is writable";
      return false;
    });
    EXPECT_TRUE(found) << "nothing mapped at " << std::hex << addr;
  }
}

TEST_F(SealedServiceE2E, RefusesCommandsTheConfigurationDoesNotList) {
  ASSERT_NO_FATAL_FAILURE(start("listen_port = 0\nallowed_commands = PING\n"));
  int fd = connect_loopback(port_);
  ASSERT_GE(fd, 0) << strerror(errno);
  LineReader in(fd);
  EXPECT_EQ(ask(fd, in, "PING"), "PONG");
  EXPECT_EQ(ask(fd, in, "SET a b"), "ERR not allowed: SET");
  EXPECT_EQ(ask(fd, in, "SHUTDOWN"), "ERR not allowed: SHUTDOWN");
  ::close(fd);
}

TEST(SealedServiceCommandLine, AnswersRequestsOnStdin) {
  if (std::string_view(sealkit_backend()) == "none") GTEST_SKIP() << "this kernel cannot seal: the service refuses to run";
  const std::string config = write_temp_file("allowed_commands = PING, STATS\n");
  const std::string input = write_temp_file("PING\nSTATS\nQUIT\nPING\n");
  Service s = Service::start({"--config", config, "--stdin"}, input.c_str());
  ASSERT_GT(s.pid, 0);
  LineReader out(s.output);
  std::vector<std::string> lines;
  while (auto line = out.next()) lines.push_back(*line);
  const int status = s.wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  EXPECT_EQ(lines, (std::vector<std::string>{"PONG", "requests=2 keys=0 config_sealed=yes", "BYE"}));
  ::unlink(config.c_str());
  ::unlink(input.c_str());
}

TEST(SealedServiceCommandLine, BadConfigurationExitsWith2AndNamesTheProblem) {
  const std::string config = write_temp_file("listen_port = 0\nallowed_commands = PING, FETCH\n");
  Service s = Service::start({"--config", config});
  ASSERT_GT(s.pid, 0);
  LineReader out(s.output);
  std::vector<std::string> lines;
  while (auto line = out.next()) lines.push_back(*line);
  const int status = s.wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << "status " << status;
  EXPECT_EQ(lines, (std::vector<std::string>{"sealed_service: error: " + config +
                                             ": allowed_commands: unknown command 'FETCH'"}));
  ::unlink(config.c_str());
}

TEST(SealedServiceCommandLine, MissingConfigurationIsAUsageError) {
  Service s = Service::start({});
  ASSERT_GT(s.pid, 0);
  LineReader out(s.output);
  EXPECT_EQ(out.next(), "usage: sealed_service --config FILE [--stdin]");
  const int status = s.wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << "status " << status;
}

}  // namespace
