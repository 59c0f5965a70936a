#include "cli/machine/kernel_facts.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <string_view>
#include <vector>

#include "backend/ask_in_child.hpp"
#include "backend/kernel.hpp"
#include "core/page.hpp"
#include "core/proc_maps.hpp"

namespace sealkit::cli::machine {

namespace {

bool is_system_mapping(std::string_view p) {
  return p == "[vdso]" || p == "[vvar]" || p == "[vvar_vclock]" || p == "[sigpage]" || p == "[vectors]" ||
         p == "[uprobes]";
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// The system mappings of one smaps text: sealed or not. `where` names it.
KernelFact judge_system_mappings(const std::string& smaps, const std::string& where) {
  KernelFact f;
  std::vector<std::string> sealed, unsealed;
  core::for_each_smaps_entry(smaps, [&](const core::SmapsEntry& e) {
    if (is_system_mapping(e.map.path)) (e.has_vmflags && e.sealed ? sealed : unsealed).emplace_back(e.map.path);
    return true;
  });
  if (sealed.empty() && unsealed.empty()) {
    f.detail = "no system mappings in " + where;
    return f;
  }
  f.value = unsealed.empty();
  f.detail = (unsealed.empty() ? "sealed: " + join(sealed) : "not sealed: " + join(unsealed)) +
             (!sealed.empty() && !unsealed.empty() ? "; sealed: " + join(sealed) : "") + " (" + where + ")";
  return f;
}

// The smaps of a new process stopped at its exec (PTRACE_TRACEME), before
// ld.so runs; nullopt with `why` when ptrace is not allowed here.
std::optional<std::string> smaps_at_exec(std::string& why) {
  const pid_t pid = ::fork();
  if (pid < 0) {
    why = std::string("fork: ") + std::strerror(errno);
    return std::nullopt;
  }
  if (pid == 0) {
    if (::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) ::_exit(126);
    char arg0[] = "true";
    char* argv[] = {arg0, nullptr};
    char* envp[] = {nullptr};
    ::execve("/bin/true", argv, envp);
    ::_exit(127);
  }
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  std::optional<std::string> text;
  if (WIFSTOPPED(st)) {
    text = core::read_proc_file(("/proc/" + std::to_string(pid) + "/smaps").c_str());
    if (!text) why = std::string("cannot read the stopped process's smaps: ") + std::strerror(errno);
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
  } else {
    why = WIFEXITED(st) && WEXITSTATUS(st) == 126 ? "ptrace(PTRACE_TRACEME) is not allowed here"
                                                   : "/bin/true did not stop at its exec";
  }
  return text;
}

}  // namespace

namespace {

KernelFact mseal_seals_here() {
  KernelFact f{false, ""};
  const std::size_t ps = core::page_size();
  void* p = ::mmap(nullptr, ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    f.value.reset();
    f.detail = std::string("could not map a scratch page: ") + std::strerror(errno);
    return f;
  }
  if (backend::kernel::mseal(reinterpret_cast<std::uintptr_t>(p), ps, 0) != 0) {
    f.detail = std::string("mseal failed: ") + std::strerror(errno);
    ::munmap(p, ps);
    return f;
  }
  if (::mprotect(p, ps, PROT_READ | PROT_WRITE) == 0) {
    f.detail = "mseal returned 0 but mprotect still succeeded";
    return f;
  }
  const int e = errno;
  f.value = e == EPERM;
  f.detail = e == EPERM ? "scratch page sealed; mprotect then failed with EPERM"
                        : std::string("mprotect failed with ") + std::strerror(e) + ", not EPERM";
  return f;
}

// The same question, in a child (backend/ask_in_child.hpp): its exit code
// says what happened.
constexpr int kSealed = 0, kNotEnforced = 1, kNoScratchPage = 2, kOtherErrno = 3, kMsealFailed = 100;

int seal_scratch_page() {
  const long ps = ::sysconf(_SC_PAGESIZE);
  void* p = ::mmap(nullptr, static_cast<std::size_t>(ps), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return kNoScratchPage;
  if (backend::kernel::mseal(reinterpret_cast<std::uintptr_t>(p), static_cast<std::size_t>(ps), 0) != 0)
    return kMsealFailed + (errno < 100 ? errno : 0);
  if (::mprotect(p, static_cast<std::size_t>(ps), PROT_READ | PROT_WRITE) == 0) return kNotEnforced;
  return errno == EPERM ? kSealed : kOtherErrno;
}

KernelFact mseal_seals_in_child() {
  const int answer = backend::ask_in_child(seal_scratch_page);
  if (answer == backend::kNoChild) return {std::nullopt, "a child to ask it under this process's seccomp filter could not be made"};
  if (answer < 0) {
    const char* name = sigabbrev_np(-answer);
    return {false, std::string("a child asking it was killed by SIG") + (name ? name : std::to_string(-answer)) +
                       ": a seccomp filter this process runs under kills mseal(2) (an allow-list that does not name "
                       "it, without an error number: systemd's SystemCallFilter= without SystemCallErrorNumber=)"};
  }
  switch (answer) {
    case kSealed: return {true, "scratch page sealed (in a child: this process runs under a seccomp filter); mprotect then failed with EPERM"};
    case kNotEnforced: return {false, "mseal returned 0 but mprotect still succeeded (in a child)"};
    case kNoScratchPage: return {std::nullopt, "could not map a scratch page (in a child)"};
    case kOtherErrno: return {false, "mprotect of the sealed page failed, not with EPERM (in a child)"};
    default: break;
  }
  const int e = answer - kMsealFailed;
  return {false, std::string("mseal failed") + (e > 0 ? std::string(": ") + std::strerror(e) : std::string()) +
                     " (in a child: this process runs under a seccomp filter)"};
}

}  // namespace

// Under a seccomp filter the call may kill the process rather than fail
// (sealkit probe run as a hardened service): a child asks it then.
KernelFact mseal_seals() {
  return backend::under_seccomp_filter() ? mseal_seals_in_child() : mseal_seals_here();
}

KernelFact kernel_seals_system_mappings() {
  std::string why;
  if (auto text = smaps_at_exec(why)) return judge_system_mappings(*text, "a new process stopped at its exec");
  auto own = core::read_proc_file("/proc/self/smaps");
  if (!own) return {std::nullopt, why + "; and cannot read /proc/self/smaps: " + std::strerror(errno)};
  if (own->find("libsealkit-preload.so") != std::string::npos || own->find("libsealkit-runtime.so") != std::string::npos)
    return {std::nullopt, why + ", and sealkit's runtime is loaded in this process, so its own [vdso] says nothing "
                                "about the kernel"};
  return judge_system_mappings(*own, "this process's own smaps; " + why);
}

std::string proc_mem_force_override(std::string& detail) {
  auto cmdline = core::read_proc_file("/proc/cmdline", 65536);
  if (!cmdline) {
    detail = std::string("cannot read /proc/cmdline: ") + std::strerror(errno);
    return "unknown";
  }
  std::istringstream words(*cmdline);
  std::string w;
  constexpr std::string_view kKey = "proc_mem.force_override=";
  while (words >> w && w != "--") {  // after "--" the words are init's
    if (w.compare(0, kKey.size(), kKey) == 0) {
      detail = "proc_mem.force_override on the kernel command line (/proc/cmdline)";
      return w.substr(kKey.size());
    }
  }
  detail = "no proc_mem.force_override on the kernel command line: the kernel's build-time choice "
           "(CONFIG_PROC_MEM_ALWAYS_FORCE, _FORCE_PTRACE or _NO_FORCE); boot with proc_mem.force_override=never "
           "(6.12+) to refuse writes through /proc/PID/mem";
  return "default";
}

KernelFact proc_mem_writes_blocked() {
  KernelFact f;
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) {
    f.detail = std::string("pipe failed: ") + std::strerror(errno);
    return f;
  }
  // What the child found: whether its page was sealed, the write's result, its errno, the byte afterwards.
  struct Answer {
    int sealed = 0;
    long written = -1;
    int error = 0;
    char after = 0;
  };
  const pid_t pid = fork();
  if (pid < 0) {
    f.detail = std::string("fork failed: ") + std::strerror(errno);
    close(pipefd[0]);
    close(pipefd[1]);
    return f;
  }
  if (pid == 0) {
    Answer a;
    const long page = sysconf(_SC_PAGESIZE);
    auto* p = static_cast<char*>(mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (p == MAP_FAILED) _exit(3);
    p[0] = 'a';
    if (mprotect(p, page, PROT_READ) != 0) _exit(3);
    a.sealed = backend::kernel::mseal(reinterpret_cast<std::uintptr_t>(p), static_cast<std::size_t>(page), 0) == 0;
    const int fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      a.error = errno;
    } else {
      const char b = 'b';
      a.written = pwrite(fd, &b, 1, static_cast<off_t>(reinterpret_cast<std::uintptr_t>(p)));
      a.error = a.written < 0 ? errno : 0;
    }
    a.after = p[0];
    _exit(write(pipefd[1], &a, sizeof a) == sizeof a ? 0 : 3);
  }
  close(pipefd[1]);
  Answer a;
  ssize_t got;
  do got = read(pipefd[0], &a, sizeof a);
  while (got < 0 && errno == EINTR);
  close(pipefd[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (got != static_cast<ssize_t>(sizeof a)) {
    f.detail = "the test child did not report (killed, or could not map its page)";
    return f;
  }
  const std::string page = a.sealed ? "a read-only private page sealed with mseal" : "a read-only private page";
  if (a.written == 1 && a.after == 'b') {
    f.value = false;
    f.detail = "a child wrote through /proc/self/mem to " + page +
               " (FOLL_FORCE, as debuggers do; mseal does not stop it); boot with proc_mem.force_override=never "
               "(Linux 6.12+) to refuse such writes";
  } else if (a.written < 0) {
    f.value = true;
    f.detail = "a child's write through /proc/self/mem to " + page + " was refused: " + std::strerror(a.error);
  } else {
    f.detail = "a child's write through /proc/self/mem to " + page + " returned " + std::to_string(a.written) +
               " and left the page " + (a.after == 'b' ? "changed" : "unchanged");
  }
  return f;
}

}  // namespace sealkit::cli::machine
