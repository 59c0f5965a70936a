// The library's seccomp backend (SEALKIT_BACKEND=seccomp) against the real
// kernel. Filters cannot be removed and the backend choice is made once per
// process, so every test runs in a forked child, and this binary's parent
// process never calls the library. docs/seccomp.md, "The library's backend".
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "backend/kernel.hpp"
#include "lib/backend_choice.hpp"
#include "lib/seccomp_child.hpp"
#include "lib/support.hpp"
#include "sealkit/sealkit.h"

namespace sealkit::test {
namespace {

// These tests need no mseal(2): they run on Debian 12's 6.1 as well.
const bool g_no_kernel_mseal_needed = (g_tests_need_kernel_mseal = false, true);

bool map_failed_with(void* p, int err) { return p == MAP_FAILED && errno == err; }

// Every attack of the brief on [p, p+len), expected to fail with EPERM.
void expect_attacks_refused(ChildReport& r, std::byte* p, std::size_t len, bool discard_protected) {
  CHILD_CHECK(r, fails_with(::mprotect(p, len, PROT_READ | PROT_WRITE), EPERM));
  CHILD_CHECK(r, fails_with(::munmap(p, len), EPERM));
  CHILD_CHECK(r, map_failed_with(::mremap(p, len, 2 * len, MREMAP_MAYMOVE), EPERM));
  CHILD_CHECK(r, map_failed_with(::mremap(p, len, len / 2 ? len / 2 : len, 0), EPERM));
  CHILD_CHECK(r, map_failed_with(::mmap(p, len, PROT_READ, kAnon | MAP_FIXED, -1, 0), EPERM));
  if (discard_protected) CHILD_CHECK(r, fails_with(::madvise(p, len, MADV_DONTNEED), EPERM));
}

TEST(SeccompBackend, AttacksOnASealedRangeFailWithEpermAndControlsSucceed) {
  EXPECT_CHILD_PASSES([](ChildReport& r) {
    if (!use_seccomp(r)) return;
    std::byte* ro = fresh(r, 4);
    std::byte* rw = fresh(r, 2, PROT_READ | PROT_WRITE);
    std::byte* control = fresh(r, 4);
    if (!ro || !rw || !control) return;
    if (!CHILD_CHECK_ERRNO(r, sealkit_mseal(ro, 4 * page(), 0) == 0)) return;
    if (!CHILD_CHECK_ERRNO(r, sealkit_mseal(rw, 2 * page(), 0) == 0)) return;
    expect_attacks_refused(r, ro, 4 * page(), true);
    expect_attacks_refused(r, at(ro, 1), page(), true);  // a page inside the range
    expect_attacks_refused(r, rw, 2 * page(), false);
    // madvise's rule: discard is allowed on sealed writable memory, and non-discard advice everywhere.
    CHILD_CHECK_ERRNO(r, ::madvise(rw, 2 * page(), MADV_DONTNEED) == 0);
    CHILD_CHECK_ERRNO(r, ::madvise(ro, 4 * page(), MADV_RANDOM) == 0);
    // The seal holds: the memory is still readable and still there.
    CHILD_CHECK(r, sealkit_is_sealed(ro, 4 * page()) == 1);
    // Unsealed controls: every operation works.
    CHILD_CHECK_ERRNO(r, ::madvise(control, page(), MADV_DONTNEED) == 0);
    CHILD_CHECK_ERRNO(r, ::mprotect(control, page(), PROT_READ | PROT_WRITE) == 0);
    CHILD_CHECK_ERRNO(r, ::mmap(at(control, 1), page(), PROT_READ, kAnon | MAP_FIXED, -1, 0) == at(control, 1));
    void* moved = ::mremap(at(control, 2), page(), 2 * page(), MREMAP_MAYMOVE);
    CHILD_CHECK_ERRNO(r, moved != MAP_FAILED);
    CHILD_CHECK_ERRNO(r, ::munmap(control, 2 * page()) == 0);
  });
}

// The kernel's validation, errno for errno: each input against raw mseal(2) in
// the same child (none of these seals anything) and against the documented errno.
TEST(SeccompBackend, ValidationErrnosMatchTheKernel) {
  EXPECT_CHILD_PASSES([](ChildReport& r) {
    std::byte* p = fresh(r, 5);
    if (!p) return;
    CHILD_CHECK_ERRNO(r, ::munmap(at(p, 2), page()) == 0);
    CHILD_CHECK_ERRNO(r, ::munmap(at(p, 4), page()) == 0);  // p: r r . r .
    const bool kernel_has_mseal = backend::kernel::available();
    struct Case {
      const char* name;
      std::uintptr_t addr;
      std::size_t len;
      unsigned long flags;
      int documented;  // 0: success
    };
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    const std::vector<Case> cases = {
        {"flags != 0", a, page(), 1, EINVAL},
        {"flags high bit", a, page(), 1UL << 63, EINVAL},
        {"unaligned addr", a + 1, page(), 0, EINVAL},
        {"len wraps", a, SIZE_MAX, 0, EINVAL},
        {"len rounds up past the end", a, SIZE_MAX - a - 10, 0, EINVAL},
        {"len 0", a, 0, 0, 0},
        {"len 0 unaligned", a + 1, 0, 0, EINVAL},
        {"hole in the middle", a, 4 * page(), 0, ENOMEM},
        {"starts in the hole", a + 2 * page(), page(), 0, ENOMEM},
        {"runs past the end", a + 3 * page(), 2 * page(), 0, ENOMEM},
        {"len huge but no wrap", a, SIZE_MAX / 2, 0, ENOMEM},
        {"beyond user space", std::uintptr_t{1} << 62, page(), 0, ENOMEM},
    };
    std::vector<int> by_kernel;
    const int filters = filters_installed();
    for (const Case& c : cases) {
      errno = 0;
      by_kernel.push_back(::syscall(462, c.addr, c.len, c.flags) == 0 ? 0 : errno);
    }
    if (!use_seccomp(r)) return;
    for (std::size_t i = 0; i < cases.size(); ++i) {
      const Case& c = cases[i];
      errno = 0;
      const int got = sealkit_mseal(reinterpret_cast<void*>(c.addr), c.len, c.flags) == 0 ? 0 : errno;
      if (got != c.documented) r.fail(std::string(c.name) + ": errno " + std::to_string(got) + ", documented " +
                                      std::to_string(c.documented));
      if (kernel_has_mseal && got != by_kernel[i]) {
        r.fail(std::string(c.name) + ": errno " + std::to_string(got) + ", mseal(2) " + std::to_string(by_kernel[i]));
      }
    }
    // Nothing was sealed by the refused calls.
    CHILD_CHECK(r, filters_installed() == filters);
    CHILD_CHECK_ERRNO(r, ::mprotect(p, page(), PROT_READ | PROT_WRITE) == 0);
  });
}

TEST(SeccompBackend, IsSealedAgreesWithTheFilter) {
  EXPECT_CHILD_PASSES([](ChildReport& r) {
    if (!use_seccomp(r)) return;
    std::byte* p = fresh(r, 6);  // p: u s s u u u
    if (!p) return;
    CHILD_CHECK(r, sealkit_is_sealed(at(p, 1), 2 * page()) == 0);
    if (!CHILD_CHECK_ERRNO(r, sealkit_mseal(at(p, 1), 2 * page(), 0) == 0)) return;
    CHILD_CHECK(r, sealkit_is_sealed(at(p, 1), 2 * page()) == 1);
    CHILD_CHECK(r, sealkit_is_sealed(at(p, 1) + 17, 10) == 1);  // unaligned: the page it touches
    CHILD_CHECK(r, sealkit_is_sealed(at(p, 2), page()) == 1);
    CHILD_CHECK(r, sealkit_is_sealed(p, 3 * page()) == 0);  // mixed
    CHILD_CHECK(r, sealkit_is_sealed(at(p, 1), 3 * page()) == 0);
    CHILD_CHECK(r, sealkit_is_sealed(at(p, 3), page()) == 0);
    // A hole made just before asking.
    CHILD_CHECK_ERRNO(r, ::munmap(at(p, 5), page()) == 0);  // p: u s s u u .
    errno = 0;
    CHILD_CHECK(r, fails_with(sealkit_is_sealed(at(p, 1), 5 * page()), ENOMEM));  // runs into the hole
    errno = 0;
    CHILD_CHECK(r, fails_with(sealkit_is_sealed(at(p, 1), 0), EINVAL));
    // The filter agrees page by page.
    CHILD_CHECK(r, fails_with(::mprotect(at(p, 2), page(), PROT_NONE), EPERM));
    CHILD_CHECK_ERRNO(r, ::mprotect(at(p, 3), page(), PROT_NONE) == 0);
    // Sealing twice succeeds and adds no filter; sealing across old and new adds one for the new part only.
    const int filters = filters_installed();
    CHILD_CHECK_ERRNO(r, sealkit_mseal(at(p, 1), 2 * page(), 0) == 0);
    CHILD_CHECK(r, filters_installed() == filters);
    CHILD_CHECK_ERRNO(r, sealkit_mseal(p, 4 * page(), 0) == 0);
    CHILD_CHECK(r, filters_installed() == filters + 1);
    CHILD_CHECK(r, sealkit_is_sealed(p, 4 * page()) == 1);
    CHILD_CHECK(r, fails_with(::mprotect(p, page(), PROT_READ), EPERM));
  });
}

// The attacker sealing is against can write memory. Whatever this process
// keeps in writable memory must not decide what sealkit_is_sealed answers or
// what sealkit_mseal skips. The attack: find any record of sealed ranges the
// process keeps (here: a list of chunks, each starting with the magic
// "sk-table", a link, its size, a count and the ranges, behind a pointer in
// an object's writable data), forge one in memory that is sealed but
// writable (as a sealed .bss is) naming an unsealed target, and bend every
// pointer to a real chunk to the forgery. Then the target must still be
// reported unsealed, and sealing it must really seal it.
struct ForgedRange {
  std::uintptr_t start, end;
  bool discard_protected;
};
struct ForgedChunk {
  std::uint64_t magic;
  const void* prev;
  std::uint64_t bytes;
  std::uint64_t count;
  ForgedRange ranges[2];
};
constexpr std::uint64_t kRecordMagic = 0x736b2d7461626c65;  // "sk-table"

TEST(SeccompBackend, AForgedRecordInWritableMemoryChangesNoAnswer) {
  EXPECT_CHILD_PASSES([](ChildReport& r) {
    if (!use_seccomp(r)) return;
    std::byte* ro = fresh(r, 1);
    std::byte* sealed_writable = fresh(r, 1, PROT_READ | PROT_WRITE);
    std::byte* target = fresh(r, 1);
    if (!ro || !sealed_writable || !target) return;
    if (!CHILD_CHECK_ERRNO(r, sealkit_mseal(ro, page(), 0) == 0)) return;
    if (!CHILD_CHECK_ERRNO(r, sealkit_mseal(sealed_writable, page(), 0) == 0)) return;

    // What the attacker reads: the maps, anonymous read-only pages that start with the magic, and the words
    // of every object's writable data (its file-backed rw-p mappings and the anonymous bss right after them).
    const std::vector<SmapsVma> vmas = read_smaps();
    std::vector<std::uintptr_t> records;
    for (const SmapsVma& v : vmas) {
      if (v.perms != "r--p" || (!v.name.empty() && v.name.rfind("[anon:", 0) != 0)) continue;
      for (std::uintptr_t a = v.start; a < v.end; a += page())
        if (*reinterpret_cast<const std::uint64_t*>(a) == kRecordMagic) records.push_back(a);
    }
    std::vector<std::uintptr_t*> pointers;
    for (std::size_t i = 0; i < vmas.size(); ++i) {
      const SmapsVma& v = vmas[i];
      const bool object_data = v.perms == "rw-p" && !v.name.empty() && v.name[0] == '/';
      const bool object_bss = v.perms == "rw-p" && v.name.empty() && i > 0 && vmas[i - 1].end == v.start &&
                              !vmas[i - 1].name.empty() && vmas[i - 1].name[0] == '/';
      if (!object_data && !object_bss) continue;
      for (auto* w = reinterpret_cast<std::uintptr_t*>(v.start); w < reinterpret_cast<std::uintptr_t*>(v.end); ++w)
        for (std::uintptr_t c : records)
          if (*w == c) pointers.push_back(w);
    }
    auto* forged = reinterpret_cast<ForgedChunk*>(sealed_writable);
    const auto t = reinterpret_cast<std::uintptr_t>(target);
    const auto f = reinterpret_cast<std::uintptr_t>(forged);
    *forged = ForgedChunk{kRecordMagic, nullptr, page(), 2, {{t, t + page(), true}, {f, f + page(), false}}};
    for (std::uintptr_t* w : pointers) *w = f;
    std::fprintf(stderr, "[attacker] %zu record chunks found, %zu pointers to them bent to the forgery\n",
                 records.size(), pointers.size());

    CHILD_CHECK(r, sealkit_is_sealed(target, page()) == 0);
    CHILD_CHECK(r, sealkit_is_sealed(sealed_writable, page()) == 1);
    CHILD_CHECK_ERRNO(r, ::mprotect(target, page(), PROT_READ) == 0);  // it is not sealed, and says so
    CHILD_CHECK_ERRNO(r, sealkit_mseal(target, page(), 0) == 0);
    CHILD_CHECK(r, fails_with(::mprotect(target, page(), PROT_READ | PROT_WRITE), EPERM));
    CHILD_CHECK(r, sealkit_is_sealed(target, page()) == 1);
  });
}

// Each seal adds one filter; the budget (32768 instructions per thread) runs
// out after a few dozen. The seal that does not fit fails with ENOMEM and
// leaves nothing behind: no filter, no enforcement.
TEST(SeccompBackend, TheBudgetEndsInEnomemWithNothingInstalled) {
  EXPECT_CHILD_PASSES([](ChildReport& r) {
    if (!use_seccomp(r)) return;
    int seals = 0;
    for (;;) {
      std::byte* p = fresh(r, 1);
      if (!p) return;
      const int filters = filters_installed();
      errno = 0;
      if (sealkit_mseal(p, page(), 0) == 0) {
        if (++seals > 10000) return (void)r.fail("no budget limit after 10000 seals");
        continue;
      }
      CHILD_CHECK(r, errno == ENOMEM);
      CHILD_CHECK(r, filters_installed() == filters);
      CHILD_CHECK(r, sealkit_is_sealed(p, page()) == 0);
      CHILD_CHECK_ERRNO(r, ::mprotect(p, page(), PROT_READ | PROT_WRITE) == 0);
      CHILD_CHECK_ERRNO(r, ::munmap(p, page()) == 0);
      break;
    }
    std::fprintf(stderr, "[seccomp backend] %d separate sealkit_mseal calls fit before ENOMEM\n", seals);
    CHILD_CHECK(r, seals >= 20);
  });
}

TEST(SeccompBackend, ABadSealkitBackendWarnsOnceAndUsesAuto) {
  EXPECT_CHILD_PASSES([](ChildReport& r) {
    FILE* log = std::tmpfile();
    if (!CHILD_CHECK(r, log != nullptr)) return;
    const int saved_stderr = ::dup(2);
    ::dup2(::fileno(log), 2);
    choose_again("bogus");
    const std::string first = sealkit_backend();
    const std::string second = sealkit_backend();
    std::byte* p = fresh(r, 1);
    if (p) CHILD_CHECK_ERRNO(r, sealkit_mseal(p, page(), 0) == 0);
    ::dup2(saved_stderr, 2);
    std::string text(4096, '\0');
    std::rewind(log);
    text.resize(std::fread(text.data(), 1, text.size(), log));
    std::size_t warnings = 0;
    for (std::size_t at = text.find("SEALKIT_BACKEND=bogus"); at != std::string::npos;
         at = text.find("SEALKIT_BACKEND=bogus", at + 1)) {
      ++warnings;
    }
    CHILD_CHECK(r, warnings == 1);
    CHILD_CHECK(r, first == second);
    // auto: the kernel's mseal where it exists, else the filter.
    CHILD_CHECK(r, first == (backend::kernel::available() ? "kernel" : "seccomp"));
  });
}

// TSYNC: a thread that exists before the seal is bound by the filter.
TEST(SeccompBackend, AThreadCreatedBeforeTheSealIsBound) {
  EXPECT_CHILD_PASSES([](ChildReport& r) {
    if (!use_seccomp(r)) return;
    std::byte* p = fresh(r, 1);
    if (!p) return;
    int go[2];
    if (!CHILD_CHECK_ERRNO(r, ::pipe(go) == 0)) return;
    int thread_errno = -1;
    std::thread t([&] {
      char c;
      if (::read(go[0], &c, 1) != 1) return;
      errno = 0;
      thread_errno = ::mprotect(p, page(), PROT_READ | PROT_WRITE) == 0 ? 0 : errno;
    });
    CHILD_CHECK_ERRNO(r, sealkit_mseal(p, page(), 0) == 0);
    CHILD_CHECK(r, ::write(go[1], "x", 1) == 1);
    t.join();
    CHILD_CHECK(r, thread_errno == EPERM);
  });
}

// The V8 API goes through the same seal path.
TEST(SeccompBackend, ProtSealAndTheV8ModeSealWithTheFilter) {
  EXPECT_CHILD_PASSES([](ChildReport& r) {
    if (!use_seccomp(r)) return;
    auto* p = static_cast<std::byte*>(sealkit_mmap(nullptr, 2 * page(), PROT_READ | SEALKIT_PROT_SEAL, kAnon, -1, 0));
    if (!CHILD_CHECK_ERRNO(r, p != MAP_FAILED)) return;
    CHILD_CHECK(r, sealkit_is_sealed(p, 2 * page()) == 1);
    expect_attacks_refused(r, p, 2 * page(), true);

    std::byte* q = fresh(r, 1, PROT_READ | PROT_WRITE);
    if (!q) return;
    CHILD_CHECK_ERRNO(r, sealkit_mprotect(q, page(), PROT_READ | SEALKIT_PROT_SEAL) == 0);
    CHILD_CHECK(r, sealkit_is_sealed(q, page()) == 1);
    expect_attacks_refused(r, q, page(), true);

    sealkit_set_mode(SEALKIT_MODE_V8);
    auto* s = static_cast<std::byte*>(sealkit_mmap(nullptr, page(), PROT_READ, kAnon | SEALKIT_MAP_SEALABLE, -1, 0));
    if (!CHILD_CHECK_ERRNO(r, s != MAP_FAILED)) return;
    std::byte* plain = fresh(r, 1);
    if (!plain) return;
    errno = 0;
    CHILD_CHECK(r, fails_with(sealkit_mseal(plain, page(), 0), EACCES));
    CHILD_CHECK(r, sealkit_is_sealed(plain, page()) == 0);
    CHILD_CHECK_ERRNO(r, sealkit_mseal(s, page(), 0) == 0);
    CHILD_CHECK(r, sealkit_is_sealed(s, page()) == 1);
    expect_attacks_refused(r, s, page(), true);
  });
}

// sealkit_seal_loaded_objects seals through the same path: one filter per
// object range, so the budget left afterwards is reported.
TEST(SeccompBackend, LoadedObjectsAreSealedByTheFilter) {
  EXPECT_CHILD_PASSES([](ChildReport& r) {
    if (!use_seccomp(r)) return;
    const int objects = sealkit_seal_loaded_objects(SEALKIT_SEAL_OBJECTS_DEFAULT);
    if (!CHILD_CHECK_ERRNO(r, objects > 0)) return;
    // This function's own code is in a sealed object now.
    const auto text = reinterpret_cast<std::uintptr_t>(&page) & ~(std::uintptr_t{page()} - 1);
    auto* code = reinterpret_cast<std::byte*>(text);
    CHILD_CHECK(r, sealkit_is_sealed(code, page()) == 1);
    CHILD_CHECK(r, fails_with(::mprotect(code, page(), PROT_READ | PROT_WRITE | PROT_EXEC), EPERM));
    CHILD_CHECK(r, fails_with(::munmap(code, page()), EPERM));
    std::fprintf(stderr, "[seccomp backend] sealkit_seal_loaded_objects: %d objects, %d filters\n", objects,
                 filters_installed());
  });
}

// A forced kernel backend where mseal(2) is missing (simulated with a filter
// returning ENOSYS) is "none": nothing is sealed, and calls fail with ENOSYS.
TEST(SeccompBackend, ForcedKernelBackendWithoutMsealIsNone) {
  EXPECT_CHILD_PASSES([](ChildReport& r) {
    if (!deny_mseal_with(ENOSYS)) return r.skip("cannot install a seccomp filter on this architecture");
    choose_again("kernel");
    CHILD_CHECK(r, std::strcmp(sealkit_backend(), "none") == 0);
    std::byte* p = fresh(r, 1);
    if (!p) return;
    errno = 0;
    CHILD_CHECK(r, fails_with(sealkit_mseal(p, page(), 0), ENOSYS));
  });
}

// auto on a kernel without mseal (simulated) picks the filter.
TEST(SeccompBackend, AutoPicksTheFilterWhenMsealIsMissing) {
  EXPECT_CHILD_PASSES([](ChildReport& r) {
    if (!deny_mseal_with(ENOSYS)) return r.skip("cannot install a seccomp filter on this architecture");
    choose_again(nullptr);
    CHILD_CHECK(r, std::strcmp(sealkit_backend(), "seccomp") == 0);
    std::byte* p = fresh(r, 1);
    if (!p) return;
    CHILD_CHECK_ERRNO(r, sealkit_mseal(p, page(), 0) == 0);
    CHILD_CHECK(r, fails_with(::munmap(p, page()), EPERM));
  });
}

// Under a filter that kills mseal (an allow-list without an error number,
// written before mseal), choosing the backend asks in a child: the program
// lives on, and seals with the filter backend instead.
TEST(SeccompBackend, AFilterThatKillsMsealLeavesTheProgramAliveAndSealing) {
  EXPECT_CHILD_PASSES([](ChildReport& r) {
    if (!kill_at_mseal()) return r.skip("cannot install a seccomp filter on this architecture");
    choose_again(nullptr);
    CHILD_CHECK(r, std::strcmp(sealkit_backend(), "seccomp") == 0);
    std::byte* p = fresh(r, 1);
    if (!p) return;
    CHILD_CHECK_ERRNO(r, sealkit_mseal(p, page(), 0) == 0);
    CHILD_CHECK(r, fails_with(::munmap(p, page()), EPERM));
  });
}

}  // namespace
}  // namespace sealkit::test

