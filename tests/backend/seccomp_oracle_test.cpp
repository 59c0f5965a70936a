// The filter against the kernel, cell for cell: the same operations on the
// same memory, once sealed with mseal(2) and once only guarded by the
// generated seccomp filter, must fail with the same errno (or both succeed).
// Each operation runs in its own grandchild, so that one that succeeds leaves
// nothing behind for the next.
#include <gtest/gtest.h>
#include <linux/mman.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "backend/fork_child.hpp"
#include "backend/kernel.hpp"
#include "backend/kernel_abi.hpp"
#include "backend/sealed_layout.hpp"

namespace sealkit::test::backend {
namespace {

constexpr std::uint64_t P = kPage;
constexpr std::uint64_t kAllOnes = ~std::uint64_t{0};
constexpr std::uint64_t kTopPage = (std::uint64_t{1} << 47) - 2 * kPage;  // the last page below TASK_SIZE (4-level)

// The raw system call's result as 0 or errno (glibc's wrappers check some
// arguments themselves, e.g. mmap's offset).
int sys(long nr, std::uint64_t a = 0, std::uint64_t b = 0, std::uint64_t c = 0, std::uint64_t d = 0,
        std::uint64_t e = 0, std::uint64_t f = 0) {
  long r = ::syscall(nr, a, b, c, d, e, f);
  return r == -1 ? errno : 0;
}

int process_madvise_self(std::uint64_t addr, std::uint64_t len, int advice, unsigned flags, std::size_t vlen = 1) {
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0));
  if (pidfd < 0) return 255;
  iovec iov{reinterpret_cast<void*>(addr), len};
  return sys(__NR_process_madvise, static_cast<std::uint64_t>(pidfd), reinterpret_cast<std::uint64_t>(&iov), vlen,
             static_cast<std::uint64_t>(advice), flags);
}

struct Case {
  std::string name;
  std::function<int()> op;
};

// shmid of a one-page segment, created before sealing (shared by both modes).
int g_shmid = -1;

