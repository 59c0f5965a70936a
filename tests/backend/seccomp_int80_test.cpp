// The i386 ABI through `int $0x80` from this 64-bit test, against the kernel's
// own mseal, cell for cell (docs/seccomp.md, difference 7): memory below 4 GiB
// (and, outside ASan builds, just above it) is sealed once with mseal(2) and
// once only by the generated filter, each in its own child, and the same i386
// calls run in grandchildren. The kernel runs compat calls through the same
// mm code, so it refuses them on sealed memory; the filter must too, with
// garbage in the registers' high halves (which seccomp shows, the kernel ignores).
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/mman.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "backend/fork_child.hpp"
#include "backend/i386_numbers.hpp"
#include "backend/kernel.hpp"
#include "backend/kernel_abi.hpp"
#include "backend/seccomp/emitter.hpp"
#include "backend/seccomp/filter.hpp"
#include "backend/seccomp/install.hpp"
#include "runtime/subprocess.hpp"

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

#if defined(__SANITIZE_ADDRESS__)
#define SEALKIT_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SEALKIT_TEST_ASAN 1
#endif
#endif

// int $0x80 with six arguments in ebx, ecx, edx, esi, edi, ebp (the full
// 64-bit registers: what the caller leaves in the high halves is its own).
// Returns rax. Outside any function so that rbp is free to load.
extern "C" std::uint64_t sealkit_test_int80(std::uint64_t nr, std::uint64_t a, std::uint64_t b, std::uint64_t c,
                                            std::uint64_t d, std::uint64_t e, std::uint64_t f);
asm(R"(
  .text
  .globl sealkit_test_int80
  .type sealkit_test_int80, @function
sealkit_test_int80:
  push %rbx
  push %rbp
  mov %rdi, %rax
  mov %rsi, %rbx
  mov %rcx, %r10
  mov %rdx, %rcx
  mov %r10, %rdx
  mov %r8, %rsi
  mov %r9, %rdi
  mov 24(%rsp), %rbp
  int $0x80
  pop %rbp
  pop %rbx
  ret
  .size sealkit_test_int80, .-sealkit_test_int80
)");

