// The generated programs themselves: the kernel's verifier takes them at
// every size, the budget is refused cleanly, calls that are not guarded pass
// without the filter reading their arguments, and on random layouts and
// requests (big trees with far jumps and return islands) the program decides
// exactly as an independent model of the rules.
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "backend/bpf_model.hpp"
#include "backend/fork_child.hpp"
#include "backend/kernel_abi.hpp"
#include "backend/seccomp/filter.hpp"
#include "backend/seccomp/install.hpp"

namespace sealkit::test::backend {
namespace {

namespace seccomp = sealkit::backend::seccomp;

constexpr std::uint64_t P = 4096;
constexpr std::uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr std::uint32_t kDeny = SECCOMP_RET_ERRNO | EPERM;

// `count` one-page ranges that never touch, spread over many 4 GiB windows
// from `base` (the default: all beyond i386 reach; 0x10000: the first ones
// within it, so that the program guards every i386 call too).
std::vector<seccomp::SealedRange> scattered(std::size_t count, bool discard_protected,
                                            std::uint64_t base = 0x5000'0000'0000) {
  std::vector<seccomp::SealedRange> out;
  for (std::size_t i = 0; i < count; ++i) {
    std::uint64_t start = base + i * 0x1000'0000 + (i % 7) * 3 * P;  // 16 per window
    out.push_back({start, start + P, discard_protected});
  }
  return out;
}

struct Built {
  seccomp::BuildStatus status;
  std::unique_ptr<seccomp::Program> program;
};

Built build(const std::vector<seccomp::SealedRange>& ranges, bool exact = true) {
  Built b{seccomp::BuildStatus::kInternal, std::make_unique<seccomp::Program>()};
  seccomp::Input in{ranges.data(), ranges.size(), seccomp::task_size(), exact};
  b.status = seccomp::build(in, *b.program);
  return b;
}

int install_in_child(const seccomp::Program& program) {
  ChildOutput out = run_child([&](std::string&) {
    seccomp::InstallOutcome o = seccomp::install(program);
    return std::vector<long>{o.error};
  });
  return out.values.size() == 1 ? static_cast<int>(out.values[0]) : -1;
}

TEST(SeccompProgram, TheVerifierAcceptsEverySize) {
  for (std::uint64_t base : {std::uint64_t{0x5000'0000'0000}, std::uint64_t{0x10000}}) {
    for (std::size_t n : {1, 10, 100, 975}) {
      // Up to 100 ranges with their madvise rule too; 975 of them only fit when
      // none of them is discard-protected (see CapacityOfOneFilter).
      Built b = build(scattered(n, n <= 100, base));
      ASSERT_EQ(b.status, seccomp::BuildStatus::kOk) << n << " ranges: " << seccomp::to_string(b.status);
      EXPECT_EQ(b.program->merged_ranges, n);
      EXPECT_EQ(b.program->i386_guard, base < seccomp::kI386Reach ? seccomp::I386Guard::kAll : seccomp::I386Guard::kShmat);
      EXPECT_EQ(seccomp_filter_problem(b.program->insns, b.program->length), "") << n << " ranges";
      EXPECT_EQ(install_in_child(*b.program), 0) << n << " ranges, " << b.program->length << " instructions";
      std::printf("%4zu ranges from %#llx: %4zu instructions (mremap destination %s)\n", n,
                  static_cast<unsigned long long>(base), b.program->length,
                  b.program->exact_mremap_destination ? "exact" : "by hull");
    }
  }
}

TEST(SeccompProgram, CapacityOfOneFilter) {
  // The largest count of separate one-page ranges that fits, found by bisection, for
  // the two extremes of the madvise rule.
  // Beyond i386 reach (only its shmat forms guarded) and from 0x10000 (every i386 call guarded).
  for (std::uint64_t base : {std::uint64_t{0x5000'0000'0000}, std::uint64_t{0x10000}}) {
    for (bool discard_protected : {false, true}) {
      std::size_t lo = 1, hi = 4000;
      while (lo < hi) {
        std::size_t mid = (lo + hi + 1) / 2;
        if (build(scattered(mid, discard_protected, base)).status == seccomp::BuildStatus::kOk) lo = mid;
        else hi = mid - 1;
      }
      Built b = build(scattered(lo, discard_protected, base));
      ASSERT_EQ(b.status, seccomp::BuildStatus::kOk);
      EXPECT_EQ(install_in_child(*b.program), 0);
      EXPECT_EQ(build(scattered(lo + 1, discard_protected, base)).status, seccomp::BuildStatus::kTooLarge);
      EXPECT_GE(lo, discard_protected ? 450u : 975u);
      std::printf("one filter holds %zu ranges %s from %#llx (%zu instructions, mremap destination %s)\n", lo,
                  discard_protected ? "all discard-protected" : "none discard-protected",
                  static_cast<unsigned long long>(base), b.program->length,
                  b.program->exact_mremap_destination ? "exact" : "by hull");
    }
  }
}

TEST(SeccompProgram, TooManyRangesFailCleanly) {
  Built b = build(scattered(3000, true));
  EXPECT_EQ(b.status, seccomp::BuildStatus::kTooLarge);
  EXPECT_EQ(b.program->length, 0u);
  EXPECT_EQ(seccomp::to_errno(b.status), ENOMEM);
}

TEST(SeccompProgram, InvalidRangesAreRefused) {
  for (seccomp::SealedRange bad : {seccomp::SealedRange{0x1000, 0x1000, false}, seccomp::SealedRange{0x1001, 0x3000, false},
                                  seccomp::SealedRange{0x1000, 0x2fff, false}, seccomp::SealedRange{0x3000, 0x1000, false}}) {
    Built b = build({bad});
    EXPECT_EQ(b.status, seccomp::BuildStatus::kInvalidRange) << bad.start << "-" << bad.end;
    EXPECT_EQ(seccomp::to_errno(b.status), EINVAL);
  }
  seccomp::SealedRange good{0x1000, 0x2000, false};
  seccomp::Program program;
  EXPECT_EQ(seccomp::build(seccomp::Input{&good, 1, 0}, program), seccomp::BuildStatus::kInvalidRange) << "no TASK_SIZE";
}

TEST(SeccompProgram, TouchingRangesAreMerged) {
  std::vector<seccomp::SealedRange> ranges;
  for (std::size_t i = 0; i < 3000; ++i) ranges.push_back({0x5000'0000'0000 + (2999 - i) * P, 0x5000'0000'0000 + (3000 - i) * P, true});
  ranges.push_back({0x5000'0000'0000 + 10 * P, 0x5000'0000'0000 + 20 * P, false});  // overlapping
  Built b = build(ranges);
  ASSERT_EQ(b.status, seccomp::BuildStatus::kOk);
  EXPECT_EQ(b.program->merged_ranges, 1u);
  EXPECT_EQ(b.program->discard_ranges, 1u);
  // Exactly the program of the one range they make.
  Built single = build({{0x5000'0000'0000, 0x5000'0000'0000 + 3000 * P, true}});
  ASSERT_EQ(single.status, seccomp::BuildStatus::kOk);
  ASSERT_EQ(b.program->length, single.program->length);
  EXPECT_EQ(std::memcmp(b.program->insns, single.program->insns, b.program->length * sizeof(sock_filter)), 0);
}

TEST(SeccompProgram, NoRangesAllowEverything) {
  Built b = build({});
  ASSERT_EQ(b.status, seccomp::BuildStatus::kOk);
  seccomp_data d{};
  d.arch = AUDIT_ARCH_X86_64;
  for (int nr : {__NR_mmap, __NR_munmap, __NR_mprotect}) {
    d.nr = nr;
    EXPECT_EQ(run_filter(b.program->insns, b.program->length, d).action, kAllow);
  }
}

// The per-filter action cache (Linux 5.11+) skips a filter for a call number
// whose path reads only arch and nr and returns ALLOW.
TEST(SeccompProgram, UnguardedCallsNeverReadArguments) {
  Built b = build(scattered(40, true));
  ASSERT_EQ(b.status, seccomp::BuildStatus::kOk);
  const int guarded[] = {__NR_mmap, __NR_munmap, __NR_mprotect, __NR_pkey_mprotect, __NR_mremap,
                         __NR_madvise, __NR_process_madvise, __NR_shmat};
  int unguarded_seen = 0;
  for (int nr = 0; nr < 500; ++nr) {
    bool is_guarded = false;
    for (int g : guarded) is_guarded |= g == nr;
    if (is_guarded) continue;
    seccomp_data d{};
    d.arch = AUDIT_ARCH_X86_64;
    d.nr = nr;
    for (auto& a : d.args) a = 0x5000'0000'0000;  // a sealed address everywhere
    RunResult r = run_filter(b.program->insns, b.program->length, d);
    EXPECT_EQ(r.action, kAllow) << nr;
    EXPECT_FALSE(r.read_arguments) << nr;
    EXPECT_TRUE(r.cache_emulable) << nr;
    ++unguarded_seen;
  }
  EXPECT_GT(unguarded_seen, 400);
}

// The same for i386 (int 0x80): the action cache emulates each arch, so every
// i386 call the program does not guard must also reach ALLOW through arch and
// nr alone. Ranges beyond i386 reach guard only shmat (397) and ipc (117);
// a range within reach guards every call of docs/seccomp.md, difference 7.
TEST(SeccompProgram, UnguardedI386CallsNeverReadArguments) {
  const std::vector<int> shm_only = {117, 397};
  const std::vector<int> every = {90, 91, 117, 125, 163, 192, 219, 380, 397, 440};
  struct Layout {
    std::vector<seccomp::SealedRange> ranges;
    seccomp::I386Guard guard;
    const std::vector<int>* guarded;
  };
  const Layout layouts[] = {
      {scattered(40, true), seccomp::I386Guard::kShmat, &shm_only},
      {{{seccomp::kI386Reach, seccomp::kI386Reach + P, true}}, seccomp::I386Guard::kShmat, &shm_only},
      {{{seccomp::kI386Reach - P, seccomp::kI386Reach, true}}, seccomp::I386Guard::kAll, &every},
      {scattered(40, true, 0x10000), seccomp::I386Guard::kAll, &every},
  };
  for (const Layout& l : layouts) {
    Built b = build(l.ranges);
    ASSERT_EQ(b.status, seccomp::BuildStatus::kOk);
    EXPECT_EQ(b.program->i386_guard, l.guard) << std::hex << l.ranges[0].start;
    int unguarded_seen = 0;
    for (int nr = 0; nr < 500; ++nr) {
      seccomp_data d{};
      d.arch = AUDIT_ARCH_I386;
      d.nr = nr;
      d.args[0] = d.args[1] = d.args[2] = d.args[3] = d.args[4] = d.args[5] = l.ranges[0].start;
      RunResult r = run_filter(b.program->insns, b.program->length, d);
      if (std::find(l.guarded->begin(), l.guarded->end(), nr) != l.guarded->end()) {
        EXPECT_TRUE(r.read_arguments || r.action != kAllow) << nr << " is guarded";
        continue;
      }
      EXPECT_EQ(r.action, kAllow) << nr;
      EXPECT_FALSE(r.read_arguments) << nr;
      EXPECT_TRUE(r.cache_emulable) << nr;
      ++unguarded_seen;
    }
    EXPECT_GT(unguarded_seen, 480);
  }
  // No range, no guard in any ABI.
  Built none = build({});
  ASSERT_EQ(none.status, seccomp::BuildStatus::kOk);
  EXPECT_EQ(none.program->i386_guard, seccomp::I386Guard::kNone);
  EXPECT_EQ(none.program->length, 7u);
}

TEST(SeccompProgram, UnguardedCallsWorkUnderTheFilter) {
  Built b = build(scattered(40, true));
  ASSERT_EQ(b.status, seccomp::BuildStatus::kOk);
  ChildOutput out = run_child([&](std::string& problem) {
    std::vector<long> v;
    seccomp::InstallOutcome o = seccomp::install(*b.program);
    if (o.error != 0) {
      problem = std::string("install: ") + std::strerror(o.error);
      return v;
    }
    v.push_back(::getpid() == static_cast<pid_t>(::syscall(SYS_getpid)));
    void* p = ::mmap(nullptr, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    v.push_back(p != MAP_FAILED);
    v.push_back(p != MAP_FAILED && ::mprotect(p, P, PROT_READ) == 0);
    v.push_back(p != MAP_FAILED && ::madvise(p, 4 * P, MADV_DONTNEED) == 0);
    v.push_back(p != MAP_FAILED && ::munmap(p, 4 * P) == 0);
    std::ifstream status("/proc/self/status");
    std::string line;
    bool filtered = false;
    while (std::getline(status, line)) filtered |= line == "Seccomp:\t2";
    v.push_back(filtered);
    v.push_back(o.all_threads);
    return v;
  });
  ASSERT_TRUE(out.exited_cleanly) << out.problem;
  ASSERT_EQ(out.values.size(), 7u);
  const char* what[] = {"getpid", "mmap", "mprotect", "madvise", "munmap", "Seccomp: 2", "TSYNC"};
  for (std::size_t i = 0; i < 7; ++i) EXPECT_EQ(out.values[i], 1) << what[i];
}

// A filter of exactly `ebpf_length` instructions as the kernel counts them (>= 5):
// loads of 0 and a RET ALLOW.
std::vector<sock_filter> padding(std::size_t ebpf_length) {
  std::vector<sock_filter> f(ebpf_length - 5, sock_filter{BPF_LD | BPF_IMM, 0, 0, 0});
  f.push_back(sock_filter{BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW});
  return f;
}

int install_raw(std::vector<sock_filter>& f) {
  sock_fprog prog{static_cast<unsigned short>(f.size()), f.data()};
  return ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0 ? 0 : errno;
}

// The budget is predicted to the instruction: with the largest program installed,
// filters that fill the budget exactly are accepted, one instruction more is ENOMEM.
TEST(SeccompProgram, TheKernelBudgetIsPredictedExactly) {
  std::size_t lo = 1, hi = 4000;
  while (lo < hi) {
    std::size_t mid = (lo + hi + 1) / 2;
    if (build(scattered(mid, false)).status == seccomp::BuildStatus::kOk) lo = mid;
    else hi = mid - 1;
  }
  Built b = build(scattered(lo, false));
  ASSERT_EQ(b.status, seccomp::BuildStatus::kOk);
  const std::size_t cost = seccomp::kernel_length(*b.program);
  EXPECT_GT(cost, b.program->length);
  for (std::size_t extra : {0, 1}) {
    ChildOutput out = run_child([&](std::string& problem) {
      std::vector<long> v;
      if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) problem = "no_new_privs";
      seccomp::InstallOutcome o = seccomp::install(*b.program);
      if (o.error != 0) problem = std::string("install: ") + std::strerror(o.error);
      if (!problem.empty()) return v;
      std::size_t used = cost + seccomp::kFilterPenalty;  // what the installed filters count from now on
      while (true) {
        std::size_t room = seccomp::kMaxTotalInstructions - used;
        std::size_t next = std::min<std::size_t>(room, 4000);
        if (room - next < 5 && room != next) next = room - 5;  // leave room for a last filter of at least 5
        const bool last = next == room;
        std::vector<sock_filter> f = padding(last ? next + extra : next);
        int err = install_raw(f);
        v.push_back(err);
        if (last || err != 0) break;
        used += next + seccomp::kFilterPenalty;
      }
      return v;
    });
    ASSERT_TRUE(out.exited_cleanly) << out.problem;
    ASSERT_GE(out.values.size(), 2u);
    for (std::size_t i = 0; i + 1 < out.values.size(); ++i) EXPECT_EQ(out.values[i], 0) << "padding " << i;
    EXPECT_EQ(out.values.back(), extra == 0 ? 0 : ENOMEM) << (extra == 0 ? "exactly full" : "one over");
  }
  std::printf("a filter of %zu classic instructions counts %zu against the 32768 budget: %zu such filters fit\n",
              b.program->length, cost + seccomp::kFilterPenalty,
              (seccomp::kMaxTotalInstructions + seccomp::kFilterPenalty) / (cost + seccomp::kFilterPenalty));
}

// TSYNC: a thread that existed before the filter was installed is bound by it too.
TEST(SeccompProgram, EveryThreadGetsTheFilter) {
  void* sealed = ::mmap(nullptr, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(sealed, MAP_FAILED);
  const auto start = reinterpret_cast<std::uint64_t>(sealed);
  Built b = build({{start, start + P, true}});
  ASSERT_EQ(b.status, seccomp::BuildStatus::kOk);
  ChildOutput out = run_child([&](std::string& problem) {
    std::vector<long> v;
    int go[2];
    if (::pipe(go) != 0) {
      problem = "pipe";
      return v;
    }
    long thread_result = -1;
    std::thread other([&] {
      char c;
      if (::read(go[0], &c, 1) != 1) return;
      thread_result = ::munmap(sealed, P) == 0 ? 0 : errno;
    });
    seccomp::InstallOutcome o = seccomp::install(*b.program);
    (void)!::write(go[1], "x", 1);
    other.join();
    v = {o.error, o.all_threads, thread_result, ::mprotect(sealed, P, PROT_NONE) == 0 ? 0 : errno};
    return v;
  });
  ::munmap(sealed, P);
  ASSERT_TRUE(out.exited_cleanly) << out.problem;
  ASSERT_EQ(out.values.size(), 4u);
  EXPECT_EQ(out.values[0], 0);
  EXPECT_EQ(out.values[1], 1) << "TSYNC";
  EXPECT_EQ(out.values[2], EPERM) << "munmap in the thread that existed before";
  EXPECT_EQ(out.values[3], EPERM) << "mprotect in the installing thread";
}

// no_new_privs is set only when needed: without CAP_SYS_ADMIN.
TEST(SeccompProgram, NoNewPrivsOnlyWithoutCapSysAdmin) {
  Built b = build(scattered(3, true));
  ASSERT_EQ(b.status, seccomp::BuildStatus::kOk);
  for (bool drop_cap : {false, true}) {
    ChildOutput out = run_child([&](std::string& problem) {
      std::vector<long> v;
      if (drop_cap) {
        __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
        __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
        if (::syscall(SYS_capget, &header, data) != 0) problem = "capget";
        for (auto& d : data) d.effective = 0;
        if (problem.empty() && ::syscall(SYS_capset, &header, data) != 0) problem = "capset";
      }
      if (!problem.empty()) return v;
      seccomp::InstallOutcome o = seccomp::install(*b.program);
      v = {o.error, o.had_cap_sys_admin, o.set_no_new_privs, ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)};
      return v;
    });
    ASSERT_TRUE(out.exited_cleanly) << out.problem;
    ASSERT_EQ(out.values.size(), 4u);
    EXPECT_EQ(out.values[0], 0);
    const bool had_cap = out.values[1] != 0;
    if (!drop_cap && !had_cap) GTEST_SKIP() << "not running with CAP_SYS_ADMIN: only the no_new_privs path is testable";
    EXPECT_EQ(had_cap, !drop_cap);
    EXPECT_EQ(out.values[2], drop_cap ? 1 : 0) << "set_no_new_privs";
    EXPECT_EQ(out.values[3], drop_cap ? 1 : 0) << "PR_GET_NO_NEW_PRIVS";
  }
}

// ---- random requests against an independent model of the rules ----

struct Model {
  std::vector<seccomp::SealedRange> ranges;
  std::uint64_t task_size;

