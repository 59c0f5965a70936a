#include "backend/ask_in_child.hpp"

#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>

namespace sealkit::backend {

namespace {

// The kernel's struct sigaction for rt_sigaction: glibc's sigaction() may be
// interposed (a sanitizer's, with locks another thread held at the fork).
struct KernelSigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)();
  std::uint64_t mask;
};

}  // namespace

bool under_seccomp_filter() noexcept {
  const int saved = errno;
  const bool filtered = ::prctl(PR_GET_SECCOMP) == SECCOMP_MODE_FILTER;
  errno = saved;
  return filtered;
}

int ask_in_child(int (*question)()) noexcept {
  const int saved = errno;
  const long pid = ::syscall(SYS_clone, 0L, 0L, 0L, 0L, 0L);
  if (pid == 0) {
    // Not dumpable (a flag of the child's own copy of the address space): a
    // filter's SIGSYS would otherwise write a core file, a copy of the
    // caller's memory, for a process that never crashed.
    ::syscall(SYS_prctl, PR_SET_DUMPABLE, 0L, 0L, 0L, 0L);
    KernelSigaction dfl{SIG_DFL, 0, nullptr, 0};
    ::syscall(SYS_rt_sigaction, SIGSYS, &dfl, nullptr, sizeof dfl.mask);
    ::syscall(SYS_exit_group, question() & 0xff);
    __builtin_unreachable();
  }
  int answer = kNoChild;
  if (pid > 0) {
    int status = 0;
    long r;
    do r = ::waitpid(static_cast<pid_t>(pid), &status, __WALL);
    while (r < 0 && errno == EINTR);
    if (r == pid) answer = WIFSIGNALED(status) ? -WTERMSIG(status) : WIFEXITED(status) ? WEXITSTATUS(status) : kNoChild;
  }
  errno = saved;
  return answer;
}

}  // namespace sealkit::backend