namespace sealkit::test::backend {
namespace {

namespace seccomp = sealkit::backend::seccomp;
namespace i386 = sealkit::backend::seccomp::detail::i386;

constexpr std::uint64_t P = 4096;
constexpr std::uint64_t kJunk = 0xdead'beef'0000'0000;  // a high half the kernel ignores

// 0 or the errno of an i386 call (its result is the 32-bit eax).
int int80(std::uint32_t nr, std::uint64_t a = 0, std::uint64_t b = 0, std::uint64_t c = 0, std::uint64_t d = 0,
          std::uint64_t e = 0, std::uint64_t f = 0) {
  const auto r = static_cast<std::uint32_t>(sealkit_test_int80(nr, a, b, c, d, e, f));
  return r >= 0xfffff001u ? static_cast<int>(0u - r) : 0;
}

// The memory: L read-only (discard-protected), W read-write, H just above
// 4 GiB (absent under ASan, whose shadow gap starts at 0x8fff7000).
struct Region {
  std::uint64_t base;
  std::size_t pages;
  int prot;
  std::vector<std::pair<std::size_t, std::size_t>> sealed;  // page spans [first, end)
  std::uint64_t at(std::size_t page) const { return base + page * P; }
};
const Region kL{0x2000'0000, 8, PROT_READ, {{2, 4}, {6, 7}}};
const Region kW{0x2100'0000, 4, PROT_READ | PROT_WRITE, {{1, 2}}};
const Region kH{0x1'1000'0000, 4, PROT_READ, {{1, 2}}};
#ifdef SEALKIT_TEST_ASAN
constexpr bool kBeyond4GiB = false;
#else
constexpr bool kBeyond4GiB = true;
#endif

std::vector<Region> regions() {
  std::vector<Region> r = {kL, kW};
  if (kBeyond4GiB) r.push_back(kH);
  return r;
}

enum class SealBy { kNothing, kMseal, kFilter };

std::vector<seccomp::SealedRange> ranges_of(const std::vector<Region>& rs) {
  std::vector<seccomp::SealedRange> out;
  for (const Region& r : rs)
    for (auto [first, end] : r.sealed) out.push_back({r.at(first), r.at(end), (r.prot & PROT_WRITE) == 0});
  return out;
}

// In a child: maps the regions, then seals them (or not). Empty or what went wrong.
std::string map_and_seal(const std::vector<Region>& rs, SealBy how, seccomp::I386Guard* guard = nullptr) {
  for (const Region& r : rs) {
    void* want = reinterpret_cast<void*>(r.base);
    if (::mmap(want, r.pages * P, r.prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != want)
      return "cannot map " + std::to_string(r.base) + ": " + std::strerror(errno);
    for (auto [first, end] : r.sealed)  // a name of its own keeps the span a VMA of its own where names exist
      ::prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, r.at(first), (end - first) * P, "sealed");
  }
  if (how == SealBy::kMseal) {
    for (const Region& r : rs)
      for (auto [first, end] : r.sealed)
        if (sealkit::backend::kernel::mseal(r.at(first), (end - first) * P, 0) != 0)
          return std::string("mseal: ") + std::strerror(errno);
  } else if (how == SealBy::kFilter) {
    std::vector<seccomp::SealedRange> ranges = ranges_of(rs);
    seccomp::Input in{ranges.data(), ranges.size(), seccomp::task_size()};
    static seccomp::Program program;
    if (seccomp::build(in, program) != seccomp::BuildStatus::kOk) return "build failed";
    if (guard != nullptr) *guard = program.i386_guard;
    seccomp::InstallOutcome o = seccomp::install(program);
    if (o.error != 0) return std::string("install: ") + std::strerror(o.error);
  }
  return {};
}

struct Case {
  std::string name;
  std::function<int()> op;
};

int g_shmid = -1;  // a one-page segment, made before the fork

// The old mmap's argument block and ipc's result word live in W's last page (not sealed, writable).
std::uint64_t scratch() { return kW.at(3); }

int old_mmap(std::uint32_t addr, std::uint32_t len, std::uint32_t flags) {
  auto* a = reinterpret_cast<std::uint32_t*>(scratch());
  const std::uint32_t args[6] = {addr, len, PROT_READ, flags, 0xffffffffu, 0};
  std::memcpy(a, args, sizeof args);
  return int80(i386::kOldMmap, scratch());
}

int process_madvise_self(std::uint32_t addr, std::uint32_t len, int advice) {
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0));
  if (pidfd < 0) return 255;
  auto* iov = reinterpret_cast<std::uint32_t*>(scratch());  // struct compat_iovec
  iov[0] = addr;
  iov[1] = len;
  return int80(i386::kProcessMadvise, static_cast<std::uint64_t>(pidfd), scratch(), 1,
               static_cast<std::uint64_t>(advice), 0);
}

int ipc_shmat(std::uint32_t version, std::uint64_t addr, std::uint32_t flags) {
  return int80(i386::kIpc, i386::kIpcShmat | version << 16, static_cast<std::uint64_t>(g_shmid), flags, scratch(),
               addr);
}

std::vector<Case> equal_cases() {
  const std::uint64_t S = kL.at(2), U = kL.at(1);  // a sealed page, an unsealed one
  const std::uint64_t anon = MAP_PRIVATE | MAP_ANONYMOUS;
  std::vector<Case> c;
  auto add = [&](std::string name, std::function<int()> op) { c.push_back({std::move(name), std::move(op)}); };

  add("mprotect sealed page", [=] { return int80(i386::kMprotect, S, P, PROT_READ); });
  add("mprotect unsealed page", [=] { return int80(i386::kMprotect, U, P, PROT_READ); });
  add("mprotect len 0 on sealed", [=] { return int80(i386::kMprotect, S, 0, PROT_READ); });
  add("mprotect unaligned", [=] { return int80(i386::kMprotect, S + 1, P, PROT_READ); });
  add("mprotect from unsealed into sealed", [=] { return int80(i386::kMprotect, U, 2 * P, PROT_READ); });
  add("mprotect 4097 bytes from unsealed", [=] { return int80(i386::kMprotect, U, P + 1, PROT_READ); });
  add("mprotect len 0xffffffff from sealed", [=] { return int80(i386::kMprotect, S, 0xffffffffu, PROT_READ); });
  add("mprotect sealed, junk high halves", [=] {
    return int80(i386::kMprotect, kJunk | S, kJunk | P, kJunk | PROT_READ, kJunk, kJunk, kJunk);
  });
  add("mprotect unsealed, junk high halves", [=] {
    return int80(i386::kMprotect, kJunk | U, kJunk | P, kJunk | PROT_READ, kJunk, kJunk, kJunk);
  });
  add("pkey_mprotect sealed", [=] { return int80(i386::kPkeyMprotect, S, P, PROT_READ, 0xffffffffu); });
  add("pkey_mprotect unsealed", [=] { return int80(i386::kPkeyMprotect, U, P, PROT_READ, 0xffffffffu); });

  add("munmap sealed page", [=] { return int80(i386::kMunmap, S, P); });
  add("munmap unsealed page", [=] { return int80(i386::kMunmap, U, P); });
  add("munmap len 0", [=] { return int80(i386::kMunmap, S, 0); });
  add("munmap unaligned", [=] { return int80(i386::kMunmap, S + 1, P); });
  add("munmap the whole region", [=] { return int80(i386::kMunmap, kL.at(0), 8 * P); });
  add("munmap sealed, junk high halves", [=] { return int80(i386::kMunmap, kJunk | S, kJunk | P); });
  add("munmap sealed writable page", [=] { return int80(i386::kMunmap, kW.at(1), P); });

  add("mmap2 MAP_FIXED over sealed", [=] { return int80(i386::kMmap2, S, P, PROT_READ, anon | MAP_FIXED, ~0u, 0); });
  add("mmap2 MAP_FIXED over unsealed", [=] { return int80(i386::kMmap2, U, P, PROT_READ, anon | MAP_FIXED, ~0u, 0); });
  add("mmap2 MAP_FIXED page offset 1 over sealed",
      [=] { return int80(i386::kMmap2, S, P, PROT_READ, anon | MAP_FIXED, ~0u, 1); });
  add("mmap2 MAP_FIXED_NOREPLACE over sealed",
      [=] { return int80(i386::kMmap2, S, P, PROT_READ, anon | MAP_FIXED_NOREPLACE, ~0u, 0); });
  add("mmap2 hint at sealed", [=] { return int80(i386::kMmap2, S, P, PROT_READ, anon, ~0u, 0); });
  add("mmap2 MAP_FIXED len 0", [=] { return int80(i386::kMmap2, S, 0, PROT_READ, anon | MAP_FIXED, ~0u, 0); });
  add("mmap2 MAP_FIXED over sealed, junk high halves", [=] {
    return int80(i386::kMmap2, kJunk | S, kJunk | P, kJunk | PROT_READ, kJunk | anon | MAP_FIXED, kJunk | ~0u, kJunk);
  });
  add("old mmap MAP_FIXED over sealed", [=] { return old_mmap(static_cast<std::uint32_t>(S), P, anon | MAP_FIXED); });

  add("mremap sealed same size", [=] { return int80(i386::kMremap, S, P, P, 0); });
  add("mremap sealed grow, may move", [=] { return int80(i386::kMremap, S, P, 2 * P, MREMAP_MAYMOVE); });
  add("mremap shrink sealed", [=] { return int80(i386::kMremap, S, 2 * P, P, 0); });
  add("mremap unsealed onto sealed", [=] {
    return int80(i386::kMremap, U, P, P, MREMAP_MAYMOVE | MREMAP_FIXED, kL.at(6));
  });
  add("mremap unsealed onto unsealed", [=] {
    return int80(i386::kMremap, U, P, P, MREMAP_MAYMOVE | MREMAP_FIXED, kL.at(5));
  });
  add("mremap sealed away", [=] { return int80(i386::kMremap, kL.at(6), P, P, MREMAP_MAYMOVE | MREMAP_FIXED, U); });
  add("mremap DONTUNMAP of sealed", [=] { return int80(i386::kMremap, S, P, P, MREMAP_MAYMOVE | MREMAP_DONTUNMAP); });
  add("mremap unaligned", [=] { return int80(i386::kMremap, S + 1, P, P, 0); });
  add("mremap unsealed grow in place, no room", [=] { return int80(i386::kMremap, kL.at(4), P, 2 * P, 0); });
  add("mremap onto sealed, junk high halves", [=] {
    return int80(i386::kMremap, kJunk | U, kJunk | P, kJunk | P, kJunk | MREMAP_MAYMOVE | MREMAP_FIXED,
                 kJunk | kL.at(6));
  });

  add("madvise DONTNEED sealed read-only", [=] { return int80(i386::kMadvise, S, P, MADV_DONTNEED); });
  add("madvise FREE sealed read-only", [=] { return int80(i386::kMadvise, S, P, MADV_FREE); });
  add("madvise WILLNEED sealed", [=] { return int80(i386::kMadvise, S, P, MADV_WILLNEED); });
  add("madvise DONTNEED sealed writable", [=] { return int80(i386::kMadvise, kW.at(1), P, MADV_DONTNEED); });
  add("madvise DONTNEED unsealed", [=] { return int80(i386::kMadvise, U, P, MADV_DONTNEED); });
  add("madvise DONTNEED sealed, junk high halves",
      [=] { return int80(i386::kMadvise, kJunk | S, kJunk | P, kJunk | MADV_DONTNEED); });
  add("process_madvise DONTNEED sealed", [=] { return process_madvise_self(static_cast<std::uint32_t>(S), P, MADV_DONTNEED); });
  add("process_madvise WILLNEED sealed", [=] { return process_madvise_self(static_cast<std::uint32_t>(S), P, MADV_WILLNEED); });

  add("shmat SHM_REMAP over sealed", [=] { return int80(i386::kShmat, static_cast<std::uint64_t>(g_shmid), S, SHM_REMAP); });
  add("shmat SHM_REMAP|SHM_RND unaligned over sealed",
      [=] { return int80(i386::kShmat, static_cast<std::uint64_t>(g_shmid), S + 5, SHM_REMAP | SHM_RND); });
  add("shmat SHM_REMAP unaligned", [=] { return int80(i386::kShmat, static_cast<std::uint64_t>(g_shmid), S + 5, SHM_REMAP); });
  add("shmat SHM_REMAP at 0", [=] { return int80(i386::kShmat, static_cast<std::uint64_t>(g_shmid), 0, SHM_REMAP); });
  add("shmat over sealed without SHM_REMAP", [=] { return int80(i386::kShmat, static_cast<std::uint64_t>(g_shmid), S, 0); });
  add("shmat SHM_REMAP over sealed, junk high halves", [=] {
    return int80(i386::kShmat, kJunk | static_cast<std::uint64_t>(g_shmid), kJunk | S, kJunk | SHM_REMAP);
  });
  add("ipc SHMAT SHM_REMAP over sealed", [=] { return ipc_shmat(0, S, SHM_REMAP); });
  add("ipc SHMAT version 1", [=] { return ipc_shmat(1, S, SHM_REMAP); });
  add("ipc SHMAT over sealed without SHM_REMAP", [=] { return ipc_shmat(0, S, 0); });
  add("ipc SHMAT SHM_REMAP over sealed, junk high halves", [=] { return ipc_shmat(0, kJunk | S, SHM_REMAP); });

  if (kBeyond4GiB) {
    // 32-bit arguments reach up to 8 GiB: a start below 4 GiB and a length across it.
    const std::uint64_t from = 0xffff'0000;
    add("munmap from below 4 GiB into a seal above it", [=] { return int80(i386::kMunmap, from, kH.at(2) - from); });
    add("munmap from below 4 GiB up to a seal above it", [=] { return int80(i386::kMunmap, from, kH.at(1) - from); });
    add("mmap2 MAP_FIXED from below 4 GiB into a seal above it", [=] {
      return int80(i386::kMmap2, from, kH.at(2) - from, PROT_READ, anon | MAP_FIXED, ~0u, 0);
    });
    add("mprotect across the seal above 4 GiB", [=] { return int80(i386::kMprotect, kH.at(0), 2 * P, PROT_READ); });
  }
  return c;
}

// Where the filter refuses what the kernel allows (docs/seccomp.md): it cannot
// read old mmap's arguments, the iovec, or a segment's size.
struct KnownDifference {
  Case c;
  int kernel;
};

std::vector<KnownDifference> known_differences() {
  const std::uint64_t U = kL.at(1);
  return {
      {{"old mmap without MAP_FIXED", [] { return old_mmap(0, P, MAP_PRIVATE | MAP_ANONYMOUS); }}, 0},
      {{"process_madvise DONTNEED of unsealed memory",
        [=] { return process_madvise_self(static_cast<std::uint32_t>(U), P, MADV_DONTNEED); }},
       0},
      {{"shmat SHM_REMAP at unsealed memory below a sealed range",
        [=] { return int80(i386::kShmat, static_cast<std::uint64_t>(g_shmid), U, SHM_REMAP); }},
       0},
  };
}

std::vector<long> run_cases(SealBy how, const std::vector<Region>& rs, const std::vector<Case>& cases,
                            std::string& problem) {
  std::vector<long> results;
  ChildOutput out = run_child([&](std::string& child_problem) {
    std::vector<long> r;
    child_problem = map_and_seal(rs, how);
    if (!child_problem.empty()) return r;
    for (const Case& c : cases) r.push_back(in_grandchild(c.op));
    return r;
  });
  if (!out.exited_cleanly) problem = out.problem;
  return out.values;
}

class SeccompInt80 : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!sealkit::backend::kernel::available()) GTEST_SKIP() << "this kernel has no mseal(2): no oracle to compare with";
    // A kernel without CONFIG_IA32_EMULATION (or with ia32_emulation=0) answers int 0x80 with SIGSEGV.
    ChildOutput probe = run_child([](std::string&) { return std::vector<long>{int80(20)}; });  // getpid
    if (!probe.exited_cleanly) GTEST_SKIP() << "int $0x80 does not work here (" << probe.problem << "): no i386 ABI";
    g_shmid = ::shmget(IPC_PRIVATE, P, IPC_CREAT | 0600);
    ASSERT_GE(g_shmid, 0) << std::strerror(errno);
  }
  void TearDown() override {
    if (g_shmid >= 0) ::shmctl(g_shmid, IPC_RMID, nullptr);
    g_shmid = -1;
  }
};