std::vector<Case> equal_cases() {
  const std::uint64_t A2 = at(kA, 2), A3 = at(kA, 3);
  std::vector<Case> c;
  auto add = [&](std::string name, std::function<int()> op) { c.push_back({std::move(name), std::move(op)}); };
  auto mprotect = [](std::uint64_t a, std::uint64_t l, std::uint64_t prot = PROT_READ) {
    return [=] { return sys(__NR_mprotect, a, l, prot); };
  };
  auto munmap = [](std::uint64_t a, std::uint64_t l) { return [=] { return sys(__NR_munmap, a, l); }; };
  auto mmap_at = [](std::uint64_t a, std::uint64_t l, std::uint64_t flags = MAP_FIXED, std::uint64_t off = 0) {
    return [=] { return sys(__NR_mmap, a, l, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | flags, kAllOnes, off); };
  };
  auto mremap = [](std::uint64_t a, std::uint64_t o, std::uint64_t n, std::uint64_t fl, std::uint64_t na = 0) {
    return [=] { return sys(__NR_mremap, a, o, n, fl, na); };
  };
  auto madvise = [](std::uint64_t a, std::uint64_t l, int adv) {
    return [=] { return sys(__NR_madvise, a, l, static_cast<std::uint64_t>(adv)); };
  };

  // mprotect: boundaries, rounding, overflow, windows.
  add("mprotect sealed page", mprotect(A2, P));
  add("mprotect len 0 on sealed", mprotect(A2, 0));
  add("mprotect 1 byte of sealed", mprotect(A2, 1));
  add("mprotect unaligned addr", mprotect(A2 + 1, P));
  add("mprotect 4095 bytes below sealed", mprotect(at(kA, 1), P - 1));
  add("mprotect 4097 bytes below sealed", mprotect(at(kA, 1), P + 1));
  add("mprotect unsealed gap between sealed", mprotect(A3, 3 * P));
  add("mprotect gap plus first sealed page", mprotect(A3, 4 * P));
  add("mprotect sealed page ending at 2^45", mprotect(at(kA, 7), P));
  add("mprotect sealed page starting at 2^45", mprotect(at(kA, 8), P));
  add("mprotect the straddling sealed range", mprotect(at(kA, 6), 4 * P));
  add("mprotect from unsealed across 2^45 into sealed", mprotect(at(kA, 4), 8 * P));
  add("mprotect unsealed above the straddle", mprotect(at(kA, 10), 3 * P));
  add("mprotect addr+len overflows", mprotect(at(kA, 10), 0 - at(kA, 10) + P));
  add("mprotect addr+len == 2^64", mprotect(at(kA, 10), 0 - at(kA, 10)));
  add("mprotect PAGE_ALIGN(len) wraps", mprotect(A2, kAllOnes));
  add("mprotect invalid prot bits", mprotect(A2, P, 0x100));
  add("mprotect prot high word", mprotect(A2, P, std::uint64_t{1} << 40 | PROT_READ));
  add("mprotect PROT_GROWSDOWN|PROT_GROWSUP", mprotect(A2, P, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP));
  add("mprotect crossing 4 GiB, nothing sealed", mprotect(at(kB, 2), 4 * P));
  add("mprotect crossing 4 GiB into sealed", mprotect(at(kB, 3), 4 * P));
  add("mprotect same low half, other high half", mprotect(at(kD, 1), P));
  add("mprotect high half matters (sealed)", mprotect(at(kC, 1), P));
  add("mprotect below 4 GiB sealed", mprotect(at(kF, 1), P));
  add("mprotect below 4 GiB unsealed", mprotect(at(kF, 0), P));
  add("mprotect from unsealed into sealed (one VMA)", mprotect(at(kA, 1), 2 * P));
  add("pkey_mprotect sealed", [=] { return sys(__NR_pkey_mprotect, A2, P, PROT_READ, kAllOnes); });
  add("pkey_mprotect unsealed", [=] { return sys(__NR_pkey_mprotect, A3, P, PROT_READ, kAllOnes); });
  add("pkey_mprotect unaligned", [=] { return sys(__NR_pkey_mprotect, A2 + 8, P, PROT_READ, kAllOnes); });

  // munmap: atomic; EINVAL for len 0 and beyond TASK_SIZE.
  add("munmap sealed page", munmap(A2, P));
  add("munmap unsealed page", munmap(A3, P));
  add("munmap len 0 on sealed", munmap(A2, 0));
  add("munmap unaligned", munmap(A2 + 1, P));
  add("munmap 4097 bytes below sealed", munmap(at(kA, 1), P + 1));
  add("munmap sealed page ending at 2^45", munmap(at(kA, 7), P));
  add("munmap crossing 4 GiB, nothing sealed", munmap(at(kB, 2), 4 * P));
  add("munmap crossing 4 GiB into sealed", munmap(at(kB, 3), 4 * P));
  add("munmap same low half, other high half", munmap(at(kD, 1), P));
  add("munmap below 4 GiB sealed", munmap(at(kF, 1), P));
  add("munmap addr+len == 2^64", munmap(at(kA, 10), 0 - at(kA, 10)));
  add("munmap PAGE_ALIGN(len) wraps", munmap(A2, kAllOnes));
  add("munmap beyond TASK_SIZE", munmap(at(kA, 10), (std::uint64_t{1} << 47) - at(kA, 10)));
  add("munmap 4 GiB wide, sealed at its end", munmap(at(kA, 11), at(kB, 7) - at(kA, 11)));
  add("munmap 4 GiB wide, nothing sealed", munmap(at(kA, 14), at(kB, 6) - at(kA, 14)));
  add("munmap top page", munmap(kTopPage, P));
  add("munmap top page and beyond", munmap(kTopPage, 3 * P));

  // mmap: MAP_FIXED replaces; MAP_FIXED_NOREPLACE fails with EEXIST on any mapping.
  add("mmap MAP_FIXED over sealed", mmap_at(A2, P));
  add("mmap MAP_FIXED over unsealed", mmap_at(A3, P));
  add("mmap MAP_FIXED len 0", mmap_at(A2, 0));
  add("mmap MAP_FIXED unaligned", mmap_at(A2 + 1, P));
  add("mmap MAP_FIXED unaligned offset", mmap_at(A2, P, MAP_FIXED, 1));
  add("mmap MAP_FIXED 4097 bytes below sealed", mmap_at(at(kA, 1), P + 1));
  add("mmap MAP_FIXED crossing 4 GiB, nothing sealed", mmap_at(at(kB, 2), 4 * P));
  add("mmap MAP_FIXED crossing 4 GiB into sealed", mmap_at(at(kB, 3), 4 * P));
  add("mmap MAP_FIXED same low half, other high half", mmap_at(at(kD, 1), P));
  add("mmap MAP_FIXED below 4 GiB sealed", mmap_at(at(kF, 1), P));
  add("mmap MAP_FIXED PAGE_ALIGN(len) wraps", mmap_at(A2, kAllOnes));
  add("mmap MAP_FIXED beyond TASK_SIZE", mmap_at(kTopPage, 3 * P));
  add("mmap MAP_FIXED_NOREPLACE over sealed", mmap_at(A2, P, MAP_FIXED_NOREPLACE));
  add("mmap MAP_FIXED|MAP_FIXED_NOREPLACE over sealed", mmap_at(A2, P, MAP_FIXED | MAP_FIXED_NOREPLACE));
  add("mmap hint at sealed (no MAP_FIXED)", mmap_at(A2, P, 0));

  // mremap: source, destination, EINVAL cases.
  add("mremap sealed same size", mremap(A2, P, P, 0));
  add("mremap sealed grow, may move", mremap(A2, P, 2 * P, MREMAP_MAYMOVE));
  add("mremap shrink sealed", mremap(at(kA, 6), 4 * P, P, 0));
  add("mremap old_len 0 at sealed", mremap(A2, 0, P, MREMAP_MAYMOVE));
  add("mremap sealed, old_len overflows", mremap(at(kA, 7), 0 - at(kA, 7), P, 0));
  add("mremap unsealed grow in place (no room)", mremap(A3, P, 2 * P, 0));
  add("mremap unsealed to sealed (FIXED)", mremap(A3, P, P, MREMAP_MAYMOVE | MREMAP_FIXED, A2));
  add("mremap unsealed to unsealed (FIXED)", mremap(A3, P, P, MREMAP_MAYMOVE | MREMAP_FIXED, at(kA, 4)));
  add("mremap to sealed above 4 GiB boundary", mremap(at(kB, 2), P, P, MREMAP_MAYMOVE | MREMAP_FIXED, at(kB, 6)));
  add("mremap to sealed, other high half", mremap(at(kD, 1), P, P, MREMAP_MAYMOVE | MREMAP_FIXED, at(kC, 1)));
  add("mremap to unsealed, other high half", mremap(at(kD, 1), P, P, MREMAP_MAYMOVE | MREMAP_FIXED, at(kC, 2)));
  add("mremap FIXED|DONTUNMAP to sealed", mremap(A3, P, P, MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP, A2));
  add("mremap DONTUNMAP of sealed", mremap(A2, P, P, MREMAP_MAYMOVE | MREMAP_DONTUNMAP));
  add("mremap unaligned addr", mremap(A2 + 1, P, P, 0));
  add("mremap new_len 0", mremap(A2, P, 0, 0));
  add("mremap new_len wraps", mremap(A2, P, kAllOnes, MREMAP_MAYMOVE));
  add("mremap unknown flag", mremap(A2, P, P, 8));
  add("mremap FIXED without MAYMOVE", mremap(A3, P, P, MREMAP_FIXED, at(kA, 4)));
  add("mremap FIXED unaligned destination", mremap(A3, P, P, MREMAP_MAYMOVE | MREMAP_FIXED, A2 + 1));
  add("mremap DONTUNMAP resizing", mremap(A2, P, 2 * P, MREMAP_MAYMOVE | MREMAP_DONTUNMAP));
  add("mremap FIXED destination beyond TASK_SIZE", mremap(A3, P, 3 * P, MREMAP_MAYMOVE | MREMAP_FIXED, kTopPage));

  // madvise: discard advice on sealed anonymous read-only memory only.
  for (int advice : {MADV_DONTNEED, MADV_FREE, MADV_DONTFORK, MADV_WIPEONFORK, MADV_REMOVE, MADV_DONTNEED_LOCKED,
                     MADV_GUARD_INSTALL, MADV_WILLNEED, MADV_NORMAL, MADV_COLD}) {
    add("madvise " + std::to_string(advice) + " sealed read-only", madvise(A2, P, advice));
  }
  add("madvise DONTNEED unsealed", madvise(A3, P, MADV_DONTNEED));
  add("madvise DONTNEED sealed writable", madvise(at(kE, 1), P, MADV_DONTNEED));
  add("madvise DONTNEED unaligned", madvise(A2 + 1, P, MADV_DONTNEED));
  add("madvise DONTNEED len 0", madvise(A2, 0, MADV_DONTNEED));
  add("madvise DONTNEED PAGE_ALIGN(len) wraps", madvise(A2, kAllOnes, MADV_DONTNEED));
  add("madvise DONTNEED addr+len overflows", madvise(at(kA, 10), 0 - at(kA, 10) + P, MADV_DONTNEED));
  add("madvise DONTNEED 4097 bytes below sealed", madvise(at(kA, 1), P + 1, MADV_DONTNEED));
  add("madvise DONTNEED crossing 4 GiB, nothing sealed", madvise(at(kB, 2), 4 * P, MADV_DONTNEED));
  add("madvise DONTNEED crossing 4 GiB into sealed", madvise(at(kB, 3), 4 * P, MADV_DONTNEED));
  add("madvise DONTNEED other high half", madvise(at(kD, 1), P, MADV_DONTNEED));
  add("madvise DONTNEED high half matters", madvise(at(kC, 1), P, MADV_DONTNEED));
  add("madvise DONTNEED hole then sealed", madvise(at(kA, 0), 3 * P, MADV_DONTNEED));
  add("madvise bad advice", madvise(A2, P, 12345));

  // process_madvise on this process.
  add("process_madvise DONTNEED sealed", [=] { return process_madvise_self(A2, P, MADV_DONTNEED, 0); });
  add("process_madvise WILLNEED sealed", [=] { return process_madvise_self(A2, P, MADV_WILLNEED, 0); });
  add("process_madvise flags != 0", [=] { return process_madvise_self(A2, P, MADV_DONTNEED, 1); });
  add("process_madvise vlen 0", [=] { return process_madvise_self(A2, P, MADV_DONTNEED, 0, 0); });
  add("process_madvise vlen > UIO_MAXIOV", [=] { return process_madvise_self(A2, P, MADV_DONTNEED, 0, 1025); });

  // shmat: SHM_REMAP maps the segment with MAP_FIXED.
  add("shmat SHM_REMAP over sealed", [=] { return sys(__NR_shmat, g_shmid, A2, SHM_REMAP); });
  add("shmat SHM_REMAP|SHM_RND unaligned over sealed", [=] {
    return sys(__NR_shmat, g_shmid, A2 + 5, SHM_REMAP | SHM_RND);
  });
  add("shmat SHM_REMAP unaligned", [=] { return sys(__NR_shmat, g_shmid, A2 + 5, SHM_REMAP); });
  add("shmat SHM_REMAP at 0", [=] { return sys(__NR_shmat, g_shmid, 0, SHM_REMAP); });
  add("shmat over sealed without SHM_REMAP", [=] { return sys(__NR_shmat, g_shmid, A2, 0); });
  return c;
}

