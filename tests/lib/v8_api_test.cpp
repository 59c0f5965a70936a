// The v8 patch series' API on top of mseal: SEALKIT_PROT_SEAL and
// SEALKIT_MAP_SEALABLE in sealkit_mmap/sealkit_mprotect, and the two modes.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "lib/elf_segments.hpp"
#include "lib/support.hpp"
#include "sealkit/sealkit.h"

namespace sealkit::test {
namespace {

constexpr int kAnon = MAP_PRIVATE | MAP_ANONYMOUS;

std::byte* sk_map(std::size_t pages, int prot, int flags, void* addr = nullptr) {
  void* p = sealkit_mmap(addr, pages * page(), prot, flags, -1, 0);
  return p == MAP_FAILED ? nullptr : static_cast<std::byte*>(p);
}

// Unmaps memory made with SEALKIT_MAP_SEALABLE. A plain munmap would leave the
// range marked sealable in the library (a documented limit of V8 mode: the
// library cannot see munmap), and a later plain mmap reusing the address
// would then count as sealable in another test. A non-sealable sealkit_mmap
// over it first makes the library forget.
void unmap_sealable(void* p, std::size_t len) {
  ASSERT_EQ(sealkit_mmap(p, len, PROT_NONE, kAnon | MAP_FIXED, -1, 0), p) << std::strerror(errno);
  ASSERT_EQ(::munmap(p, len), 0);
}

// ---- modes ----

TEST(SetMode, ReturnsThePreviousModeAndRejectsUnknownOnes) {
  EXPECT_EQ(sealkit_set_mode(SEALKIT_MODE_V8), SEALKIT_MODE_UPSTREAM) << "upstream is the default";
  EXPECT_EQ(sealkit_set_mode(SEALKIT_MODE_V8), SEALKIT_MODE_V8);
  for (int bad : {2, -1, 42}) {
    errno = 0;
    EXPECT_EQ(sealkit_set_mode(bad), -1) << bad;
    EXPECT_EQ(errno, EINVAL) << bad;
  }
  EXPECT_EQ(sealkit_set_mode(SEALKIT_MODE_UPSTREAM), SEALKIT_MODE_V8) << "a rejected mode changes nothing";
  EXPECT_EQ(sealkit_set_mode(SEALKIT_MODE_UPSTREAM), SEALKIT_MODE_UPSTREAM);
}

// ---- upstream mode ----

TEST(ProtSeal, MmapReturnsSealedMemory) {
  std::byte* p = sk_map(4, PROT_READ | SEALKIT_PROT_SEAL, kAnon);
  ASSERT_NE(p, nullptr) << std::strerror(errno);
  EXPECT_SEALED(p, 4 * page());
  EXPECT_EQ(smaps_prot_at(p), PROT_READ) << "the seal bit is not a protection";
  errno = 0;
  EXPECT_EQ(::mprotect(p, 4 * page(), PROT_READ | PROT_WRITE), -1);
  EXPECT_EQ(errno, EPERM);
  errno = 0;
  EXPECT_EQ(::munmap(p, 4 * page()), -1);
  EXPECT_EQ(errno, EPERM);
}

TEST(ProtSeal, WritableSealedMappingStaysWritable) {
  std::byte* p = sk_map(1, PROT_READ | PROT_WRITE | SEALKIT_PROT_SEAL, kAnon);
  ASSERT_NE(p, nullptr) << std::strerror(errno);
  p[10] = std::byte{7};
  EXPECT_EQ(p[10], std::byte{7});
  EXPECT_SEALED(p, page());
  EXPECT_EQ(smaps_prot_at(p), PROT_READ | PROT_WRITE);
}

TEST(ProtSeal, UnalignedLengthSealsEveryPageOfTheMapping) {
  std::byte* p =
      static_cast<std::byte*>(sealkit_mmap(nullptr, 2 * page() + 1, PROT_READ | SEALKIT_PROT_SEAL, kAnon, -1, 0));
  ASSERT_NE(p, static_cast<std::byte*>(MAP_FAILED)) << std::strerror(errno);
  EXPECT_SEALED(p, 3 * page());
}

TEST(ProtSeal, FileMappingIsSealed) {
  int fd = ::memfd_create("sealkit-v8", MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(page())), 0);
  void* p = sealkit_mmap(nullptr, page(), PROT_READ | SEALKIT_PROT_SEAL, MAP_SHARED, fd, 0);
  ::close(fd);
  ASSERT_NE(p, MAP_FAILED) << std::strerror(errno);
  EXPECT_SEALED(p, page());
}

TEST(ProtSeal, MapSealableAloneDoesNotSeal) {
  std::byte* p = sk_map(2, PROT_READ, kAnon | SEALKIT_MAP_SEALABLE);
  ASSERT_NE(p, nullptr) << std::strerror(errno);
  EXPECT_NOT_SEALED(p, 2 * page());
  unmap_sealable(p, 2 * page());
}

TEST(ProtSeal, MmapFailureIsPassedThrough) {
  errno = 0;
  EXPECT_EQ(sealkit_mmap(nullptr, 0, PROT_READ | SEALKIT_PROT_SEAL, kAnon, -1, 0), MAP_FAILED);
  EXPECT_EQ(errno, EINVAL) << "len 0, as mmap(2) says";
  errno = 0;
  EXPECT_EQ(sealkit_mmap(nullptr, page(), PROT_READ, MAP_PRIVATE, -1, 0), MAP_FAILED);
  EXPECT_EQ(errno, EBADF) << "a file mapping without a file";
}

// This kernel has no PROT_SEAL: mprotect rejects bit 26, and mmap ignores it
// (observed on 6.18: the mapping comes back unsealed; docs/api.md says EINVAL,
// which would be fine too). Either way only the library seals.
TEST(ProtSealBits, KernelDoesNotSealWithBit26) {
  errno = 0;
  void* raw = ::mmap(nullptr, page(), PROT_READ | SEALKIT_PROT_SEAL, kAnon, -1, 0);
  if (raw == MAP_FAILED) {
    EXPECT_EQ(errno, EINVAL);
  } else {
    EXPECT_NOT_SEALED(raw, page());
    EXPECT_EQ(::munmap(raw, page()), 0);
  }
  std::byte* p = map_pages(1);
  ASSERT_NE(p, nullptr);
  errno = 0;
  EXPECT_EQ(::mprotect(p, page(), PROT_READ | SEALKIT_PROT_SEAL), -1);
  EXPECT_EQ(errno, EINVAL) << "mprotect(2) rejects unknown protection bits";
}

TEST(ProtSealBits, SealkitMprotectStripsTheSealBit) {
  std::byte* p = map_pages(2);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(sealkit_mprotect(p, 2 * page(), PROT_READ | PROT_WRITE | SEALKIT_PROT_SEAL), 0) << std::strerror(errno);
  EXPECT_EQ(smaps_prot_at(p), PROT_READ | PROT_WRITE);
  EXPECT_SEALED(p, 2 * page());
}

// The kernel ignores both bits in mmap (so its results cannot show whether
// they got through): a seccomp filter in a child fails any mmap/mprotect that
// carries them with EILSEQ. The raw calls prove the filter works; the
// library's calls must never trip it.
TEST(ProtSealBits, NeverReachTheKernel) {
  EXPECT_CHILD_PASSES([](ChildReport& r) {
    if (!deny_syscall(SYS_mmap, EILSEQ, 2, SEALKIT_PROT_SEAL) ||
        !deny_syscall(SYS_mmap, EILSEQ, 3, SEALKIT_MAP_SEALABLE) ||
        !deny_syscall(SYS_mprotect, EILSEQ, 2, SEALKIT_PROT_SEAL)) {
      r.skip("cannot install a seccomp filter on this architecture");
      return;
    }
    errno = 0;
    CHILD_CHECK(r,
                ::mmap(nullptr, page(), PROT_READ | SEALKIT_PROT_SEAL, kAnon, -1, 0) == MAP_FAILED && errno == EILSEQ);
    errno = 0;
    CHILD_CHECK(
        r, ::mmap(nullptr, page(), PROT_READ, kAnon | SEALKIT_MAP_SEALABLE, -1, 0) == MAP_FAILED && errno == EILSEQ);

    void* p = sealkit_mmap(nullptr, 2 * page(), PROT_READ | SEALKIT_PROT_SEAL, kAnon | SEALKIT_MAP_SEALABLE, -1, 0);
    if (!CHILD_CHECK_ERRNO(r, p != MAP_FAILED)) return;
    CHILD_CHECK(r, smaps_seal_state(p, 2 * page()) == SmapsSeal::kAllSealed);

    void* q = sealkit_mmap(nullptr, page(), PROT_READ | PROT_WRITE, kAnon | SEALKIT_MAP_SEALABLE, -1, 0);
    if (!CHILD_CHECK_ERRNO(r, q != MAP_FAILED)) return;
    errno = 0;
    CHILD_CHECK(r, ::mprotect(q, page(), PROT_READ | SEALKIT_PROT_SEAL) == -1 && errno == EILSEQ);
    CHILD_CHECK_ERRNO(r, sealkit_mprotect(q, page(), PROT_READ | SEALKIT_PROT_SEAL) == 0);
    CHILD_CHECK(r, smaps_seal_state(q, page()) == SmapsSeal::kAllSealed);
  });
}

// What this kernel does with bit 27 in mmap flags: it ignores it, even with
// MAP_SHARED_VALIDATE, because bits 26..31 belong to MAP_HUGE_SHIFT (observed
// on 6.18). The library passes no such bit on either way (test above).
TEST(ProtSealBits, KernelIgnoresBit27EvenWhenValidatingFlags) {
  int fd = ::memfd_create("sealkit-validate", MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(page())), 0);
  void* raw = ::mmap(nullptr, page(), PROT_READ, MAP_SHARED_VALIDATE | SEALKIT_MAP_SEALABLE, fd, 0);
  ASSERT_NE(raw, MAP_FAILED) << std::strerror(errno);
  EXPECT_NOT_SEALED(raw, page());
  EXPECT_EQ(::munmap(raw, page()), 0);
  void* p =
      sealkit_mmap(nullptr, page(), PROT_READ | SEALKIT_PROT_SEAL, MAP_SHARED_VALIDATE | SEALKIT_MAP_SEALABLE, fd, 0);
  ::close(fd);
  ASSERT_NE(p, MAP_FAILED) << std::strerror(errno);
  EXPECT_SEALED(p, page());
}

