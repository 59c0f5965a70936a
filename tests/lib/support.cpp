#include "lib/support.hpp"

#include <fcntl.h>
#include <poll.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "sealkit/sealkit.h"

namespace sealkit::test {

std::size_t page() noexcept {
  static const std::size_t ps = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return ps;
}

namespace {

// Test mappings live in a zone of their own, far below where mmap places
// memory by default (top-down from just under the stack). A hole a test
// makes there stays a hole: malloc, a sanitizer runtime or the library would
// only be placed that low once the space above is full. Each mapping is
// followed by an unmapped page, so that neighbours never merge, and no
// address is handed out twice. 32 TiB is above AddressSanitizer's shadow and
// below PIE programs, its allocator and mmap_base on x86-64; where it does
// not fit, mappings go wherever the kernel puts them.
constexpr std::uintptr_t kTestZone = std::uintptr_t{1} << 45;
std::atomic<std::uintptr_t> g_zone_cursor{kTestZone};

}  // namespace

std::byte* map_pages(std::size_t pages, int prot, int flags) {
  const std::size_t len = pages * page();
  void* want = reinterpret_cast<void*>(g_zone_cursor.fetch_add(len + page()));
  void* p = ::mmap(want, len, prot, flags | MAP_FIXED_NOREPLACE, -1, 0);
  if (p == MAP_FAILED) p = ::mmap(nullptr, len, prot, flags, -1, 0);
  if (p == MAP_FAILED) {
    ADD_FAILURE() << "mmap of " << pages << " pages failed: " << std::strerror(errno);
    return nullptr;
  }
  return static_cast<std::byte*>(p);
}

std::byte* free_range(std::size_t pages) {
  std::byte* p = map_pages(pages, PROT_NONE);
  if (p && ::munmap(p, pages * page()) != 0) ADD_FAILURE() << "munmap: " << std::strerror(errno);
  return p;
}

bool SmapsVma::has_flag(const std::string& f) const {
  return std::find(vmflags.begin(), vmflags.end(), f) != vmflags.end();
}

int SmapsVma::prot() const {
  int p = PROT_NONE;
  if (perms.size() >= 3) {
    if (perms[0] == 'r') p |= PROT_READ;
    if (perms[1] == 'w') p |= PROT_WRITE;
    if (perms[2] == 'x') p |= PROT_EXEC;
  }
  return p;
}

namespace {

std::string read_whole_file(const char* path) {
  std::string out;
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

// "7f00-7f10 r--p 00000000 00:00 0   [heap]": a VMA header line, as opposed
// to a "Key:   value" line.
bool parse_header(const std::string& line, SmapsVma& out) {
  unsigned long start = 0, end = 0;
  char perms[8] = {};
  int name_at = 0;
  if (std::sscanf(line.c_str(), "%lx-%lx %7s %*s %*s %*s %n", &start, &end, perms, &name_at) < 3) return false;
  if (line.find(':') < line.find(' ')) return false;  // "Size:" and friends
  out = SmapsVma{};
  out.start = start;
  out.end = end;
  out.perms = perms;
  if (name_at > 0 && static_cast<std::size_t>(name_at) <= line.size())
    out.name = line.substr(static_cast<std::size_t>(name_at));
  return true;
}

}  // namespace

std::vector<SmapsVma> read_smaps() {
  std::vector<SmapsVma> vmas;
  std::istringstream in(read_whole_file("/proc/self/smaps"));
  std::string line;
  while (std::getline(in, line)) {
    SmapsVma v;
    if (parse_header(line, v)) {
      vmas.push_back(std::move(v));
    } else if (line.rfind("VmFlags:", 0) == 0 && !vmas.empty()) {
      std::istringstream flags(line.substr(8));
      std::string f;
      while (flags >> f) vmas.back().vmflags.push_back(f);
    }
  }
  return vmas;
}

std::optional<SmapsVma> smaps_vma_at(const void* addr) {
  auto a = reinterpret_cast<std::uintptr_t>(addr);
  for (SmapsVma& v : read_smaps())
    if (v.start <= a && a < v.end) return v;
  return std::nullopt;
}

int smaps_prot_at(const void* addr) {
  auto v = smaps_vma_at(addr);
  return v ? v->prot() : -1;
}

std::size_t smaps_vma_size_at(const void* addr) {
  auto v = smaps_vma_at(addr);
  return v ? v->end - v->start : 0;
}

std::vector<SmapsVma> smaps_vmas_in(const void* addr, std::size_t len) {
  auto a = reinterpret_cast<std::uintptr_t>(addr);
  std::vector<SmapsVma> out;
  for (SmapsVma& v : read_smaps())
    if (v.end > a && v.start < a + len) out.push_back(v);
  return out;
}

SmapsSeal smaps_seal_state(const void* addr, std::size_t len) {
  const std::uintptr_t ps = page();
  std::uintptr_t cur = reinterpret_cast<std::uintptr_t>(addr) & ~(ps - 1);
  const std::uintptr_t end = (reinterpret_cast<std::uintptr_t>(addr) + len + ps - 1) & ~(ps - 1);
  bool all_sealed = true;
  for (const SmapsVma& v : smaps_vmas_in(reinterpret_cast<const void*>(cur), end - cur)) {
    if (v.start > cur) return SmapsSeal::kHole;
    if (!v.sealed()) all_sealed = false;
    cur = v.end;
    if (cur >= end) break;
  }
  if (cur < end) return SmapsSeal::kHole;
  return all_sealed ? SmapsSeal::kAllSealed : SmapsSeal::kNotAllSealed;
}

const char* to_string(SmapsSeal s) {
  switch (s) {
    case SmapsSeal::kAllSealed:
      return "all sealed";
    case SmapsSeal::kNotAllSealed:
      return "not all sealed";
    case SmapsSeal::kHole:
      return "hole";
  }
  return "?";
}

bool is_mapped(const void* addr, std::size_t len) {
  // Page by page with a byte on the stack: this must not allocate, since an
  // allocation can map memory into the very hole being looked at.
  const std::uintptr_t ps = page();
  std::uintptr_t a = reinterpret_cast<std::uintptr_t>(addr) & ~(ps - 1);
  const std::uintptr_t end = reinterpret_cast<std::uintptr_t>(addr) + len;
  for (; a < end; a += ps) {
    unsigned char resident;
    if (::mincore(reinterpret_cast<void*>(a), ps, &resident) != 0) return false;
  }
  return true;
}

void expect_seal_state(const void* addr, std::size_t len, bool sealed, const char* where) {
  errno = 0;
  int lib = sealkit_is_sealed(addr, len);
  EXPECT_EQ(lib, sealed ? 1 : 0) << "sealkit_is_sealed(" << where << ", " << len << "), errno " << errno;
  SmapsSeal independent = smaps_seal_state(addr, len);
  EXPECT_EQ(independent, sealed ? SmapsSeal::kAllSealed : SmapsSeal::kNotAllSealed)
      << "smaps says " << to_string(independent) << " for " << where;
}

void ChildReport::fail(const std::string& msg) {
  failed_ = true;
  std::string line = msg + "\n";
  (void)!::write(fd_, line.data(), line.size());
}

void ChildReport::skip(const std::string& reason) {
  skipped_ = true;
  (void)!::write(fd_, reason.data(), reason.size());
}

std::string ChildResult::describe() const {
  std::ostringstream s;
  if (exited)
    s << "child exited with " << exit_code;
  else
    s << "child killed by signal " << term_signal << " (" << ::strsignal(term_signal) << ")";
  if (!messages.empty()) s << "\n" << messages;
  return s.str();
}

namespace {

constexpr int kSkipExit = 77;

// Runs before every test of the binary.
// - Without mseal(2) in the kernel (Linux < 6.10, e.g. Debian 12's own 6.1)
//   there is nothing these tests can observe: all of them are skipped, with
//   the reason, rather than failed. (gtest then runs none and reports them
//   as passed; the "[  SKIPPED ]" in the message is what ctest's skip
//   pattern from gtest_discover_tests looks for, so ctest says "Skipped".)
// - The library maps (and keeps) a sealed scratch page the first time it is
//   asked whether memory is sealed. Doing that before any test runs keeps the
//   page out of the holes that tests make on purpose.
// A binary whose tests do not need mseal(2) (the seccomp backend's) clears
// g_tests_need_kernel_mseal from a static initializer.
class WarmUpLibrary : public ::testing::Environment {
 public:
  void SetUp() override {
    errno = 0;
    if (g_tests_need_kernel_mseal && ::syscall(462 /* mseal, on every architecture */, nullptr, 0UL, 0UL) != 0) {
      GTEST_SKIP() << "[  SKIPPED ] every test: this kernel has no mseal(2) (" << std::strerror(errno)
                   << "): sealkit's kernel backend cannot seal here, so there is nothing to test";
    }
    int on_stack = 0;
    (void)sealkit_is_sealed(&on_stack, sizeof on_stack);
    (void)sealkit_backend();
  }
};
::testing::Environment* const g_warm_up = ::testing::AddGlobalTestEnvironment(new WarmUpLibrary);

}  // namespace

ChildResult run_in_child(const std::function<void(ChildReport&)>& body) {
  ChildResult result;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    result.messages = std::string("pipe2: ") + std::strerror(errno);
    return result;
  }
  std::fflush(nullptr);  // nothing buffered may be written twice
  pid_t pid = ::fork();
  if (pid < 0) {
    result.messages = std::string("fork: ") + std::strerror(errno);
    ::close(fds[0]);
    ::close(fds[1]);
    return result;
  }
  if (pid == 0) {
    ::close(fds[0]);
    ChildReport report(fds[1]);
    body(report);
    // _exit: no atexit handlers, no gtest teardown, no leak check in the child.
    ::_exit(report.skipped() ? kSkipExit : report.failed() ? 1 : 0);
  }
  ::close(fds[1]);
  // A watchdog, not a timing assertion: a child that hangs (a deadlock in a
  // sanitizer's error path, say) must fail its test, not stall the suite.
  constexpr int kChildTimeoutMs = 120'000;
  char buf[4096];
  for (;;) {
    struct pollfd pfd {fds[0], POLLIN, 0};
    int ready = ::poll(&pfd, 1, kChildTimeoutMs);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      ::kill(pid, SIGKILL);
      result.messages += "child did not finish within " + std::to_string(kChildTimeoutMs / 1000) + " s: killed\n";
      break;
    }
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.messages.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exited = WIFEXITED(status);
  if (result.exited) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.term_signal = WTERMSIG(status);
  result.skipped = result.exited && result.exit_code == kSkipExit;
  return result;
}

void restore_default_signal(int sig) {
  struct sigaction sa {};
  sa.sa_handler = SIG_DFL;
  ::sigemptyset(&sa.sa_mask);
  ::sigaction(sig, &sa, nullptr);
}

namespace {

// The filter of deny_syscall, with `action` as the answer to the call.
bool filter_syscall(long nr, std::uint32_t action, int arg, std::uint32_t mask) {
#if defined(__x86_64__) || defined(__aarch64__)
#if defined(__x86_64__)
  constexpr unsigned arch = AUDIT_ARCH_X86_64;
#else
  constexpr unsigned arch = AUDIT_ARCH_AARCH64;
#endif
  // Little-endian: the low half of a 64-bit argument comes first. With
  // arg < 0 the accumulator is loaded with 1 and tested with mask 1: always.
  struct sock_filter load_arg = BPF_STMT(BPF_LD | BPF_IMM, 1);
  if (arg >= 0) {
    const auto at_arg = static_cast<unsigned>(offsetof(struct seccomp_data, args) + 8 * static_cast<unsigned>(arg));
    load_arg = sock_filter BPF_STMT(BPF_LD | BPF_W | BPF_ABS, at_arg);
  }
  const std::uint32_t test_mask = arg < 0 ? 1 : mask;
  struct sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 0, 5),  // another ABI: allow
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<unsigned>(nr), 0, 3),  // another call: allow
      load_arg,
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, test_mask, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, action),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog {};
  prog.len = static_cast<unsigned short>(sizeof code / sizeof code[0]);
  prog.filter = code;
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return false;
  return ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
#else
  (void)nr, (void)err, (void)arg, (void)mask;
  return false;
#endif
}

}  // namespace

bool deny_syscall(long nr, int err, int arg, std::uint32_t mask) {
  return filter_syscall(nr, SECCOMP_RET_ERRNO | (static_cast<unsigned>(err) & SECCOMP_RET_DATA), arg, mask);
}

bool deny_mseal_with(int err) { return deny_syscall(462, err); }  // 462 on every architecture

bool kill_at_mseal() { return filter_syscall(462, SECCOMP_RET_KILL_PROCESS, -1, 0); }

}  // namespace sealkit::test