TEST_F(SeccompInt80, TheNumbersAreTheKernelHeaders) {
  const I386Numbers& h = kHeaderI386Numbers;
  EXPECT_EQ(h.old_mmap, static_cast<int>(i386::kOldMmap));
  EXPECT_EQ(h.munmap, static_cast<int>(i386::kMunmap));
  EXPECT_EQ(h.ipc, static_cast<int>(i386::kIpc));
  EXPECT_EQ(h.mprotect, static_cast<int>(i386::kMprotect));
  EXPECT_EQ(h.mremap, static_cast<int>(i386::kMremap));
  EXPECT_EQ(h.mmap2, static_cast<int>(i386::kMmap2));
  EXPECT_EQ(h.madvise, static_cast<int>(i386::kMadvise));
  EXPECT_EQ(h.pkey_mprotect, static_cast<int>(i386::kPkeyMprotect));
  EXPECT_EQ(h.shmat, static_cast<int>(i386::kShmat));
  EXPECT_EQ(h.process_madvise, static_cast<int>(i386::kProcessMadvise));
}

// seccomp shows an int 0x80 caller's whole registers: a filter that looks at
// a high half sees what the caller put there (so the generated filter must
// never look), while the call itself uses the low half.
TEST_F(SeccompInt80, SeccompShowsTheHighHalvesTheKernelIgnores) {
  ChildOutput out = run_child([](std::string& problem) {
    std::vector<long> v;
    const sock_filter insns[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0]) + 4),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 77),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{static_cast<unsigned short>(std::size(insns)), const_cast<sock_filter*>(insns)};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
      problem = "cannot install the probe filter";
      return v;
    }
    void* page = ::mmap(reinterpret_cast<void*>(kL.base), P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (page != reinterpret_cast<void*>(kL.base)) {
      problem = "mmap";
      return v;
    }
    v.push_back(int80(i386::kMprotect, kL.base, P, PROT_READ));
    v.push_back(int80(i386::kMprotect, kJunk | kL.base, P, PROT_READ));
    // Without a filter's objection the kernel does the call on the low half: the page becomes PROT_NONE.
    v.push_back(int80(i386::kMprotect, kL.base, kJunk | P, kJunk | PROT_NONE));
    // Its permissions as /proc/self/maps lists them ("---p" when PROT_NONE).
    std::ifstream maps("/proc/self/maps");
    std::string line, perms;
    char start[32];
    std::snprintf(start, sizeof start, "%llx-", static_cast<unsigned long long>(kL.base));
    while (std::getline(maps, line))
      if (line.rfind(start, 0) == 0) perms = line.substr(line.find(' ') + 1, 4);
    v.push_back(perms == "---p");
    return v;
  });
  ASSERT_TRUE(out.exited_cleanly) << out.problem;
  ASSERT_EQ(out.values.size(), 4u);
  EXPECT_EQ(out.values[0], 0) << "low half only";
  EXPECT_EQ(out.values[1], 77) << "the filter saw the high half of ebx";
  EXPECT_EQ(out.values[2], 0);
  EXPECT_EQ(out.values[3], 1) << "the page is PROT_NONE: the call used the low halves";
}