// Where the filter cannot match the kernel, and why (docs/seccomp.md): the
// kernel's answer depends on what is mapped, or on memory the filter cannot read.
struct KnownDifference {
  Case c;
  int kernel;  // the errno mseal gives
};

std::vector<KnownDifference> known_differences() {
  std::vector<KnownDifference> d;
  d.push_back({{"mprotect starting in a hole, reaching sealed",
                [] { return sys(__NR_mprotect, at(kA, 0), 3 * P, PROT_READ); }},
               ENOMEM});
  // PROT_GROWSDOWN is EINVAL on a VMA that does not grow down, decided from the VMA before the seal check.
  d.push_back({{"mprotect PROT_GROWSDOWN of a sealed VMA that does not grow down",
                [] { return sys(__NR_mprotect, at(kA, 2), P, PROT_READ | PROT_GROWSDOWN); }},
               EINVAL});
  // Same size, not moving: a no-op the kernel accepts after checking only the VMA at addr.
  d.push_back({{"mremap same size of an unsealed VMA, old_len reaching into sealed",
                [] { return sys(__NR_mremap, at(kA, 5), 2 * P, 2 * P, 0); }},
               0});
  d.push_back({{"mremap growing an unsealed VMA, old_len reaching into sealed",
                [] { return sys(__NR_mremap, at(kA, 5), 2 * P, 3 * P, MREMAP_MAYMOVE); }},
               EFAULT});
  d.push_back({{"process_madvise DONTNEED of unsealed memory",
                [] { return process_madvise_self(at(kA, 3), P, MADV_DONTNEED, 0); }},
               0});
  d.push_back({{"shmat SHM_REMAP at unsealed memory below a sealed range",
                [] { return sys(__NR_shmat, g_shmid, at(kA, 3), SHM_REMAP); }},
               0});
  return d;
}