TEST(ProtSealFixed, OverASealedMappingFailsWithEperm) {
  std::byte* sealed = sk_map(2, PROT_READ | PROT_WRITE | SEALKIT_PROT_SEAL, kAnon);
  ASSERT_NE(sealed, nullptr);
  sealed[0] = std::byte{0x11};
  errno = 0;
  EXPECT_EQ(sealkit_mmap(sealed, 2 * page(), PROT_READ | SEALKIT_PROT_SEAL, kAnon | MAP_FIXED, -1, 0), MAP_FAILED);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(sealed[0], std::byte{0x11}) << "the sealed mapping was not replaced";
  EXPECT_EQ(smaps_prot_at(sealed), PROT_READ | PROT_WRITE);
  EXPECT_SEALED(sealed, 2 * page());
}

TEST(ProtSealFixed, OverAnUnsealedMappingReplacesAndSeals) {
  std::byte* p = map_pages(3, PROT_READ | PROT_WRITE);
  ASSERT_NE(p, nullptr);
  p[0] = std::byte{1};
  void* r = sealkit_mmap(at(p, 1), page(), PROT_READ | SEALKIT_PROT_SEAL, kAnon | MAP_FIXED, -1, 0);
  ASSERT_EQ(r, static_cast<void*>(at(p, 1))) << std::strerror(errno);
  EXPECT_SEALED(at(p, 1), page());
  EXPECT_NOT_SEALED(p, page());
  EXPECT_NOT_SEALED(at(p, 2), page());
  EXPECT_EQ(smaps_prot_at(at(p, 1)), PROT_READ);
}

