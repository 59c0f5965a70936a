#include "backend/fork_child.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sealkit::test::backend {
namespace {

bool write_all(int fd, const void* data, std::size_t len) {
  const char* p = static_cast<const char*>(data);
  while (len > 0) {
    ssize_t n = ::write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= static_cast<std::size_t>(n);
  }
  return true;
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

}  // namespace

ChildOutput run_child(const std::function<std::vector<long>(std::string& problem)>& body) {
  ChildOutput out;
  int fds[2];
  if (::pipe(fds) != 0) {
    out.problem = "pipe failed";
    return out;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    out.problem = "fork failed";
    return out;
  }
  if (pid == 0) {
    ::close(fds[0]);
    std::string problem;
    std::vector<long> values = body(problem);
    // Message: 'V' + values, or 'P' + text.
    bool ok;
    if (problem.empty()) {
      ok = write_all(fds[1], "V", 1) && write_all(fds[1], values.data(), values.size() * sizeof(long));
    } else {
      ok = write_all(fds[1], "P", 1) && write_all(fds[1], problem.data(), problem.size());
    }
    ::_exit(ok && problem.empty() ? 0 : 1);
  }
  ::close(fds[1]);
  std::string data = read_all(fds[0]);
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  out.exited_cleanly = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (!data.empty() && data[0] == 'P') {
    out.problem = data.substr(1);
  } else if (!data.empty() && data[0] == 'V') {
    out.values.resize((data.size() - 1) / sizeof(long));
    std::memcpy(out.values.data(), data.data() + 1, out.values.size() * sizeof(long));
  }
  if (!out.exited_cleanly && out.problem.empty()) {
    out.problem = WIFSIGNALED(status) ? "child killed by signal " + std::to_string(WTERMSIG(status))
                                      : "child exited with " + std::to_string(WEXITSTATUS(status));
  }
  return out;
}

int in_grandchild(const std::function<int()>& op) {
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) ::_exit(op() & 0xff);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace sealkit::test::backend