ChildOutput run_all(SealBy how, const std::vector<Case>& cases) {
  return run_child([&](std::string& problem) {
    std::vector<long> results;
    problem = map_and_seal(how);
    if (!problem.empty()) return results;
    for (const Case& c : cases) results.push_back(in_grandchild(c.op));
    return results;
  });
}

class SeccompOracle : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!sealkit::backend::kernel::available()) GTEST_SKIP() << "this kernel has no mseal(2): no oracle to compare with";
    g_shmid = ::shmget(IPC_PRIVATE, P, IPC_CREAT | 0600);
    ASSERT_GE(g_shmid, 0) << std::strerror(errno);
  }
  void TearDown() override {
    if (g_shmid >= 0) ::shmctl(g_shmid, IPC_RMID, nullptr);
    g_shmid = -1;
  }
};

void expect_every_cell_matches(SealBy filter_mode) {
  std::vector<Case> cases = equal_cases();
  ChildOutput kernel = run_all(SealBy::kMseal, cases);
  ChildOutput filter = run_all(filter_mode, cases);
  ASSERT_TRUE(kernel.exited_cleanly) << kernel.problem;
  ASSERT_TRUE(filter.exited_cleanly) << filter.problem;
  ASSERT_EQ(kernel.values.size(), cases.size());
  ASSERT_EQ(filter.values.size(), cases.size());
  std::ostringstream table;
  int eperm = 0, other_errors = 0, successes = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const long k = kernel.values[i], f = filter.values[i];
    if (k == EPERM) ++eperm;
    else if (k == 0) ++successes;
    else ++other_errors;
    if (k != f) table << "  " << cases[i].name << ": mseal " << k << ", filter " << f << "\n";
  }
  EXPECT_TRUE(table.str().empty()) << "cells that differ (errno values):\n" << table.str();
  // The cases must exercise all three outcomes, or they test little.
  EXPECT_GT(eperm, 20);
  EXPECT_GT(successes, 10);
  EXPECT_GT(other_errors, 10);
  std::printf("%zu cells: %d EPERM, %d success, %d other errors\n", cases.size(), eperm, successes, other_errors);
}

