#include "cli/run/static_seal.hpp"

#if defined(__x86_64__)

#include <elf.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "backend/kernel_abi.hpp"
#include "cli/output.hpp"
#include "cli/run/parent.hpp"
#include "cli/run/static_image.hpp"
#include "cli/run/static_plan.hpp"
#include "core/proc_maps.hpp"
#include "runtime/config.hpp"
#include "runtime/trusted_file.hpp"

#include <nlohmann/json.hpp>

namespace sealkit::cli::run_static {

namespace {

// glibc's start-up makes about a dozen system calls before its RELRO
// mprotect; a start-up still not there after this many is not one this
// knows, and is left to run unsealed rather than slowed further.
constexpr std::size_t kMaxFollowed = 256;

// What the traced child tells sealkit through a close-on-exec pipe: it could
// not be traced (and runs untraced), or it could not exec.
struct ChildNote {
  char what = 0;  // 'T': PTRACE_TRACEME failed; 'E': execv failed
  int error = 0;
};

enum class Stop { kSyscall, kSignal, kEvent, kEnded };

struct Tracee {
  pid_t pid = -1;
  int status = 0;               // the last waitpid status; the end's when kEnded
  std::vector<int> held;        // signals that arrived while sealkit's calls ran: sent again after detaching

  Stop wait() {
    while (::waitpid(pid, &status, __WALL) < 0) {
      if (errno != EINTR) return Stop::kEnded;  // ECHILD: nothing left to wait for
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) return Stop::kEnded;
    if (WSTOPSIG(status) == (SIGTRAP | 0x80)) return Stop::kSyscall;
    if ((status >> 16) != 0) return Stop::kEvent;
    return Stop::kSignal;
  }
  // The signal a signal-delivery stop is about to deliver; 0 for a group-stop
  // (a stopping signal already taken: it is restarted with no signal, or the
  // tracee would be stopped again and again).
  int pending_signal() {
    siginfo_t si{};
    return ::ptrace(PTRACE_GETSIGINFO, pid, nullptr, &si) == 0 ? WSTOPSIG(status) : 0;
  }
  bool info(__ptrace_syscall_info& si) {
    return ::ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof si, &si) > 0;
  }
};

// Makes the stopped tracee, at a syscall-exit stop right after a `syscall`
// instruction (at saved.rip - 2), make system call `nr` once more with the
// given arguments; its result, or a negative errno of sealkit's own (EIO).
long inject(Tracee& t, const user_regs_struct& saved, long nr, std::uint64_t a0, std::uint64_t a1, std::uint64_t a2,
            bool& lost) {
  user_regs_struct r = saved;
  r.rip = saved.rip - 2;
  r.rax = static_cast<unsigned long long>(nr);
  r.orig_rax = ~0ull;  // not in a system call: no restart of one on the way back to user mode
  r.rdi = a0;
  r.rsi = a1;
  r.rdx = a2;
  r.r10 = r.r8 = r.r9 = 0;
  if (::ptrace(PTRACE_SETREGS, t.pid, nullptr, &r) != 0) return -EIO;
  bool entered = false;
  for (int steps = 0; steps < 64; ++steps) {
    if (::ptrace(PTRACE_SYSCALL, t.pid, nullptr, nullptr) != 0) return -EIO;
    switch (t.wait()) {
      case Stop::kEnded:
        lost = true;
        return -ESRCH;
      case Stop::kSignal:
        // Delivered after the detach, not inside sealkit's call.
        if (const int sig = t.pending_signal(); sig != 0) t.held.push_back(sig);
        continue;
      case Stop::kEvent:
        continue;
      case Stop::kSyscall: {
        __ptrace_syscall_info si{};
        if (!t.info(si)) return -EIO;
        if (si.op == PTRACE_SYSCALL_INFO_ENTRY) {
          if (si.entry.nr != static_cast<std::uint64_t>(nr) || si.arch != AUDIT_ARCH_X86_64) return -EIO;
          entered = true;
        } else if (si.op == PTRACE_SYSCALL_INFO_EXIT && entered) {
          return static_cast<long>(si.exit.rval);
        }
        continue;
      }
    }
  }
  return -EIO;
}

// The tracee is at a syscall-exit stop: seal what plan_seal says, put its
// registers back. False with `o.why` when nothing could be done.
bool seal_now(Tracee& t, const StaticImage& img, bool relro_protected, Outcome& o, bool& lost) {
  user_regs_struct saved{};
  if (::ptrace(PTRACE_GETREGS, t.pid, nullptr, &saved) != 0) {
    o.why = std::string("PTRACE_GETREGS: ") + std::strerror(errno);
    return false;
  }
  // The instruction that made the call must be `syscall` (0f 05): sealkit's
  // calls are made by it again. (int $0x80 would mean the 32-bit ABI.)
  errno = 0;
  const long word = ::ptrace(PTRACE_PEEKTEXT, t.pid, reinterpret_cast<void*>(saved.rip - 2), nullptr);
  if (errno != 0 || saved.rip < 2 || (word & 0xffff) != 0x050f) {
    o.why = "the program's system call was not made with the syscall instruction";
    return false;
  }
  const std::string maps_path = "/proc/" + std::to_string(t.pid) + "/maps";
  auto maps = core::read_proc_file(maps_path.c_str(), 16u << 20);
  if (!maps) {
    o.why = "cannot read " + maps_path + ": " + std::strerror(errno);
    return false;
  }
  const SealPlan plan = plan_seal(img, relro_protected, *maps);
  o.wx_refused = plan.wx_refused;
  o.over_file = plan.over_file;
  o.maps_bad_lines = plan.maps_bad_lines;
  std::size_t sealed = 0;
  for (const core::Range& r : plan.runs) {
    ++o.mseal_calls;
    const long rc = inject(t, saved, __NR_mseal, r.begin, r.size(), 0, lost);
    if (lost) {
      o.why = "the program ended while sealkit sealed it";
      return false;
    }
    if (rc != 0) {
      ++o.mseal_failures;
      if (o.first_errno == 0) o.first_errno = static_cast<int>(-rc);
    } else {
      ++sealed;
    }
  }
  if (::ptrace(PTRACE_SETREGS, t.pid, nullptr, &saved) != 0) {
    // Its registers are sealkit's now: the program cannot go on as it was.
    o.why = std::string("cannot restore the program's registers: ") + std::strerror(errno);
    ::kill(t.pid, SIGKILL);
    return false;
  }
  o.system_mappings_sealed = o.mseal_failures == 0 ? plan.system_mappings : 0;
  o.stack_sealed = plan.stack && o.mseal_failures == 0;
  if (sealed == 0) {
    o.why = plan.runs.empty() ? "nothing to seal was found in its maps"
                              : std::string("mseal failed: ") + std::strerror(o.first_errno);
    return false;
  }
  return true;
}

// Follows the tracee from its exec stop to the end of its start-up and seals
// it there. Leaves it stopped (or ended: `ended`).
Outcome follow_and_seal(Tracee& t, bool& ended) {
  Outcome o;
  StaticImage img;
  if (!read_static_image(t.pid, img, o.why)) return o;
  const bool wait_relro = img.glibc_start && !img.relro.empty();
  o.moment = wait_relro ? "relro_mprotect" : "first_syscall";
  int deliver = 0;
  bool entered = false;  // an entry was seen: the execve's own exit stop comes first and is not the image's
  std::uint64_t nr = 0, args[3] = {};
  while (o.syscalls_followed < kMaxFollowed) {
    if (::ptrace(PTRACE_SYSCALL, t.pid, nullptr, reinterpret_cast<void*>(static_cast<long>(deliver))) != 0) {
      o.why = std::string("PTRACE_SYSCALL: ") + std::strerror(errno);
      return o;
    }
    deliver = 0;
    switch (t.wait()) {
      case Stop::kEnded:
        ended = true;
        o.why = "the program ended during its start-up";
        return o;
      case Stop::kSignal:
        deliver = t.pending_signal();
        continue;
      case Stop::kEvent:
        if ((t.status >> 8) == (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) {
          o.why = "the program ran another program during its start-up";
          return o;
        }
        continue;
      case Stop::kSyscall:
        break;
    }
    __ptrace_syscall_info si{};
    if (!t.info(si) || si.arch != AUDIT_ARCH_X86_64) {
      o.why = "PTRACE_GET_SYSCALL_INFO gave no x86-64 system call";
      return o;
    }
    if (si.op == PTRACE_SYSCALL_INFO_ENTRY) {
      entered = true;
      ++o.syscalls_followed;
      nr = si.entry.nr;
      for (int i = 0; i < 3; ++i) args[i] = si.entry.args[i];
      continue;
    }
    if (si.op != PTRACE_SYSCALL_INFO_EXIT || !entered) continue;
    const bool relro_done = nr == SYS_mprotect && args[0] == img.relro.begin && args[1] == img.relro.size() &&
                            args[2] == PROT_READ && si.exit.rval == 0;
    if (!wait_relro || relro_done) {
      bool lost = false;
      o.sealed = seal_now(t, img, relro_done, o, lost);
      ended = lost;
      return o;
    }
  }
  o.why = "its start-up made " + std::to_string(kMaxFollowed) + " system calls without making RELRO read-only";
  return o;
}

void append_log(const std::string& log, pid_t pid, const std::string& exe, const Outcome& o) {
  if (log.empty()) return;
  rt::TrustProblem problem;
  const int fd = rt::open_trusted_append(log.c_str(), static_cast<std::uint32_t>(::getuid()), problem);
  if (fd < 0) {
    print_warning("SEALKIT_LOG: " + std::string(problem.part) + " " + problem.what + "; not logging");
    return;
  }
  // The runtime's start-up line (runtime/log.cpp), with what differs here.
  nlohmann::ordered_json j;
  j["pid"] = pid;
  j["exe"] = exe;
  j["phase"] = "startup";
  j["injected_as"] = "ptrace";
  j["backend"] = "kernel";
  j["objects_seen"] = 1;
  j["objects_sealed"] = o.sealed ? 1 : 0;
  j["program_excluded"] = o.program_excluded;
  j["sealed_at"] = o.moment;
  j["syscalls_followed"] = o.syscalls_followed;
  j["mseal_calls"] = o.mseal_calls;
  j["mseal_failures"] = o.mseal_failures;
  j["first_errno"] = o.first_errno;
  j["system_mappings_sealed"] = o.system_mappings_sealed;
  j["stack_sealed"] = o.stack_sealed;
  j["maps_bad_lines"] = o.maps_bad_lines;
  j["wx_refused"] = o.wx_refused;
  j["protections_not_restored"] = o.over_file;
  if (!o.sealed) j["not_sealed_because"] = o.why;
  j["elapsed_ns"] = o.elapsed_ns;
  const std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  if (::write(fd, line.data(), line.size()) < 0) print_warning("SEALKIT_LOG: " + log + ": " + std::strerror(errno));
  ::close(fd);
}

// The executable as the kernel names it (the runtime's "exe").
std::string exe_of(pid_t pid) {
  char buf[4096];
  const std::string link = "/proc/" + std::to_string(pid) + "/exe";
  const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string("?");
}

// The runtime's configuration, read as the runtime reads it (the
// administrator's file, and SEALKIT_CONFIG only as far as the runtime takes
// it: docs/runtime.md, "Configuration"), names this executable in
// exclude-program. Its warnings are given here: no runtime runs in a static
// program to give them.
bool excluded(const std::string& exe) {
  auto config = std::make_unique<rt::Config>();
  config->load(false, std::getenv("SEALKIT_CONFIG"), false);
  return config->program_excluded(exe);
}

// fork, PTRACE_TRACEME, a stop for sealkit to set its options, exec. -1 with
// `why` when nothing could be started; `traced` false when the child runs
// untraced (PTRACE_TRACEME refused: sealkit itself is traced, or a policy
// forbids ptrace).
pid_t start(const char* path, char* const argv[], bool& traced, std::string& why) {
  int note[2];
  if (::pipe2(note, O_CLOEXEC) != 0) {
    why = std::string("pipe2: ") + std::strerror(errno);
    return -1;
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    why = std::string("fork: ") + std::strerror(errno);
    ::close(note[0]);
    ::close(note[1]);
    return -1;
  }
  if (pid == 0) {
    ::close(note[0]);
    run_parent::restore_defaults();
    if (::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) {
      const ChildNote n{'T', errno};
      if (::write(note[1], &n, sizeof n) < 0) ::_exit(127);
    }
    ::raise(SIGSTOP);  // traced: a stop for sealkit; not traced: sealkit's waitpid(WUNTRACED) sees it
    ::execv(path, argv);
    const ChildNote n{'E', errno};
    if (::write(note[1], &n, sizeof n) < 0) ::_exit(127);
    ::_exit(127);
  }
  ::close(note[1]);
  Tracee t;
  t.pid = pid;
  int status = 0;
  while (::waitpid(pid, &status, WUNTRACED | __WALL) < 0 && errno == EINTR) {}
  ChildNote n{};
  ::fcntl(note[0], F_SETFL, O_NONBLOCK);
  traced = !(::read(note[0], &n, sizeof n) == static_cast<ssize_t>(sizeof n) && n.what == 'T');
  if (!traced) {
    why = std::string("PTRACE_TRACEME: ") + std::strerror(n.error);
    ::kill(pid, SIGCONT);
  } else if (::ptrace(PTRACE_SETOPTIONS, pid, nullptr,
                      reinterpret_cast<void*>(PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC)) != 0) {
    // Without the exec stop the kernel would send the new image a SIGTRAP: let it go untraced.
    why = std::string("PTRACE_SETOPTIONS: ") + std::strerror(errno);
    traced = false;
    ::ptrace(PTRACE_DETACH, pid, nullptr, nullptr);
  } else {
    ::ptrace(PTRACE_CONT, pid, nullptr, nullptr);
    // The exec stop, or the child's end when execv failed.
    for (;;) {
      const Stop s = t.wait();
      if (s == Stop::kEnded) break;
      if (s == Stop::kEvent && (t.status >> 8) == (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) break;
      const int sig = s == Stop::kSignal ? t.pending_signal() : 0;
      ::ptrace(PTRACE_CONT, pid, nullptr, reinterpret_cast<void*>(static_cast<long>(sig)));
    }
    if (WIFEXITED(t.status) || WIFSIGNALED(t.status)) {
      ::fcntl(note[0], F_SETFL, 0);
      ChildNote e{};
      const bool told = ::read(note[0], &e, sizeof e) == static_cast<ssize_t>(sizeof e) && e.what == 'E';
      ::close(note[0]);
      why = "cannot run " + std::string(path) + ": " + std::strerror(told ? e.error : ECHILD);
      return -1;
    }
  }
  ::close(note[0]);
  return pid;
}

}  // namespace

int run(const char* path, char* const argv[], const std::string& log, std::string& why) {
  run_parent::install_forwarding();
  bool traced = false;
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = start(path, argv, traced, why);
  if (pid < 0) {
    run_parent::restore_defaults();
    return 2;
  }
  run_parent::set_child(pid);
  Outcome o;
  int status = 0;
  bool ended = false;
  const std::string exe = traced ? exe_of(pid) : std::string(path);
  if (!traced) {
    o.why = why;
  } else if (excluded(exe)) {
    o.program_excluded = true;
    ::ptrace(PTRACE_DETACH, pid, nullptr, nullptr);
  } else {
    Tracee t;
    t.pid = pid;
    o = follow_and_seal(t, ended);
    o.elapsed_ns = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
    status = t.status;
    if (!ended) {
      ::ptrace(PTRACE_DETACH, pid, nullptr, nullptr);
      for (int sig : t.held) ::kill(pid, sig);
    }
  }
  if (o.program_excluded || (ended && !o.sealed)) {
    // Unsealed on purpose, as the runtime leaves an excluded program; or the
    // program ended within its start-up, before there was anything to seal
    // (the log line says which): no warning.
  } else if (!o.sealed) {
    print_warning(std::string(path) + " is statically linked and sealkit could not seal it (" + o.why +
                  "); it runs unsealed (docs/runtime.md, \"Statically linked programs\")");
  } else if (o.mseal_failures != 0 || o.wx_refused != 0 || o.over_file != 0) {
    print_warning(std::string(path) + ": sealkit sealed it partly (" + std::to_string(o.mseal_failures) +
                  " mseal calls failed, " + std::to_string(o.wx_refused) + " writable and executable parts, " +
                  std::to_string(o.over_file) + " parts with more protection than its file asks left unsealed)");
  }
  append_log(log, pid, exe, o);
  if (!ended) {
    while (::waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) break;
    }
  }
  run_parent::set_child(0);
  run_parent::restore_defaults();
  run_parent::end_like(status);
}

}  // namespace sealkit::cli::run_static

#else

namespace sealkit::cli::run_static {
int run(const char*, char* const*, const std::string&, std::string& why) {
  why = "sealkit follows static programs on x86-64 only";
  return 2;
}
}  // namespace sealkit::cli::run_static

#endif