namespace sealkit::test {
namespace {

// fork() while another thread is inside sealkit_mseal: the child must be able
// to seal (the seal mutex is not left taken in it). Each child seals a page
// and exits; one stuck on the mutex is killed by its alarm (SIGALRM), which
// fails the check. The sealing thread keeps the mutex held most of the time.
TEST(SeccompBackend, ForkDuringASealLeavesTheChildAbleToSeal) {
  EXPECT_CHILD_PASSES([](ChildReport& r) {
    if (!use_seccomp(r)) return;
    std::atomic<bool> stop{false};
    std::thread sealer([&] {
      while (!stop.load()) {
        void* q = ::mmap(nullptr, page(), PROT_READ, kAnon, -1, 0);
        if (q == MAP_FAILED) break;
        (void)sealkit_mseal(q, page(), 0);  // ENOMEM once the filter budget is spent: still takes the mutex
      }
    });
    int stuck = 0;
    for (int i = 0; i < 40; ++i) {
      const pid_t pid = ::fork();
      if (pid == 0) {
        ::alarm(2);
        void* q = ::mmap(nullptr, page(), PROT_READ, kAnon, -1, 0);
        (void)sealkit_mseal(q, page(), 0);
        ::_exit(0);
      }
      int status = 0;
      ::waitpid(pid, &status, 0);
      if (!WIFEXITED(status)) ++stuck;
    }
    stop = true;
    sealer.join();
    CHILD_CHECK(r, stuck == 0);
  });
}

}  // namespace
}  // namespace sealkit::test