TEST_F(SeccompOracle, EveryCellMatchesMseal) { expect_every_cell_matches(SealBy::kFilter); }

// The budget fallback for mremap's destination refuses more in general (a
// sealed range between source and destination), but none of these cells.
TEST_F(SeccompOracle, EveryCellMatchesMsealWithTheMremapHull) { expect_every_cell_matches(SealBy::kFilterHull); }

TEST_F(SeccompOracle, TheMremapHullRefusesAMoveAcrossSealedMemory) {
  std::vector<Case> cases = {{"mremap from below sealed to above it", [] {
                                return sys(__NR_mremap, at(kA, 1), P, P, MREMAP_MAYMOVE | MREMAP_FIXED, at(kA, 3));
                              }}};
  ChildOutput kernel = run_all(SealBy::kMseal, cases);
  ChildOutput exact = run_all(SealBy::kFilter, cases);
  ChildOutput hull = run_all(SealBy::kFilterHull, cases);
  ASSERT_TRUE(kernel.exited_cleanly && exact.exited_cleanly && hull.exited_cleanly)
      << kernel.problem << exact.problem << hull.problem;
  EXPECT_EQ(kernel.values.at(0), 0);
  EXPECT_EQ(exact.values.at(0), 0);
  EXPECT_EQ(hull.values.at(0), EPERM);
}