  bool overlaps(std::uint64_t start, std::uint64_t end_exclusive, bool discard_only) const {
    for (const auto& r : ranges) {
      if (discard_only && !r.discard_protected) continue;
      if (start < r.end && end_exclusive > r.start) return true;
    }
    return false;
  }
  // mprotect, munmap, madvise(discard), mmap(MAP_FIXED): every refusal before the seal check passes.
  std::uint32_t decide(int nr, std::uint64_t addr, std::uint64_t len) const {
    if (addr & (P - 1)) return kAllow;
    if (len == 0 || len > ~std::uint64_t{0} - (P - 1)) return kAllow;
    const std::uint64_t rounded = (len + P - 1) & ~(P - 1);
    std::uint64_t end;
    if (__builtin_add_overflow(addr, rounded, &end)) return kAllow;
    if ((nr == __NR_munmap || nr == __NR_mmap) && end > task_size) return kAllow;
    return overlaps(addr, end, nr == __NR_madvise) ? kDeny : kAllow;
  }
};

// Random layouts and requests, biased towards window boundaries, range edges,
// wrapping lengths and lengths of several 4 GiB.
class RandomCases {
 public:
  explicit RandomCases(std::uint64_t seed) : rng_(seed) {}

  Model layout(std::size_t n) {
    Model model{{}, seccomp::task_size()};
    for (std::size_t i = 0; i < n; ++i) {
      std::uint64_t start = (window() << 32) + offset();
      std::uint64_t pages = rng_() % 8 == 0 ? (rng_() % 3) * 0x10'0000 + 1 + rng_() % 8 : 1 + rng_() % 8;
      model.ranges.push_back({start, start + pages * P, rng_() % 2 == 0});
    }
    return model;
  }

