#include "audit/seccomp_filters.hpp"

#include <fcntl.h>
#include <linux/audit.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>
#include <utility>

#include "core/bpf_eval.hpp"
#include "core/proc_maps.hpp"
#include "core/proc_status.hpp"

namespace sealkit::audit {

using namespace core;

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kCapSysAdmin = 21;  // include/uapi/linux/capability.h

// Targets whose stop did not come in time: still attached, with an interrupt pending.
std::vector<pid_t>& pending() {
  static std::vector<pid_t> p;
  return p;
}

// Detaches a stopped tracee, handing back the signal it stopped for (0 for
// an interrupt or job-control stop: a job-control stop then stays in force).
bool detach(pid_t pid, int wait_status) {
  const bool event_stop = (wait_status >> 16) == PTRACE_EVENT_STOP;
  const long sig = event_stop ? 0 : WSTOPSIG(wait_status);
  return ::ptrace(PTRACE_DETACH, pid, nullptr, reinterpret_cast<void*>(sig)) == 0;
}

enum class StopResult { kStopped, kGone, kTimeout, kError };

// Waits until the seized `pid` reports a stop, at most `timeout`. A ptrace
// stop sends the tracer SIGCHLD: with SIGCHLD blocked, sigtimedwait wakes the
// moment it comes, so the process is not left stopped while we sleep.
StopResult wait_for_stop(pid_t pid, std::chrono::microseconds timeout, int& status) {
  const auto deadline = Clock::now() + timeout;
  sigset_t chld, old;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  ::pthread_sigmask(SIG_BLOCK, &chld, &old);
  StopResult result = StopResult::kTimeout;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, __WALL | WNOHANG);
    if (r == pid) {
      result = WIFSTOPPED(status) ? StopResult::kStopped : StopResult::kGone;  // gone: exited meanwhile
      break;
    }
    if (r < 0 && errno != EINTR) {
      result = errno == ECHILD ? StopResult::kGone : StopResult::kError;
      break;
    }
    const auto left = deadline - Clock::now();
    if (left <= Clock::duration::zero()) break;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
    ::sigtimedwait(&chld, nullptr, &ts);  // a SIGCHLD, a timeout or EINTR: look again
  }
  // A SIGCHLD consumed here was for us (sealkit's audit has no other children).
  if (!sigismember(&old, SIGCHLD)) ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return result;
}

std::string errno_text(const char* what, int e) { return std::string(what) + ": " + std::strerror(e); }

// Reads every filter of the stopped `pid` into `out`; false with out.reason set.
bool read_all(pid_t pid, const FilterReadLimits& limits, ProcessFilters& out) {
  __ptrace_syscall_info info{};
  if (::ptrace(PTRACE_GET_SYSCALL_INFO, pid, reinterpret_cast<void*>(sizeof info), &info) > 0) out.arch = info.arch;
  std::vector<std::vector<sock_filter>> oldest_first;
  for (unsigned long index = 0;; ++index) {
    long n = ::ptrace(PTRACE_SECCOMP_GET_FILTER, pid, reinterpret_cast<void*>(index), nullptr);
    if (n < 0 && errno == ENOENT) break;
    if (n < 0) {
      const int e = errno;
      out.reason = e == EACCES      ? "PTRACE_SECCOMP_GET_FILTER refused: needs CAP_SYS_ADMIN and no filter on sealkit"
                   : e == EMEDIUMTYPE ? "filter " + std::to_string(index) + " is not a classic BPF program"
                   : e == EINVAL      ? "the kernel cannot hand out filters (CONFIG_CHECKPOINT_RESTORE off?)"
                                      : errno_text("PTRACE_SECCOMP_GET_FILTER", e);
      return false;
    }
    if (index >= limits.max_filters) {
      out.reason = "more than " + std::to_string(limits.max_filters) + " filters";
      return false;
    }
    if (n == 0 || n > BPF_MAXINSNS) {
      out.reason = "filter " + std::to_string(index) + " has " + std::to_string(n) + " instructions";
      return false;
    }
    std::vector<sock_filter> prog(static_cast<std::size_t>(n));
    long again = ::ptrace(PTRACE_SECCOMP_GET_FILTER, pid, reinterpret_cast<void*>(index), prog.data());
    if (again != n) {
      out.reason = "filter " + std::to_string(index) + " changed length between two reads";
      return false;
    }
    if (std::string why = core::bpf::check_seccomp_program(prog.data(), prog.size()); !why.empty()) {
      out.reason = "filter " + std::to_string(index) + " is malformed: " + why;
      return false;
    }
    out.instructions += prog.size();
    oldest_first.push_back(std::move(prog));
  }
  out.programs.assign(std::make_move_iterator(oldest_first.rbegin()), std::make_move_iterator(oldest_first.rend()));
  return true;
}

}  // namespace

const char* to_string(ProcessFilters::Status s) noexcept {
  switch (s) {
    case ProcessFilters::Status::kNone: return "none";
    case ProcessFilters::Status::kRead: return "read";
    case ProcessFilters::Status::kUnknown: return "unknown";
    case ProcessFilters::Status::kBusy: return "busy";
    case ProcessFilters::Status::kTimeout: return "timeout";
  }
  return "unknown";
}