TEST_F(SeccompInt80, EveryCellMatchesMseal) {
  const std::vector<Region> rs = regions();
  const std::vector<Case> cases = equal_cases();
  std::string kernel_problem, filter_problem;
  const std::vector<long> kernel = run_cases(SealBy::kMseal, rs, cases, kernel_problem);
  const std::vector<long> filter = run_cases(SealBy::kFilter, rs, cases, filter_problem);
  ASSERT_EQ(kernel_problem, "");
  ASSERT_EQ(filter_problem, "");
  ASSERT_EQ(kernel.size(), cases.size());
  ASSERT_EQ(filter.size(), cases.size());
  std::ostringstream differ;
  int eperm = 0, success = 0, other = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    (kernel[i] == EPERM ? eperm : kernel[i] == 0 ? success : other)++;
    if (kernel[i] != filter[i]) differ << "  " << cases[i].name << ": mseal " << kernel[i] << ", filter " << filter[i] << "\n";
  }
  EXPECT_EQ(differ.str(), "") << "cells that differ (errno values)";
  // All three outcomes, or the cells test little.
  EXPECT_GT(eperm, 25);
  EXPECT_GT(success, 8);
  EXPECT_GT(other, 8);
  std::printf("%zu i386 cells%s: %d EPERM, %d success, %d other errors\n", cases.size(),
              kBeyond4GiB ? "" : " (none above 4 GiB: ASan's shadow gap is there)", eperm, success, other);
}

