#include "cli/machine/command.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/read_fd.hpp"

namespace sealkit::cli::machine {

namespace {

// The most of a program's output kept: the programs run here (ldconfig,
// ldconfig -p at about 100 bytes per library, the canaries) print far less.
constexpr std::size_t kMaxOutput = std::size_t{64} << 20;

// A memfd the program wrote, from its start; "" when it cannot be read.
std::string read_all(int fd) {
  if (::lseek(fd, 0, SEEK_SET) != 0) return {};
  return core::read_fd(fd, kMaxOutput).value_or(std::string());
}

}  // namespace

bool run_command(const std::vector<std::string>& argv, Ran& out, std::string& error, const RunAs& as,
                 unsigned timeout_seconds, int* exec_errno) {
  out = {};
  if (exec_errno) *exec_errno = 0;
  const int out_fd = ::memfd_create("sealkit-out", MFD_CLOEXEC);
  const int err_fd = ::memfd_create("sealkit-err", MFD_CLOEXEC);
  int report[2] = {-1, -1};  // execve's errno, when it fails
  if (out_fd < 0 || err_fd < 0 || ::pipe2(report, O_CLOEXEC) != 0) {
    error = std::string("cannot capture the output of ") + argv[0] + ": " + std::strerror(errno);
    for (int fd : {out_fd, err_fd, report[0], report[1]})
      if (fd >= 0) ::close(fd);
    return false;
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  static char path_env[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
  static char lang_env[] = "LC_ALL=C";
  char* envp[] = {path_env, lang_env, nullptr};

  const pid_t pid = ::fork();
  if (pid < 0) {
    error = std::string("fork: ") + std::strerror(errno);
    for (int fd : {out_fd, err_fd, report[0], report[1]}) ::close(fd);
    return false;
  }
  if (pid == 0) {
    // Only async-signal-safe calls from here: the parent may have threads.
    int e = 0;
    const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null < 0 || ::dup2(null, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) e = errno;
    if (e == 0 && as.switch_user &&
        (::setgroups(0, nullptr) != 0 || ::setgid(as.gid) != 0 || ::setuid(as.uid) != 0))
      e = errno;
    ::signal(SIGPIPE, SIG_DFL);
    // Whatever this process holds open, the program does not get (report[1] closes at exec too).
    ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    if (e == 0) {
      ::alarm(timeout_seconds);
      // report[1] is close-on-exec like every other descriptor above 2.
      ::execve(args[0], args.data(), envp);
      e = errno;
    }
    (void)!::write(report[1], &e, sizeof e);
    ::_exit(127);
  }
  ::close(report[1]);
  int e = 0;
  const bool exec_failed = ::read(report[0], &e, sizeof e) == static_cast<ssize_t>(sizeof e);
  ::close(report[0]);
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  out.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  out.out = read_all(out_fd);
  out.err = read_all(err_fd);
  ::close(out_fd);
  ::close(err_fd);
  if (exec_failed) {
    if (exec_errno) *exec_errno = e;
    error = std::string("cannot run ") + argv[0] + ": " + std::strerror(e);
    return false;
  }
  return true;
}

std::string find_program(const std::vector<std::string>& candidates) {
  for (const std::string& c : candidates) {
    if (::access(c.c_str(), X_OK) == 0) return c;
  }
  return {};
}

}  // namespace sealkit::cli::machine