std::string why_filters_unreadable() {
  std::string text;
  if (!read_status_file("/proc/self/status", text)) return errno_text("cannot read /proc/self/status", errno);
  auto caps = status_field(text, "CapEff");
  const unsigned long long eff = caps ? std::strtoull(std::string(*caps).c_str(), nullptr, 16) : 0;
  if (!(eff & (1ull << kCapSysAdmin))) return "needs CAP_SYS_ADMIN (run as root)";
  if (auto mode = status_number(text, "Seccomp"); mode && *mode != 0)
    return "sealkit itself runs under seccomp; the kernel refuses it the filters of others";
  return {};
}

ProcessFilters read_filters(pid_t pid, const SeccompStatus& status, const FilterReadLimits& limits) {
  finish_pending_detaches(std::chrono::microseconds(0));
  ProcessFilters out;
  if (status.mode != 2 || status.filters == 0) return out;  // nothing to read
  out.status = ProcessFilters::Status::kUnknown;
  if (status.tracer != 0) {
    out.reason = "already traced by pid " + std::to_string(status.tracer);
    return out;
  }
  if (status.state == 'Z' || status.state == 'X') {
    out.reason = "its main thread has exited";
    return out;
  }
  if (pid == ::getpid()) {
    out.reason = "sealkit itself";
    return out;
  }
  const auto granted = limits.budget ? limits.budget->grant(limits.stop_timeout, status.uid) : limits.stop_timeout;
  if (granted <= std::chrono::microseconds(0)) {
    const bool all_spent = limits.budget->grant(limits.stop_timeout) <= std::chrono::microseconds(0);
    out.status = ProcessFilters::Status::kTimeout;
    out.reason = all_spent ? "not read: the audit's time for waiting on processes (" +
                                 std::to_string(limits.budget->total().count() / 1000) + " ms) was spent before its turn"
                           : "not read: processes of uid " + std::to_string(status.uid) +
                                 " that did not stop in time used up their share of the audit's time for waiting (" +
                                 std::to_string(limits.budget->user_share().count() / 1000) + " ms)";
    return out;
  }
  if (::ptrace(PTRACE_SEIZE, pid, nullptr, nullptr) != 0) {
    const int e = errno;
    out.reason = e == ESRCH ? "exited" : e == EPERM ? "not traceable (traced by another, or not permitted)"
                                                    : errno_text("PTRACE_SEIZE", e);
    return out;
  }
  auto t_stopped = Clock::now();
  if (::ptrace(PTRACE_INTERRUPT, pid, nullptr, nullptr) != 0) {
    // Seized but not interrupted: it is running, so it cannot be detached
    // now; the pending list does, or the kernel when sealkit exits.
    out.reason = errno_text("PTRACE_INTERRUPT", errno);
    pending().push_back(pid);
    return out;
  }
  int wait_status = 0;
  const StopResult stop = wait_for_stop(pid, granted, wait_status);
  if (limits.budget) limits.budget->spend(Clock::now() - t_stopped, status.uid);
  switch (stop) {
    case StopResult::kStopped: t_stopped = Clock::now(); break;
    case StopResult::kGone:
      out.reason = "exited";
      return out;
    case StopResult::kTimeout:
    case StopResult::kError:
      out.status = ProcessFilters::Status::kBusy;
      out.reason = "did not stop within " + std::to_string(granted.count() / 1000) + "." +
                   std::to_string(granted.count() % 1000 / 100) +
                   " ms to have its filters read (a vfork parent waiting for its child, or uninterruptible "
                   "sleep); detached once it stops";
      pending().push_back(pid);
      return out;
  }
  const bool ok = read_all(pid, limits, out);
  const bool detached = detach(pid, wait_status);
  const int detach_errno = errno;
  out.stopped_seconds = std::chrono::duration<double>(Clock::now() - t_stopped).count();
  if (!detached && detach_errno != ESRCH) {
    // Cannot happen for a tracee in a ptrace stop; if it does, the kernel
    // detaches it when sealkit exits.
    out.status = ProcessFilters::Status::kUnknown;
    out.reason = errno_text("PTRACE_DETACH", detach_errno);
    out.programs.clear();
    pending().push_back(pid);
    return out;
  }
  if (ok) out.status = ProcessFilters::Status::kRead;
  else out.programs.clear();
  return out;
}

std::size_t finish_pending_detaches(std::chrono::microseconds timeout) {
  auto& list = pending();
  const auto deadline = Clock::now() + timeout;
  auto pause = std::chrono::microseconds(50);
  while (!list.empty()) {
    for (auto it = list.begin(); it != list.end();) {
      int st = 0;
      pid_t r = ::waitpid(*it, &st, __WALL | WNOHANG);
      if (r == *it && WIFSTOPPED(st)) {
        detach(*it, st);
        it = list.erase(it);
      } else if (r == *it || (r < 0 && errno == ECHILD)) {
        it = list.erase(it);  // exited: nothing to detach
      } else {
        ++it;
      }
    }
    if (list.empty() || Clock::now() >= deadline) break;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(5000));
  }
  return list.size();
}

}  // namespace sealkit::audit