// When sealing fails after mmap succeeded, the new mapping must not survive.
// Sealing a fresh mapping cannot fail on its own, so a seccomp filter makes
// mseal(2) fail with EIO in a child.
TEST(ProtSealFailure, NewMappingIsRemovedAndTheSealErrnoReturned) {
  std::byte* target = free_range(2);
  EXPECT_CHILD_PASSES([target](ChildReport& r) {
    if (!deny_mseal_with(EIO)) {
      r.skip("cannot install a seccomp filter on this architecture");
      return;
    }
    errno = 0;
    void* p = sealkit_mmap(target, 2 * page(), PROT_READ | SEALKIT_PROT_SEAL, kAnon | MAP_FIXED_NOREPLACE, -1, 0);
    CHILD_CHECK(r, p == MAP_FAILED);
    CHILD_CHECK(r, errno == EIO);
    CHILD_CHECK(r, !is_mapped(target, page()));
    CHILD_CHECK(r, !is_mapped(target + page(), page()));
    // The address is free again: a plain mapping fits exactly there.
    void* again = ::mmap(target, 2 * page(), PROT_READ, kAnon | MAP_FIXED_NOREPLACE, -1, 0);
    CHILD_CHECK_ERRNO(r, again == target);
  });
}

// The same failure in V8 mode must also forget that the range was sealable.
TEST(ProtSealFailure, FailedMappingIsNotRememberedAsSealable) {
  std::byte* target = free_range(1);
  EXPECT_CHILD_PASSES([target](ChildReport& r) {
    sealkit_set_mode(SEALKIT_MODE_V8);
    if (!deny_mseal_with(EIO)) {
      r.skip("cannot install a seccomp filter on this architecture");
      return;
    }
    CHILD_CHECK(r, sealkit_mmap(target, page(), PROT_READ | SEALKIT_PROT_SEAL, kAnon | MAP_FIXED_NOREPLACE, -1, 0) ==
                       MAP_FAILED);
    void* plain = ::mmap(target, page(), PROT_READ, kAnon | MAP_FIXED_NOREPLACE, -1, 0);
    if (!CHILD_CHECK_ERRNO(r, plain == target)) return;
    errno = 0;
    // EACCES from the V8 rule, before the (denied) system call: EIO would
    // mean the library still took the range for sealable.
    CHILD_CHECK(r, sealkit_mseal(target, page(), 0) == -1 && errno == EACCES);
  });
}

