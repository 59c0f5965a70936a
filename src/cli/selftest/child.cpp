#include "cli/selftest/child.hpp"

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/selftest/classes.hpp"
#include "cli/selftest/snapshot.hpp"
#include "sealkit/sealkit.h"

namespace sealkit::cli::selftest {

namespace {

// A child normally finishes in a millisecond; these only bound a broken one.
constexpr unsigned kChildAlarmSeconds = 5;
constexpr int kParentWaitMs = 8000;
// The largest target a class creates (the ELF object's bss is 64 KiB).
constexpr std::size_t kMaxTargetBytes = std::size_t{1} << 20;

enum class Stage : int { kSetupFailed = 1, kSealFailed, kCallSetupFailed, kDone };

// Sent in one write(): smaller than PIPE_BUF, so it arrives whole or not at all.
struct Report {
  Stage stage;
  int ok;
  int err;
  MemorySnapshot::Change change;
  Note note;
};
static_assert(sizeof(Report) < PIPE_BUF);

[[noreturn]] void send_and_exit(int fd, const Report& r) {
  ssize_t n;
  do {
    n = write(fd, &r, sizeof r);
  } while (n < 0 && errno == EINTR);
  _exit(0);  // no atexit handlers, no stdio flush: the parent owns those
}

[[noreturn]] void child_main(int fd, MappingClass cls, bool seal, PrimitiveFn fn) {
  alarm(kChildAlarmSeconds);  // SIGALRM's default action ends a child stuck in the kernel
  Report r{};
  MemorySnapshot snapshot(kMaxTargetBytes);
  Target t;
  if (int e = create_target(cls, t, r.note)) {
    r.stage = Stage::kSetupFailed;
    r.err = e;
    send_and_exit(fd, r);
  }
  if (seal && sealkit_mseal(reinterpret_cast<void*>(t.addr), t.len, 0) != 0) {
    r.stage = Stage::kSealFailed;
    r.err = errno;
    r.note.set("sealkit_mseal(%#lx, %zu) failed: %s", static_cast<unsigned long>(t.addr), t.len,
               std::strerror(errno));
    send_and_exit(fd, r);
  }
  t.sealed = seal;
  if (!snapshot.record(t, r.note)) {
    r.stage = Stage::kSetupFailed;
    send_and_exit(fd, r);
  }
  CallOutcome out = fn(t);
  if (out.setup_failed) {
    r.stage = Stage::kCallSetupFailed;
    r.err = out.err;
    r.note = out.note;
    send_and_exit(fd, r);
  }
  r.change = snapshot.compare(t);
  r.stage = Stage::kDone;
  r.ok = out.ok;
  r.err = out.ok ? 0 : out.err;
  r.note = out.note;
  send_and_exit(fd, r);
}

long long now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Reads one Report, or stops at end of file or when the deadline passes.
bool read_report(int fd, Report& r, bool& timed_out) {
  timed_out = false;
  std::size_t got = 0;
  const long long deadline = now_ms() + kParentWaitMs;
  while (got < sizeof r) {
    long long left = deadline - now_ms();
    if (left <= 0) {
      timed_out = true;
      return false;
    }
    pollfd p{fd, POLLIN, 0};
    int pr = poll(&p, 1, static_cast<int>(left));
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) {
      timed_out = pr == 0;
      return false;
    }
    ssize_t n = read(fd, reinterpret_cast<char*>(&r) + got, sizeof r - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<std::size_t>(n);
  }
  return true;
}

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    if (sig == SIGALRM) return "the child did not finish within " + std::to_string(kChildAlarmSeconds) + " s";
    const char* name = sigabbrev_np(sig);
    return std::string("the child was killed by SIG") + (name ? name : std::to_string(sig).c_str());
  }
  if (WIFEXITED(status)) return "the child exited with status " + std::to_string(WEXITSTATUS(status)) +
                                " without reporting";
  return "the child stopped without reporting";
}

}  // namespace

std::string errno_name(int err) {
  if (err == 0) return "";
  const char* n = strerrorname_np(err);
  return n ? n : "errno " + std::to_string(err);
}

ChildResult run_in_child(MappingClass cls, bool seal, PrimitiveFn fn) {
  ChildResult res;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    res.detail = std::string("pipe2 failed: ") + std::strerror(errno);
    return res;
  }
  pid_t pid = fork();
  if (pid < 0) {
    res.detail = std::string("fork failed: ") + std::strerror(errno);
    close(fds[0]);
    close(fds[1]);
    return res;
  }
  if (pid == 0) {
    close(fds[0]);
    child_main(fds[1], cls, seal, fn);
  }
  close(fds[1]);
  Report r{};
  bool timed_out = false;
  bool got = read_report(fds[0], r, timed_out);
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  close(fds[0]);

  if (!got) {
    res.detail = timed_out ? "the child did not report within " + std::to_string(kParentWaitMs / 1000) + " s"
                           : describe_status(status);
    return res;
  }
  switch (r.stage) {
    case Stage::kSetupFailed:
      res.detail = std::string("could not create the mapping: ") + r.note.text;
      return res;
    case Stage::kSealFailed:
      res.seal_failed = true;
      res.err = r.err;
      res.detail = r.note.text;
      return res;
    case Stage::kCallSetupFailed:
      res.detail = std::string("could not prepare the call: ") + r.note.text;
      res.err = r.err;
      return res;
    case Stage::kDone:
      break;
  }
  if (r.stage != Stage::kDone) {
    res.detail = "the child sent a malformed report";
    return res;
  }
  res.ran = true;
  res.ok = r.ok != 0;
  res.err = r.err;
  res.intact = r.change == MemorySnapshot::Change::kNone;
  res.change = MemorySnapshot::describe(r.change);
  res.detail = r.note.text;
  return res;
}

CallOutcome outcome(bool ok) {
  CallOutcome o;
  o.ok = ok;
  o.err = ok ? 0 : errno;
  return o;
}

CallOutcome setup_failure(const char* what) {
  CallOutcome o;
  o.setup_failed = true;
  o.err = errno;
  o.note.set("%s: %s", what, std::strerror(o.err));
  return o;
}

}  // namespace sealkit::cli::selftest
