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
#include "backend/seccomp/table.hpp"
#include "lib/backend_choice.hpp"
#include "lib/support.hpp"
#include "sealkit/sealkit.h"

namespace sealkit::test {
namespace {

constexpr int kAnon = MAP_PRIVATE | MAP_ANONYMOUS;

// These tests need no mseal(2): they run on Debian 12's 6.1 as well.
const bool g_no_kernel_mseal_needed = (g_tests_need_kernel_mseal = false, true);

// In a child: the backend is chosen afresh from SEALKIT_BACKEND = value (the
// parent's warm-up already chose once).
void choose_again(const char* value) {
  if (value) ::setenv("SEALKIT_BACKEND", value, 1);
  else ::unsetenv("SEALKIT_BACKEND");
  lib::forget_backend_choice_for_tests();
}

// In a child: select the seccomp backend before the library's first call.
bool use_seccomp(ChildReport& r) {
  choose_again("seccomp");
  if (std::strcmp(sealkit_backend(), "seccomp") != 0) {
    r.skip(std::string("the seccomp backend is not available here: sealkit_backend() is ") + sealkit_backend());
    return false;
  }
  return true;
}

std::byte* fresh(ChildReport& r, std::size_t pages, int prot = PROT_READ) {
  void* p = ::mmap(nullptr, pages * page(), prot, kAnon, -1, 0);
  CHILD_CHECK_ERRNO(r, p != MAP_FAILED);
  return p == MAP_FAILED ? nullptr : static_cast<std::byte*>(p);
}

bool fails_with(int rc, int err) { return rc == -1 && errno == err; }
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
    CHILD_CHECK(r, backend::seccomp::chunk_count() == 0);
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
    // A hole made just before asking: a seal's record chunk may have been mapped into an earlier one.
    CHILD_CHECK_ERRNO(r, ::munmap(at(p, 5), page()) == 0);  // p: u s s u u .
    errno = 0;
    CHILD_CHECK(r, fails_with(sealkit_is_sealed(at(p, 1), 5 * page()), ENOMEM));  // runs into the hole
    errno = 0;
    CHILD_CHECK(r, fails_with(sealkit_is_sealed(at(p, 1), 0), EINVAL));
    // The filter agrees page by page.
    CHILD_CHECK(r, fails_with(::mprotect(at(p, 2), page(), PROT_NONE), EPERM));
    CHILD_CHECK_ERRNO(r, ::mprotect(at(p, 3), page(), PROT_NONE) == 0);
    // Sealing twice succeeds and adds no filter; sealing across old and new adds one for the new part only.
    const std::size_t chunks = backend::seccomp::chunk_count();
    CHILD_CHECK_ERRNO(r, sealkit_mseal(at(p, 1), 2 * page(), 0) == 0);
    CHILD_CHECK(r, backend::seccomp::chunk_count() == chunks);
    CHILD_CHECK_ERRNO(r, sealkit_mseal(p, 4 * page(), 0) == 0);
    CHILD_CHECK(r, backend::seccomp::chunk_count() == chunks + 1);
    CHILD_CHECK(r, sealkit_is_sealed(p, 4 * page()) == 1);
    CHILD_CHECK(r, fails_with(::mprotect(p, page(), PROT_READ), EPERM));
  });
}

TEST(SeccompBackend, TheTableCannotBeMadeWritableMovedOrUnmapped) {
  EXPECT_CHILD_PASSES([](ChildReport& r) {
    if (!use_seccomp(r)) return;
    std::byte* p = fresh(r, 1);
    if (!p || !CHILD_CHECK_ERRNO(r, sealkit_mseal(p, page(), 0) == 0)) return;
    auto* table = static_cast<std::byte*>(const_cast<void*>(backend::seccomp::newest_chunk()));
    if (!CHILD_CHECK(r, table != nullptr)) return;
    CHILD_CHECK(r, sealkit_is_sealed(table, page()) == 1);  // the table records itself
    expect_attacks_refused(r, table, page(), true);
    CHILD_CHECK(r, fails_with(::pkey_mprotect(table, page(), PROT_READ | PROT_WRITE, 0), EPERM));
  });
}

// The record chunk must not merge with read-only anonymous memory next to it
// (the caller's VMA would change, and a later madvise would split it again).
// The neighbour is made after the seal, right against the chunk, as the
// selftest's targets were when a chunk was mapped just below them.
TEST(SeccompBackend, TheRecordDoesNotMergeWithItsNeighbours) {
  EXPECT_CHILD_PASSES([](ChildReport& r) {
    if (!use_seccomp(r)) return;
    std::byte* p = fresh(r, 1);
    if (!p || !CHILD_CHECK_ERRNO(r, sealkit_mseal(p, page(), 0) == 0)) return;
    auto* chunk = static_cast<std::byte*>(const_cast<void*>(backend::seccomp::newest_chunk()));
    const std::size_t chunk_size = smaps_vma_size_at(chunk);
    if (!CHILD_CHECK(r, chunk_size > 0)) return;
    int made = 0;
    for (std::byte* at : {chunk - page(), chunk + chunk_size}) {
      void* n = ::mmap(at, page(), PROT_READ | PROT_WRITE, kAnon | MAP_FIXED_NOREPLACE, -1, 0);
      if (n != at) continue;  // taken: try the other side
      ++made;
      std::memset(n, 7, page());  // its anon_vma may be the chunk's (shared with a compatible neighbour)
      CHILD_CHECK_ERRNO(r, ::mprotect(n, page(), PROT_READ) == 0);
      CHILD_CHECK(r, smaps_vma_size_at(n) == page());
    }
    if (made == 0) return r.skip("both sides of the record chunk are taken");
    CHILD_CHECK(r, smaps_vma_size_at(chunk) == chunk_size);
  });
}

// Each seal adds one filter; the budget (32768 instructions per thread) runs
// out after a few dozen. The seal that does not fit fails with ENOMEM and
// leaves nothing behind: no record, no enforcement.
TEST(SeccompBackend, TheBudgetEndsInEnomemWithNothingRecorded) {
  EXPECT_CHILD_PASSES([](ChildReport& r) {
    if (!use_seccomp(r)) return;
    int seals = 0;
    for (;;) {
      std::byte* p = fresh(r, 1);
      if (!p) return;
      const std::size_t chunks = backend::seccomp::chunk_count();
      errno = 0;
      if (sealkit_mseal(p, page(), 0) == 0) {
        if (++seals > 10000) return (void)r.fail("no budget limit after 10000 seals");
        continue;
      }
      CHILD_CHECK(r, errno == ENOMEM);
      CHILD_CHECK(r, backend::seccomp::chunk_count() == chunks);
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
    std::fprintf(stderr, "[seccomp backend] sealkit_seal_loaded_objects: %d objects, %zu filters\n", objects,
                 backend::seccomp::chunk_count());
  });
}

// A forced kernel backend where mseal(2) is missing (simulated with a filter
// returning ENOSYS) is "none": nothing is sealed, ENOSYS as before.
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