// A kernel without mseal (simulated with seccomp returning ENOSYS).
TEST(NoKernelSupport, MsealFailsWithEnosysAndSealsNothing) {
  std::byte* p = map_pages(1);
  ASSERT_NE(p, nullptr);
  EXPECT_CHILD_PASSES([p](ChildReport& r) {
    if (!deny_mseal_with(ENOSYS)) {
      r.skip("cannot install a seccomp filter on this architecture");
      return;
    }
    errno = 0;
    CHILD_CHECK(r, sealkit_mseal(p, page(), 0) == -1 && errno == ENOSYS);
    CHILD_CHECK(r, smaps_seal_state(p, page()) == SmapsSeal::kNotAllSealed);
    errno = 0;
    CHILD_CHECK(r, sealkit_mmap(nullptr, page(), PROT_READ | SEALKIT_PROT_SEAL, kAnon, -1, 0) == MAP_FAILED);
    CHILD_CHECK(r, errno == ENOSYS);
    CHILD_CHECK_ERRNO(r, ::munmap(p, page()) == 0);
  });
}

TEST(SealkitMprotect, WithoutTheSealBitIsPlainMprotect) {
  std::byte* p = map_pages(2);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(sealkit_mprotect(p, 2 * page(), PROT_READ | PROT_WRITE), 0);
  EXPECT_EQ(smaps_prot_at(p), PROT_READ | PROT_WRITE);
  EXPECT_NOT_SEALED(p, 2 * page());
  errno = 0;
  EXPECT_EQ(sealkit_mprotect(at(p, 0) + 1, page(), PROT_READ), -1);
  EXPECT_EQ(errno, EINVAL) << "unaligned, as mprotect(2)";
}

TEST(SealkitMprotect, SealedMemoryRefusesEvenAProtSealRequest) {
  std::byte* p = sk_map(1, PROT_READ | SEALKIT_PROT_SEAL, kAnon);
  ASSERT_NE(p, nullptr);
  errno = 0;
  EXPECT_EQ(sealkit_mprotect(p, page(), PROT_READ | PROT_WRITE), -1);
  EXPECT_EQ(errno, EPERM);
  errno = 0;
  EXPECT_EQ(sealkit_mprotect(p, page(), PROT_READ | PROT_WRITE | SEALKIT_PROT_SEAL), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(smaps_prot_at(p), PROT_READ);
}

TEST(SealkitMprotect, ProtSealOverAHoleFailsAndSealsNothing) {
  std::byte* p = map_pages(3);
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(::munmap(at(p, 1), page()), 0);
  errno = 0;
  EXPECT_EQ(sealkit_mprotect(p, 3 * page(), PROT_READ | SEALKIT_PROT_SEAL), -1);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_NOT_SEALED(p, page());
  EXPECT_NOT_SEALED(at(p, 2), page());
}

// ---- V8 mode ----

class V8Mode : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(sealkit_set_mode(SEALKIT_MODE_V8), SEALKIT_MODE_UPSTREAM); }
  void TearDown() override { EXPECT_EQ(sealkit_set_mode(SEALKIT_MODE_UPSTREAM), SEALKIT_MODE_V8); }

  void expect_eacces_and_unsealed(void* p, std::size_t len) {
    errno = 0;
    EXPECT_EQ(sealkit_mseal(p, len, 0), -1);
    EXPECT_EQ(errno, EACCES) << std::strerror(errno);
    EXPECT_EQ(smaps_seal_state(p, len), SmapsSeal::kNotAllSealed);
    EXPECT_EQ(sealkit_is_sealed(p, len), 0);
  }
};