TEST_F(SeccompOracle, KnownDifferencesAreExactlyTheDocumentedOnes) {
  std::vector<KnownDifference> diffs = known_differences();
  std::vector<Case> cases;
  for (const KnownDifference& d : diffs) cases.push_back(d.c);
  ChildOutput kernel = run_all(SealBy::kMseal, cases);
  ChildOutput filter = run_all(SealBy::kFilter, cases);
  ASSERT_TRUE(kernel.exited_cleanly) << kernel.problem;
  ASSERT_TRUE(filter.exited_cleanly) << filter.problem;
  ASSERT_EQ(kernel.values.size(), cases.size());
  ASSERT_EQ(filter.values.size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(kernel.values[i], diffs[i].kernel) << cases[i].name << " (mseal)";
    // The filter errs towards refusing: EPERM, never a success the kernel would refuse.
    EXPECT_EQ(filter.values[i], EPERM) << cases[i].name << " (filter)";
  }
}

// An unsealed control in each mode: the same memory without any seal or
// filter accepts every guarded operation.
TEST_F(SeccompOracle, UnsealedControlsSucceed) {
  std::vector<Case> cases = {
      {"mprotect", [] { return sys(__NR_mprotect, at(kA, 2), P, PROT_READ); }},
      {"munmap", [] { return sys(__NR_munmap, at(kA, 2), P); }},
      {"mmap MAP_FIXED", [] {
         return sys(__NR_mmap, at(kA, 2), P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, kAllOnes, 0);
       }},
      {"mremap move", [] { return sys(__NR_mremap, at(kA, 2), P, P, MREMAP_MAYMOVE | MREMAP_FIXED, at(kA, 4)); }},
      {"madvise DONTNEED", [] { return sys(__NR_madvise, at(kA, 2), P, MADV_DONTNEED); }},
  };
  ChildOutput out = run_child([&](std::string& problem) {
    std::vector<long> results;
    for (const Region& r : regions()) {
      void* want = reinterpret_cast<void*>(r.base);
      if (::mmap(want, r.pages * P, r.prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != want) {
        problem = "cannot map the test region";
        return results;
      }
    }
    for (const Case& c : cases) results.push_back(in_grandchild(c.op));
    return results;
  });
  ASSERT_TRUE(out.exited_cleanly) << out.problem;
  ASSERT_EQ(out.values.size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) EXPECT_EQ(out.values[i], 0) << cases[i].name;
}

}  // namespace
}  // namespace sealkit::test::backend
