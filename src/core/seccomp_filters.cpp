#include "core/seccomp_filters.hpp"

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

namespace sealkit::core {

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kCapSysAdmin = 21;  // include/uapi/linux/capability.h

// Targets whose stop did not come in time: still attached, with an interrupt pending.
std::vector<pid_t>& pending() {
  static std::vector<pid_t> p;
  return p;
}

// /proc/PID/status is a few KiB; anything larger is not status.
bool read_status_file(const char* path, std::string& out) {
  auto text = read_proc_file(path, std::size_t{1} << 20);
  if (!text) return false;
  out = std::move(*text);
  return true;
}

// The value after "Name:" and tabs, up to the end of the line; nullopt when absent.
std::optional<std::string_view> field(std::string_view text, std::string_view name) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (line.size() > name.size() && line.substr(0, name.size()) == name && line[name.size()] == ':') {
      line.remove_prefix(name.size() + 1);
      while (!line.empty() && (line.front() == '\t' || line.front() == ' ')) line.remove_prefix(1);
      return line;
    }
    pos = end + 1;
  }
  return std::nullopt;
}

std::optional<long> number_field(std::string_view text, std::string_view name) {
  auto v = field(text, name);
  if (!v || v->empty() || v->size() > 20) return std::nullopt;
  long n = 0;
  for (char c : *v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
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
    if (std::string why = bpf::check_seccomp_program(prog.data(), prog.size()); !why.empty()) {
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
  }
  return "unknown";
}

std::optional<SeccompStatus> parse_seccomp_status(std::string_view text) {
  auto state = field(text, "State");
  if (!state || state->empty()) return std::nullopt;
  SeccompStatus s;
  s.state = state->front();
  if (auto m = number_field(text, "Seccomp")) s.mode = static_cast<int>(*m);
  if (auto f = number_field(text, "Seccomp_filters")) s.filters = *f;
  if (auto t = number_field(text, "TracerPid")) s.tracer = static_cast<pid_t>(*t);
  return s;
}

bool read_status_text(pid_t pid, std::string& text) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/status", static_cast<int>(pid));
  // One read into the stack: the kernel writes status whole on the first
  // read (seq_file, one record) and it is about 1.5 KiB. read_proc_file's
  // growing zero-filled heap buffer and second read cost the audit of 2000
  // processes more than parsing their status (bench/audit); a status that
  // fills the buffer is read again the long way.
  char buf[8192];
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n;
  do {
    n = ::read(fd, buf, sizeof buf);
  } while (n < 0 && errno == EINTR);
  const int e = errno;
  ::close(fd);
  if (n < 0) {
    errno = e;
    return false;
  }
  if (static_cast<std::size_t>(n) == sizeof buf) return read_status_file(path, text);
  text.assign(buf, static_cast<std::size_t>(n));  // the caller's string keeps its capacity across processes
  return true;
}

std::optional<SeccompStatus> read_seccomp_status(pid_t pid) {
  std::string text;
  if (!read_status_text(pid, text)) return std::nullopt;
  auto s = parse_seccomp_status(text);
  if (!s) errno = ESRCH;
  return s;
}

std::optional<std::string> status_name(std::string_view text) {
  // Not field(): it would strip a comm's own leading tabs and spaces. The
  // line is "Name:\t" then the escaped comm.
  std::string_view rest;
  if (text.substr(0, 6) == "Name:\t") {
    rest = text.substr(6);
  } else if (auto at = text.find("\nName:\t"); at != std::string_view::npos) {
    rest = text.substr(at + 7);
  } else {
    return std::nullopt;
  }
  rest = rest.substr(0, rest.find('\n'));
  std::string out;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] != '\\' || i + 1 == rest.size()) {
      out += rest[i];
      continue;
    }
    const char c = rest[i + 1];
    if (c == 'n' || c == '\\') {
      out += c == 'n' ? '\n' : '\\';
      ++i;
    } else if (i + 3 < rest.size() && c >= '0' && c <= '3' && rest[i + 2] >= '0' && rest[i + 2] <= '7' &&
               rest[i + 3] >= '0' && rest[i + 3] <= '7') {
      out += static_cast<char>((c - '0') * 64 + (rest[i + 2] - '0') * 8 + (rest[i + 3] - '0'));
      i += 3;
    } else {
      out += rest[i];
    }
  }
  return out;
}

std::string why_filters_unreadable() {
  std::string text;
  if (!read_status_file("/proc/self/status", text)) return errno_text("cannot read /proc/self/status", errno);
  auto caps = field(text, "CapEff");
  const unsigned long long eff = caps ? std::strtoull(std::string(*caps).c_str(), nullptr, 16) : 0;
  if (!(eff & (1ull << kCapSysAdmin))) return "needs CAP_SYS_ADMIN (run as root)";
  if (auto mode = number_field(text, "Seccomp"); mode && *mode != 0)
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
  switch (wait_for_stop(pid, limits.stop_timeout, wait_status)) {
    case StopResult::kStopped: t_stopped = Clock::now(); break;
    case StopResult::kGone:
      out.reason = "exited";
      return out;
    case StopResult::kTimeout:
    case StopResult::kError:
      out.reason = "did not stop within " + std::to_string(limits.stop_timeout.count()) +
                   " us (uninterruptible sleep?); detached once it stops";
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

}  // namespace sealkit::core