TEST_F(SeccompInt80, KnownDifferencesAreExactlyTheDocumentedOnes) {
  const std::vector<Region> rs = regions();
  std::vector<KnownDifference> diffs = known_differences();
  std::vector<Case> cases;
  for (const KnownDifference& d : diffs) cases.push_back(d.c);
  std::string kernel_problem, filter_problem;
  const std::vector<long> kernel = run_cases(SealBy::kMseal, rs, cases, kernel_problem);
  const std::vector<long> filter = run_cases(SealBy::kFilter, rs, cases, filter_problem);
  ASSERT_EQ(kernel_problem, "");
  ASSERT_EQ(filter_problem, "");
  ASSERT_EQ(kernel.size(), cases.size());
  ASSERT_EQ(filter.size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(kernel[i], diffs[i].kernel) << cases[i].name << " (mseal)";
    EXPECT_EQ(filter[i], EPERM) << cases[i].name << " (filter)";
  }
}

// Controls: with nothing sealed every refused cell succeeds, and under the
// filter the same calls on unsealed low memory succeed.
TEST_F(SeccompInt80, UnsealedControlsSucceed) {
  const std::uint64_t anon = MAP_PRIVATE | MAP_ANONYMOUS;
  auto on = [&](std::uint64_t page) {
    return std::vector<Case>{
        {"mprotect", [=] { return int80(i386::kMprotect, kJunk | page, P, PROT_READ); }},
        {"pkey_mprotect", [=] { return int80(i386::kPkeyMprotect, page, P, PROT_READ, 0xffffffffu); }},
        {"munmap", [=] { return int80(i386::kMunmap, page, kJunk | P); }},
        {"mmap2 MAP_FIXED", [=] { return int80(i386::kMmap2, page, P, PROT_READ, anon | MAP_FIXED, ~0u, 0); }},
        {"old mmap MAP_FIXED", [=] { return old_mmap(static_cast<std::uint32_t>(page), P, anon | MAP_FIXED); }},
        {"mremap move", [=] { return int80(i386::kMremap, page, P, P, MREMAP_MAYMOVE | MREMAP_FIXED, kL.at(5)); }},
        {"mremap grow", [=] { return int80(i386::kMremap, page, P, 2 * P, MREMAP_MAYMOVE); }},
        {"madvise DONTNEED", [=] { return int80(i386::kMadvise, page, P, MADV_DONTNEED); }},
        {"shmat SHM_REMAP", [=] { return int80(i386::kShmat, static_cast<std::uint64_t>(g_shmid), page, SHM_REMAP); }},
        {"ipc SHMAT SHM_REMAP", [=] { return ipc_shmat(0, page, SHM_REMAP); }},
    };
  };
  std::string problem;
  const std::vector<Case> sealed_pages = on(kL.at(2));
  const std::vector<long> unsealed = run_cases(SealBy::kNothing, regions(), sealed_pages, problem);
  ASSERT_EQ(problem, "");
  ASSERT_EQ(unsealed.size(), sealed_pages.size());
  for (std::size_t i = 0; i < sealed_pages.size(); ++i) EXPECT_EQ(unsealed[i], 0) << sealed_pages[i].name << ", nothing sealed";
  // Above every seal of L and W (H, when present, is above 4 GiB: the
  // shm cells would reach it, as every x86_64 shmat below a seal does).
  // Old mmap is left out: refused whatever it asks while a seal is in reach (a known difference);
  // so are SHM_REMAP attaches below a seal (another one).
  std::vector<Region> low_only = {kL, kW};
  std::vector<Case> free_pages;
  for (Case& c : on(kL.at(7)))
    if (c.name.find("SHM_REMAP") == std::string::npos && c.name.find("old mmap") == std::string::npos)
      free_pages.push_back(c);
  for (Case& c : on(kW.at(2) + 0x100'0000))  // unmapped, above every seal: the shm cells
    if (c.name.find("SHM_REMAP") != std::string::npos) free_pages.push_back(c);
  const std::vector<long> filtered = run_cases(SealBy::kFilter, low_only, free_pages, problem);
  ASSERT_EQ(problem, "");
  ASSERT_EQ(filtered.size(), free_pages.size());
  for (std::size_t i = 0; i < free_pages.size(); ++i) EXPECT_EQ(filtered[i], 0) << free_pages[i].name << ", under the filter";
}

// Ranges beyond i386 reach guard only the shm forms, whose segment reaches any
// address: measured here, a compat shmat of a 16 GiB segment at 768 MiB maps
// over 12 GiB, and the kernel refuses it when a seal is there. Every other
// i386 call passes untouched (a 32-bit program under a stale filter runs).
TEST_F(SeccompInt80, ShmatReachesSealsBeyond8GiBAndNothingElseIsGuarded) {
  if (!kBeyond4GiB) GTEST_SKIP() << "ASan build: a 12 GiB attach would land on ASan's shadow memory";
  const int big = ::shmget(IPC_PRIVATE, std::size_t{16} << 30, IPC_CREAT | SHM_NORESERVE | 0600);
  ASSERT_GE(big, 0) << std::strerror(errno);
  const Region far{0x3'0000'0000, 2, PROT_READ, {{1, 2}}};  // sealed at 12 GiB + 4 KiB
  const Region low{kL.base, 8, PROT_READ, {}};
  const std::uint64_t at = 0x3000'0000;
  const std::uint64_t anon = MAP_PRIVATE | MAP_ANONYMOUS;
  const std::vector<Case> cases = {
      {"shmat SHM_REMAP of 16 GiB at 768 MiB", [=] { return int80(i386::kShmat, static_cast<std::uint64_t>(big), at, SHM_REMAP); }},
      {"ipc SHMAT SHM_REMAP of 16 GiB at 768 MiB",
       [=] { return int80(i386::kIpc, i386::kIpcShmat, static_cast<std::uint64_t>(big), SHM_REMAP, scratch(), at); }},
      {"mprotect low", [=] { return int80(i386::kMprotect, kL.at(1), P, PROT_NONE); }},
      {"munmap low", [=] { return int80(i386::kMunmap, kL.at(1), P); }},
      {"mmap2 MAP_FIXED low", [=] { return int80(i386::kMmap2, kL.at(1), P, PROT_READ, anon | MAP_FIXED, ~0u, 0); }},
      {"old mmap MAP_FIXED low", [=] { return old_mmap(static_cast<std::uint32_t>(kL.at(1)), P, anon | MAP_FIXED); }},
      {"mremap low", [=] { return int80(i386::kMremap, kL.at(1), P, P, MREMAP_MAYMOVE | MREMAP_FIXED, kL.at(5)); }},
      {"madvise DONTNEED low", [=] { return int80(i386::kMadvise, kL.at(1), P, MADV_DONTNEED); }},
  };
  // W holds the scratch page; its seal-less copy here.
  const Region w{kW.base, 4, PROT_READ | PROT_WRITE, {}};
  std::string problem;
  auto run = [&](SealBy how, seccomp::I386Guard* guard) {
    ChildOutput out = run_child([&](std::string& child_problem) {
      std::vector<long> r;
      child_problem = map_and_seal({far, low, w}, how, guard);
      if (!child_problem.empty()) return r;
      if (guard != nullptr) r.push_back(static_cast<long>(*guard));
      for (const Case& c : cases) r.push_back(in_grandchild(c.op));
      return r;
    });
    EXPECT_TRUE(out.exited_cleanly) << out.problem;
    return out.values;
  };
  const std::vector<long> none = run(SealBy::kNothing, nullptr);
  const std::vector<long> kernel = run(SealBy::kMseal, nullptr);
  seccomp::I386Guard guard = seccomp::I386Guard::kNone;
  std::vector<long> filter = run(SealBy::kFilter, &guard);
  ::shmctl(big, IPC_RMID, nullptr);
  ASSERT_EQ(none.size(), cases.size());
  ASSERT_EQ(kernel.size(), cases.size());
  ASSERT_EQ(filter.size(), cases.size() + 1);
  EXPECT_EQ(filter[0], static_cast<long>(seccomp::I386Guard::kShmat)) << "the range lies beyond i386 reach";
  filter.erase(filter.begin());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const bool shm = i < 2;
    EXPECT_EQ(none[i], 0) << cases[i].name << ", nothing sealed";
    EXPECT_EQ(kernel[i], shm ? EPERM : 0) << cases[i].name << " (mseal)";
    EXPECT_EQ(filter[i], kernel[i]) << cases[i].name << " (filter)";
  }
}

// A filter left over from a 64-bit image must not break a 32-bit program that
// execve starts under it (docs/seccomp.md, difference 7): with ranges beyond
// i386 reach (every PIE program's) and with a range below it that the 32-bit
// program does not use, its own attacks on its own memory (the forms harmless
// on unsealed memory) all succeed and it exits 0.
TEST(SeccompInt80Stale, A32BitProgramRunsUnderAStaleFilter) {
#ifndef ATTACK_TARGET_I386
  GTEST_SKIP() << "no i386 toolchain (gcc-multilib): the 32-bit target was not built";
#else
  if (std::string why; !sealkit::test::kernel_executes(ATTACK_TARGET_I386, why)) GTEST_SKIP() << why;
  const std::vector<std::vector<seccomp::SealedRange>> layouts = {
      {{0x5000'0000'0000, 0x5000'0000'4000, true}, {0x7f00'0000'0000, 0x7f00'0001'0000, false}},
      {{0x2000'0000, 0x2000'4000, true}, {0x5000'0000'0000, 0x5000'0000'4000, true}},
  };
  for (const auto& ranges : layouts) {
    static seccomp::Program program;
    seccomp::Input in{ranges.data(), ranges.size(), seccomp::task_size()};
    ASSERT_EQ(seccomp::build(in, program), seccomp::BuildStatus::kOk);
    int out[2];
    ASSERT_EQ(::pipe(out), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::dup2(out[1], 1);
      ::close(out[0]);
      ::close(out[1]);
      if (seccomp::install(program).error != 0) ::_exit(126);
      ::execl(ATTACK_TARGET_I386, ATTACK_TARGET_I386, static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    std::string text;
    char buf[512];
    for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
    ::close(out[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    const char* guard = program.i386_guard == seccomp::I386Guard::kAll ? "a range in i386 reach" : "ranges beyond reach";
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << guard << ": wait status " << status;
    std::istringstream lines(text);
    std::size_t attacks = 0;
    for (std::string line; std::getline(lines, line); ++attacks)
      EXPECT_EQ(line.substr(line.rfind(' ') + 1), "ok") << guard << ": " << line;
    EXPECT_GE(attacks, 8u) << guard << ":\n" << text;
  }
#endif
}

}  // namespace
}  // namespace sealkit::test::backend