TEST_F(V8Mode, PlainMmapIsNotSealable) {
  std::byte* p = map_pages(2);
  ASSERT_NE(p, nullptr);
  expect_eacces_and_unsealed(p, 2 * page());
  EXPECT_EQ(::munmap(p, 2 * page()), 0) << "nothing was sealed";
}

TEST_F(V8Mode, SealkitMmapWithoutSealableIsNotSealable) {
  std::byte* p = sk_map(2, PROT_READ, kAnon);
  ASSERT_NE(p, nullptr);
  expect_eacces_and_unsealed(p, 2 * page());
  expect_eacces_and_unsealed(at(p, 1), page());
}

TEST_F(V8Mode, SealableMappingCanBeSealedWholeOrInPart) {
  std::byte* p = sk_map(4, PROT_READ, kAnon | SEALKIT_MAP_SEALABLE);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(sealkit_mseal(at(p, 1), page(), 0), 0) << std::strerror(errno);
  EXPECT_SEALED(at(p, 1), page());
  EXPECT_NOT_SEALED(at(p, 2), page());
  EXPECT_EQ(sealkit_mseal(p, 4 * page(), 0), 0) << std::strerror(errno);
  EXPECT_SEALED(p, 4 * page());
}

TEST_F(V8Mode, ProtSealMappingIsSealedAndSealable) {
  std::byte* p = sk_map(2, PROT_READ | SEALKIT_PROT_SEAL, kAnon);
  ASSERT_NE(p, nullptr) << std::strerror(errno);
  EXPECT_SEALED(p, 2 * page());
  EXPECT_EQ(sealkit_mseal(p, 2 * page(), 0), 0) << "sealing again is fine";
}

// One unsealable page in the range: EACCES, and the sealable part stays unsealed.
TEST_F(V8Mode, MixedRangeSealsNothing) {
  std::byte* p = sk_map(4, PROT_READ, kAnon | SEALKIT_MAP_SEALABLE);
  ASSERT_NE(p, nullptr);
  // Replace the last two pages with a mapping made without MAP_SEALABLE.
  ASSERT_EQ(sealkit_mmap(at(p, 2), 2 * page(), PROT_READ, kAnon | MAP_FIXED, -1, 0), static_cast<void*>(at(p, 2)));
  expect_eacces_and_unsealed(p, 4 * page());
  EXPECT_NOT_SEALED(p, 2 * page());
  EXPECT_EQ(sealkit_mseal(p, 2 * page(), 0), 0) << "the sealable half alone is fine";
  EXPECT_SEALED(p, 2 * page());
}

// A MAP_FIXED sealkit_mmap with MAP_SEALABLE over a plain mapping makes that
// part sealable.
TEST_F(V8Mode, SealableReplacementMakesARangeSealable) {
  std::byte* p = map_pages(3);
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(sealkit_mmap(at(p, 1), page(), PROT_READ, kAnon | MAP_FIXED | SEALKIT_MAP_SEALABLE, -1, 0),
            static_cast<void*>(at(p, 1)));
  EXPECT_EQ(sealkit_mseal(at(p, 1), page(), 0), 0);
  expect_eacces_and_unsealed(p, page());
  expect_eacces_and_unsealed(at(p, 2), page());
}

TEST_F(V8Mode, UnmappedPageWinsOverUnsealable) {
  std::byte* p = map_pages(3);
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(::munmap(at(p, 1), page()), 0);
  errno = 0;
  EXPECT_EQ(sealkit_mseal(p, 3 * page(), 0), -1);
  EXPECT_EQ(errno, ENOMEM);
}

TEST_F(V8Mode, InputChecksComeFirst) {
  std::byte* p = map_pages(2);  // not sealable
  ASSERT_NE(p, nullptr);
  errno = 0;
  EXPECT_EQ(sealkit_mseal(p, page(), 1), -1);
  EXPECT_EQ(errno, EINVAL) << "flags";
  errno = 0;
  EXPECT_EQ(sealkit_mseal(p + 1, page(), 0), -1);
  EXPECT_EQ(errno, EINVAL) << "unaligned";
  errno = 0;
  EXPECT_EQ(sealkit_mseal(p, SIZE_MAX, 0), -1);
  EXPECT_EQ(errno, EINVAL) << "wraps";
  EXPECT_EQ(sealkit_mseal(p, 0, 0), 0) << "len 0 is a no-op even on unsealable memory";
}