  std::pair<std::uint64_t, std::uint64_t> request(const Model& model) {
    const seccomp::SealedRange& near = model.ranges[rng_() % model.ranges.size()];
    std::uint64_t addr;
    switch (rng_() % 4) {
      case 0: addr = near.start - (rng_() % 4) * P; break;
      case 1: addr = near.end - (rng_() % 4) * P; break;
      case 2: addr = (window() << 32) + offset(); break;
      default: addr = near.start + (rng_() % 3 == 0 ? rng_() % P : 0); break;
    }
    std::uint64_t len;
    switch (rng_() % 6) {
      case 0: len = rng_() % (3 * P); break;
      case 1: len = (rng_() % 8) * P; break;
      case 2: len = (rng_() % 3) * 0x1'0000'0000 + (rng_() % 16) * P - rng_() % 2; break;
      case 3: len = 0 - addr - (rng_() % 3) * P; break;  // around addr+len == 2^64
      case 4: len = ~std::uint64_t{0} - rng_() % (2 * P); break;
      default: len = near.end - addr + (rng_() % 3) * P - P; break;
    }
    return {addr, len};
  }

  int pick(int n) { return static_cast<int>(rng_() % static_cast<std::uint64_t>(n)); }

 private:
  std::uint64_t window() {
    static constexpr std::uint64_t kWindows[] = {0, 1, 0x2000, 0x2001, 0x2002, 0x5555, 0x7ffe, 0x7fff};
    return kWindows[rng_() % std::size(kWindows)];
  }
  // Offsets near the interesting places of a window: its start and its end.
  std::uint64_t offset() {
    switch (rng_() % 4) {
      case 0: return (rng_() % 16) * P;
      case 1: return 0x1'0000'0000 - (1 + rng_() % 16) * P;
      default: return (rng_() % 0x10'0000) * P;
    }
  }
  std::mt19937_64 rng_;
};

TEST(SeccompProgram, RandomRequestsDecideAsTheModel) {
  RandomCases random(20261127);
  std::size_t checked = 0, denied = 0;
  for (std::size_t n : {1, 2, 3, 10, 100, 400, 900}) {
    Model model = random.layout(n);
    Built b = build(model.ranges);
    ASSERT_EQ(b.status, seccomp::BuildStatus::kOk) << n;
    ASSERT_EQ(seccomp_filter_problem(b.program->insns, b.program->length), "") << n;
    for (int i = 0; i < 40000; ++i) {
      const auto [addr, len] = random.request(model);
      const int nrs[] = {__NR_mprotect, __NR_munmap, __NR_madvise, __NR_mmap};
      const int nr = nrs[random.pick(4)];
      seccomp_data d{};
      d.arch = AUDIT_ARCH_X86_64;
      d.nr = nr;
      d.args[0] = addr;
      d.args[1] = len;
      d.args[2] = nr == __NR_madvise ? MADV_DONTNEED : PROT_READ;
      d.args[3] = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
      d.args[4] = ~std::uint64_t{0};
      const std::uint32_t want = model.decide(nr, addr, len);
      const std::uint32_t got = run_filter(b.program->insns, b.program->length, d).action;
      ASSERT_EQ(got, want) << n << " ranges, nr " << nr << " addr 0x" << std::hex << addr << " len 0x" << len;
      ++checked;
      denied += want == kDeny;
    }
  }
  // Both answers must be common, or the requests miss the ranges.
  EXPECT_GT(denied, checked / 10);
  EXPECT_LT(denied, checked * 9 / 10);
}

// i386 requests (int 0x80 from a 64-bit process) on random layouts: the kernel
// uses the low 32 bits of each register while seccomp shows all 64, so every
// request carries garbage in its high words. The program must decide as the
// model does on the zero-extended request (mmap2's offset is in pages, never
// unaligned; 32-bit requests never pass TASK_SIZE), and mremap as the same
// program decides the zero-extended request in x86_64 terms.
TEST(SeccompProgram, RandomI386RequestsDecideOnTheirLowWords) {
  RandomCases random(20261129);
  std::mt19937_64 garbage(7);
  auto with_garbage = [&](std::uint32_t low) { return (garbage() % 3 == 0 ? 0 : garbage() << 32) | low; };
  std::size_t checked = 0, denied = 0;
  for (std::size_t n : {1, 3, 10, 100, 400}) {
    Model model = random.layout(n);
    Built b = build(model.ranges);
    ASSERT_EQ(b.status, seccomp::BuildStatus::kOk) << n;
    ASSERT_EQ(seccomp_filter_problem(b.program->insns, b.program->length), "") << n;
    auto run = [&](const seccomp_data& d) { return run_filter(b.program->insns, b.program->length, d).action; };
    for (int i = 0; i < 20000; ++i) {
      const auto [addr, len] = random.request(model);
      const auto a32 = static_cast<std::uint32_t>(addr), l32 = static_cast<std::uint32_t>(len);
      seccomp_data d{};
      d.arch = AUDIT_ARCH_I386;
      std::uint32_t want = kAllow;
      switch (random.pick(6)) {
        case 0:
        case 1:
        case 2:
        case 3: {  // mprotect, munmap, madvise, mmap2
          const int which = random.pick(4);
          const int i386_nr[] = {125, 91, 219, 192};
          const int x86_64_nr[] = {__NR_mprotect, __NR_munmap, __NR_madvise, __NR_mprotect};
          d.nr = i386_nr[which];
          d.args[0] = with_garbage(a32);
          d.args[1] = with_garbage(l32);
          d.args[2] = with_garbage(which == 2 ? MADV_DONTNEED : PROT_READ);
          d.args[3] = with_garbage(MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
          d.args[4] = with_garbage(0xffffffffu);
          d.args[5] = with_garbage(static_cast<std::uint32_t>(garbage()));  // mmap2's page offset: anything
          want = model.decide(x86_64_nr[which], a32, l32);
          break;
        }
        case 4: {  // shmat and ipc(SHMAT): [addr rounded down, 2^64)
          const std::uint32_t flag_sets[] = {0, SHM_REMAP, SHM_REMAP | SHM_RND, SHM_RND};
          const std::uint32_t flags = flag_sets[random.pick(4)];
          const std::uint32_t at = random.pick(3) == 0 ? a32 | static_cast<std::uint32_t>(garbage() % P) : a32;
          const int version = random.pick(3);  // 1 is EINVAL
          const bool ipc = random.pick(2) == 0;
          d.nr = ipc ? 117 : 397;
          if (ipc) {
            d.args[0] = with_garbage(21u | static_cast<std::uint32_t>(version) << 16);
            d.args[1] = with_garbage(5);
            d.args[2] = with_garbage(flags);
            d.args[3] = with_garbage(0x1000);
            d.args[4] = with_garbage(at);
          } else {
            d.args[0] = with_garbage(5);
            d.args[1] = with_garbage(at);
            d.args[2] = with_garbage(flags);
          }
          const std::uint64_t rounded = (flags & SHM_RND) ? at & ~(P - 1) : at;
          const bool valid = (flags & SHM_REMAP) && at != 0 && (at % P == 0 || (flags & SHM_RND)) && rounded != 0 &&
                             !(ipc && version == 1);
          want = valid && model.overlaps(rounded, ~std::uint64_t{0}, false) ? kDeny : kAllow;
          break;
        }
        default: {  // mremap: as x86_64 decides the zero-extended request
          const std::uint32_t flag_sets[] = {0, MREMAP_MAYMOVE, MREMAP_MAYMOVE | MREMAP_FIXED,
                                             MREMAP_MAYMOVE | MREMAP_DONTUNMAP, MREMAP_FIXED};
          const auto [to, to_len] = random.request(model);
          const std::uint32_t low[] = {a32, l32, static_cast<std::uint32_t>(to_len),
                                       flag_sets[random.pick(5)], static_cast<std::uint32_t>(to)};
          seccomp_data x{};
          x.arch = AUDIT_ARCH_X86_64;
          x.nr = __NR_mremap;
          d.nr = 163;
          for (int k = 0; k < 5; ++k) {
            x.args[k] = low[k];
            d.args[k] = with_garbage(low[k]);
          }
          want = run(x);
          break;
        }
      }
      const std::uint32_t got = run(d);
      ASSERT_EQ(got, want) << n << " ranges, i386 nr " << d.nr << std::hex << " args 0x" << d.args[0] << " 0x"
                           << d.args[1] << " 0x" << d.args[2] << " 0x" << d.args[3] << " 0x" << d.args[4];
      ++checked;
      denied += want == kDeny;
    }
  }
  EXPECT_GT(denied, checked / 20);
  EXPECT_LT(denied, checked * 9 / 10);
}

// Old mmap (90) passes a pointer to its arguments: refused outright while a
// range is within i386 reach, untouched otherwise.
TEST(SeccompProgram, OldI386MmapIsRefusedOnlyWithARangeInReach) {
  for (bool in_reach : {true, false}) {
    const std::uint64_t start = in_reach ? 0x40'0000 : 0x5000'0000'0000;
    Built b = build({{start, start + P, false}});
    ASSERT_EQ(b.status, seccomp::BuildStatus::kOk);
    seccomp_data d{};
    d.arch = AUDIT_ARCH_I386;
    d.nr = 90;
    d.args[0] = 0x1000;  // a pointer to the arguments
    EXPECT_EQ(run_filter(b.program->insns, b.program->length, d).action, in_reach ? kDeny : kAllow);
  }
}

// Input::discard_only (the runtime's harden-discard layer on a kernel with
// mseal): discarding madvise on a range and process_madvise with discard
// advice are refused; every other call passes on arch and nr alone (the
// action cache skips the filter), in both ABIs, shmat(SHM_REMAP) and old
// i386 mmap included; i386 madvise is guarded only while a range is in reach.
TEST(SeccompProgram, DiscardOnlyRefusesDiscardAdviceAndNothingElse) {
  for (const std::uint64_t start : {std::uint64_t{0x5000'0000'0000}, std::uint64_t{0x40'0000}}) {
    const bool in_reach = start < seccomp::kI386Reach;
    const std::vector<seccomp::SealedRange> ranges = {{start, start + 4 * P, true}};
    auto program = std::make_unique<seccomp::Program>();
    seccomp::Input in{ranges.data(), ranges.size(), seccomp::task_size()};
    in.discard_only = true;
    ASSERT_EQ(seccomp::build(in, *program), seccomp::BuildStatus::kOk);
    ASSERT_EQ(seccomp_filter_problem(program->insns, program->length), "");
    EXPECT_EQ(program->i386_guard, in_reach ? seccomp::I386Guard::kAll : seccomp::I386Guard::kNone);
    EXPECT_EQ(program->discard_ranges, 1u);
    auto run = [&](std::uint32_t arch, int nr, std::uint64_t a0, std::uint64_t a1, std::uint64_t a2,
                   std::uint64_t a3 = 0, std::uint64_t a4 = 0) {
      seccomp_data d{};
      d.arch = arch;
      d.nr = nr;
      d.args[0] = a0, d.args[1] = a1, d.args[2] = a2, d.args[3] = a3, d.args[4] = a4;
      return run_filter(program->insns, program->length, d);
    };
    for (int advice : {MADV_DONTNEED, MADV_DONTNEED_LOCKED, MADV_FREE, MADV_REMOVE, MADV_DONTFORK, MADV_WIPEONFORK,
                       MADV_GUARD_INSTALL}) {
      EXPECT_EQ(run(AUDIT_ARCH_X86_64, __NR_madvise, start + P, P, advice).action, kDeny) << advice;
      EXPECT_EQ(run(AUDIT_ARCH_X86_64, __NR_madvise, start + 4 * P, P, advice).action, kAllow) << "past the range";
      EXPECT_EQ(run(AUDIT_ARCH_X86_64, __NR_process_madvise, 3, 0x1000, 1, advice).action, kDeny) << advice;
      EXPECT_EQ(run(AUDIT_ARCH_I386, 219, start + P, P, advice).action, in_reach ? kDeny : kAllow) << advice;
    }
    for (int advice : {MADV_WILLNEED, MADV_COLD, MADV_PAGEOUT, MADV_DODUMP})
      EXPECT_EQ(run(AUDIT_ARCH_X86_64, __NR_madvise, start, P, advice).action, kAllow) << advice;
    // What mseal guards itself passes untouched: the kernel answers it.
    for (int nr = 0; nr < 500; ++nr) {
      if (nr == __NR_madvise || nr == __NR_process_madvise) continue;
      RunResult r = run(AUDIT_ARCH_X86_64, nr, start, P, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE, 0);
      EXPECT_EQ(r.action, kAllow) << nr;
      EXPECT_FALSE(r.read_arguments) << nr;
      EXPECT_TRUE(r.cache_emulable) << nr;
      if (in_reach && (nr == 219 || nr == 440)) continue;
      r = run(AUDIT_ARCH_I386, nr, start, start, SHM_REMAP, 0, start);
      EXPECT_EQ(r.action, kAllow) << "i386 " << nr;
      EXPECT_FALSE(r.read_arguments) << "i386 " << nr;
    }
  }
}

// The same big random layouts in the real kernel: munmap on memory that is not
// mapped changes nothing whether it passes or not, so the kernel can run the
// filter on thousands of requests; EPERM must come exactly where the model says.
TEST(SeccompProgram, RandomRequestsInTheKernelDecideAsTheModel) {
  RandomCases random(20261128);
  for (std::size_t n : {10, 400, 900}) {
    Model model = random.layout(n);
    Built b = build(model.ranges);
    ASSERT_EQ(b.status, seccomp::BuildStatus::kOk) << n;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> requests;
    std::vector<bool> want_deny;
    for (int i = 0; i < 3000; ++i) {
      const auto req = random.request(model);
      requests.push_back(req);
      want_deny.push_back(model.decide(__NR_munmap, req.first, req.second) == kDeny);
    }
    ChildOutput out = run_child([&](std::string& problem) {
      // What is mapped here: an allowed munmap must not touch it.
      std::vector<std::pair<std::uint64_t, std::uint64_t>> mapped;
      std::ifstream maps("/proc/self/maps");
      std::string line;
      while (std::getline(maps, line)) {
        const auto dash = line.find('-'), space = line.find(' ');
        mapped.emplace_back(std::stoull(line.substr(0, dash), nullptr, 16),
                            std::stoull(line.substr(dash + 1, space - dash - 1), nullptr, 16));
      }
      std::vector<long> results(requests.size(), -1);  // -1: not issued
      seccomp::InstallOutcome o = seccomp::install(*b.program);
      if (o.error != 0) {
        problem = "install failed";
        return std::vector<long>{};
      }
      for (std::size_t i = 0; i < requests.size(); ++i) {
        const auto [addr, len] = requests[i];
        bool touches_mapped = false;
        for (const auto& m : mapped) touches_mapped |= addr < m.second && (len > m.first - addr || addr >= m.first);
        if (!want_deny[i] && touches_mapped) continue;  // passing it could unmap this process
        results[i] = ::syscall(__NR_munmap, addr, len) == 0 ? 0 : errno;
      }
      return results;
    });
    ASSERT_TRUE(out.exited_cleanly) << n << " ranges: " << out.problem;
    ASSERT_EQ(out.values.size(), requests.size());
    std::size_t issued = 0, denied = 0;
    for (std::size_t i = 0; i < requests.size(); ++i) {
      if (out.values[i] == -1) continue;
      ++issued;
      denied += out.values[i] == EPERM;
      EXPECT_EQ(out.values[i] == EPERM, want_deny[i]) << n << " ranges: munmap(0x" << std::hex << requests[i].first
                                                       << ", 0x" << requests[i].second << ") gave errno "
                                                       << std::dec << out.values[i];
    }
    EXPECT_GT(issued, requests.size() / 2) << n;
    EXPECT_GT(denied, issued / 10) << n;
  }
}

}  // namespace
}  // namespace sealkit::test::backend
