#include "backend/seccomp/existing_filter.hpp"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>

#include "backend/seccomp/mm_sharers.hpp"

namespace sealkit::backend::seccomp {

namespace {

constexpr int kChildCallsReturned = 0;
constexpr int kChildCallRefused = 1;
constexpr int kChildCannotLookForSharers = 2;

// The kernel's struct sigaction for rt_sigaction: glibc's sigaction() may be
// interposed (a sanitizer's, with locks another thread held at the fork).
struct KernelSigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)();
  std::uint64_t mask;
};

// In the child: nothing but raw system calls, then exit. SIGSYS goes back to
// its default first, so that a filter's SECCOMP_RET_TRAP ends the child
// instead of running a handler the program installed.
[[noreturn]] void child() {
  KernelSigaction dfl{SIG_DFL, 0, nullptr, 0};
  ::syscall(SYS_rt_sigaction, SIGSYS, &dfl, nullptr, sizeof dfl.mask);
  std::uint32_t action = SECCOMP_RET_ERRNO;
  const long avail = ::syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action);
  // What sealing does, with an empty program: EINVAL, nothing installed.
  sock_fprog empty{0, nullptr};
  const long install = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &empty);
  const bool refused = avail != 0 || (install != 0 && errno != EINVAL);
  // Every call of the look for tasks sharing the address space, as a seal
  // makes them (the child shares nothing: it only has to survive them).
  const bool looked = find_address_space_sharer(false).verdict == SharerVerdict::kNone;
  ::syscall(SYS_exit_group, refused ? kChildCallRefused : looked ? kChildCallsReturned : kChildCannotLookForSharers);
  __builtin_unreachable();
}

}  // namespace

const char* existing_filter_refuses_seccomp() noexcept {
  if (::prctl(PR_GET_SECCOMP) != SECCOMP_MODE_FILTER) return nullptr;
  const int saved = errno;
  // fork without fork(): no pthread_atfork handlers of the program (or of
  // this library) run, and exit signal 0 rather than SIGCHLD, so that a
  // program reaping every child with waitpid(-1, ...) does not take this one
  // (only __WALL waits for it).
  const long pid = ::syscall(SYS_clone, 0L, 0L, 0L, 0L, 0L);
  if (pid == 0) child();
  const char* why = nullptr;
  if (pid < 0) {
    why = "a seccomp filter is in place and a child to test seccomp(2) under it could not be made";
  } else {
    int status = 0;
    long r;
    do {
      r = ::waitpid(static_cast<pid_t>(pid), &status, __WALL);
    } while (r < 0 && errno == EINTR);
    if (r < 0)
      why = "a seccomp filter is in place and the child that tested seccomp(2) under it was lost";
    else if (WIFSIGNALED(status))
      why = "the seccomp filter already in place (a service manager's or container's) kills seccomp(2) calls, or "
            "kcmp(2) or getdents64(2), which finding tasks that share the address space needs";
    else if (WIFEXITED(status) && WEXITSTATUS(status) == kChildCannotLookForSharers)
      why = "under the seccomp filter already in place, tasks sharing the address space cannot be looked for "
            "(/proc not listed, or not this PID namespace's): sealing by filter cannot rule them out";
    else if (!WIFEXITED(status) || WEXITSTATUS(status) != kChildCallsReturned)
      why = "the seccomp filter already in place (a service manager's or container's) refuses seccomp(2) calls";
  }
  errno = saved;
  return why;
}

}  // namespace sealkit::backend::seccomp