TEST_F(V8Mode, MprotectProtSealOnUnsealableMemoryChangesNothing) {
  std::byte* p = map_pages(2);
  ASSERT_NE(p, nullptr);
  errno = 0;
  EXPECT_EQ(sealkit_mprotect(p, 2 * page(), PROT_READ | PROT_WRITE | SEALKIT_PROT_SEAL), -1);
  EXPECT_EQ(errno, EACCES);
  EXPECT_EQ(smaps_prot_at(p), PROT_READ) << "the protection is checked before it changes";
  EXPECT_NOT_SEALED(p, 2 * page());
}

TEST_F(V8Mode, MprotectProtSealOverAHoleChangesNothing) {
  std::byte* p = sk_map(3, PROT_READ, kAnon | SEALKIT_MAP_SEALABLE);
  ASSERT_NE(p, nullptr);
  unmap_sealable(at(p, 2), page());
  errno = 0;
  EXPECT_EQ(sealkit_mprotect(p, 3 * page(), PROT_READ | PROT_WRITE | SEALKIT_PROT_SEAL), -1);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(smaps_prot_at(p), PROT_READ) << "unlike plain mprotect, nothing before the hole changed";
  EXPECT_NOT_SEALED(p, 2 * page());
}

TEST_F(V8Mode, MprotectProtSealOnSealableMemory) {
  std::byte* p = sk_map(2, PROT_READ | PROT_WRITE, kAnon | SEALKIT_MAP_SEALABLE);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(sealkit_mprotect(p, 2 * page(), PROT_READ | SEALKIT_PROT_SEAL), 0) << std::strerror(errno);
  EXPECT_EQ(smaps_prot_at(p), PROT_READ);
  EXPECT_SEALED(p, 2 * page());
}

TEST_F(V8Mode, ProtSealFixedOverASealedMappingFailsWithEperm) {
  std::byte* p = sk_map(1, PROT_READ | SEALKIT_PROT_SEAL, kAnon);
  ASSERT_NE(p, nullptr);
  errno = 0;
  EXPECT_EQ(sealkit_mmap(p, page(), PROT_READ | SEALKIT_PROT_SEAL, kAnon | MAP_FIXED, -1, 0), MAP_FAILED);
  EXPECT_EQ(errno, EPERM);
  EXPECT_SEALED(p, page());
}

// Back in upstream mode, memory that V8 mode refused can be sealed.
TEST_F(V8Mode, UpstreamModeSealsWhatV8Refused) {
  std::byte* p = map_pages(1);
  ASSERT_NE(p, nullptr);
  expect_eacces_and_unsealed(p, page());
  ASSERT_EQ(sealkit_set_mode(SEALKIT_MODE_UPSTREAM), SEALKIT_MODE_V8);
  EXPECT_EQ(sealkit_mseal(p, page(), 0), 0);
  EXPECT_SEALED(p, page());
  ASSERT_EQ(sealkit_set_mode(SEALKIT_MODE_V8), SEALKIT_MODE_UPSTREAM);  // for TearDown
}

// ELF objects loaded by ld.so count as sealable: the main program's data and
// libc's text. In a child, since those seals are for good.
TEST_F(V8Mode, LoadedElfObjectsAreSealable) {
  EXPECT_CHILD_PASSES([](ChildReport& r) {
    const std::vector<ElfObject> objs = elf_objects();
    const ElfObject* prog = find_object(objs, "");
    const ElfObject* libc = find_object(objs, "libc.so");
    if (!CHILD_CHECK(r, prog && libc)) return;
    for (const ElfObject* o : {prog, libc}) {
      for (const ElfSegment& s : o->loads) {
        void* a = reinterpret_cast<void*>(s.start);
        CHILD_CHECK_ERRNO(r, sealkit_mseal(a, s.end - s.start, 0) == 0);
        CHILD_CHECK(r, smaps_seal_state(a, s.end - s.start) == SmapsSeal::kAllSealed);
      }
    }
    // Anonymous memory is still not sealable.
    void* anon = sealkit_mmap(nullptr, page(), PROT_READ, kAnon, -1, 0);
    errno = 0;
    CHILD_CHECK(r, sealkit_mseal(anon, page(), 0) == -1 && errno == EACCES);
  });
}

}  // namespace
}  // namespace sealkit::test
