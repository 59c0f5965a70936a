// mprotect(2) on memory sealed through the library: EPERM on every sealed
// VMA, success on the same layout unsealed. The layouts are the kernel
// selftest's (4 read-only pages, split into VMAs in several ways).
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cerrno>

#include "lib/sealed_or_not.hpp"
#include "lib/support.hpp"

namespace sealkit::test {
namespace {

constexpr int kRW = PROT_READ | PROT_WRITE;

class MprotectRule : public SealedOrNot {
 protected:
  void SetUp() override {
    p_ = map_pages(4);
    ASSERT_NE(p_, nullptr);
  }
  void expect_mprotect(std::size_t first, std::size_t pages, int prot) {
    int ret, err;
    CALL_ERRNO(::mprotect(at(p_, first), pages * page(), prot), ret, err);
    expect_blocked_if_sealed(ret, err, "mprotect");
  }
  void expect_mprotect_ok(std::size_t first, std::size_t pages, int prot) {
    EXPECT_EQ(::mprotect(at(p_, first), pages * page(), prot), 0) << std::strerror(errno);
  }
  std::byte* p_ = nullptr;
};

// kselftest: test_seal_mprotect
TEST_P(MprotectRule, WholeSealedRange) {
  maybe_seal(p_, 4 * page());
  expect_mprotect(0, 4, kRW);
  EXPECT_EQ(smaps_prot_at(p_), sealed() ? PROT_READ : kRW);
}

// Even an mprotect that would change nothing is refused.
TEST_P(MprotectRule, SameProtectionIsStillRefused) {
  maybe_seal(p_, 4 * page());
  expect_mprotect(0, 4, PROT_READ);
  expect_mprotect(0, 4, PROT_NONE);
  expect_mprotect(0, 4, PROT_READ | PROT_EXEC);
}

// kselftest: test_seal_start_mprotect
TEST_P(MprotectRule, FirstPageSealed) {
  maybe_seal(p_, page());
  expect_mprotect(0, 1, kRW);
  expect_mprotect_ok(1, 3, kRW);
}

// kselftest: test_seal_end_mprotect
TEST_P(MprotectRule, LastThreePagesSealed) {
  maybe_seal(at(p_, 1), 3 * page());
  expect_mprotect_ok(0, 1, kRW);
  expect_mprotect(1, 3, kRW);
}

// kselftest: test_seal_mprotect_unalign_len (len 2 pages - 1 seals 2 pages)
TEST_P(MprotectRule, UnalignedLenRoundsUpToTwoPages) {
  if (sealed()) {
    ASSERT_EQ(sealkit_mseal(p_, 2 * page() - 1, 0), 0);
  }
  expect_mprotect(0, 2, kRW);
  expect_mprotect_ok(2, 1, kRW);
}

// kselftest: test_seal_mprotect_unalign_len_variant_2 (2 pages + 1 seals 3)
TEST_P(MprotectRule, UnalignedLenRoundsUpToThreePages) {
  if (sealed()) {
    ASSERT_EQ(sealkit_mseal(p_, 2 * page() + 1, 0), 0);
  }
  expect_mprotect(0, 3, kRW);
  expect_mprotect_ok(3, 1, kRW);
}

// kselftest: test_seal_mprotect_two_vma
TEST_P(MprotectRule, TwoVmasBothSealed) {
  ASSERT_EQ(::mprotect(p_, 2 * page(), kRW), 0);
  maybe_seal(p_, 4 * page());
  expect_mprotect(0, 2, kRW);
  expect_mprotect(2, 2, kRW);
}

// kselftest: test_seal_mprotect_two_vma_with_split
TEST_P(MprotectRule, SealingTheMiddleSplitsTwoVmas) {
  ASSERT_EQ(::mprotect(p_, 2 * page(), kRW), 0);
  maybe_seal(at(p_, 1), 2 * page());
  expect_mprotect_ok(0, 1, kRW);
  expect_mprotect(1, 1, kRW);
  expect_mprotect(2, 1, kRW);
  expect_mprotect_ok(3, 1, kRW);
}

// kselftest: test_seal_mprotect_partial_mprotect
TEST_P(MprotectRule, RangeStartingWithASealedPage) {
  maybe_seal(p_, page());
  expect_mprotect(0, 2, kRW);
  // The kernel checks VMA by VMA, starting with the sealed one: the
  // unsealed page after it is untouched.
  EXPECT_EQ(smaps_prot_at(at(p_, 1)), sealed() ? PROT_READ : kRW);
}

// Linux 6.12+ checks each VMA as it goes: VMAs before the first sealed one
// have already been changed when EPERM comes back. (Observed on 6.18; the
// kselftest only checks the return value.)
TEST_P(MprotectRule, RangeEndingWithASealedPageChangesTheFirstPart) {
  maybe_seal(at(p_, 2), 2 * page());
  expect_mprotect(0, 4, kRW);
  EXPECT_EQ(smaps_prot_at(p_), kRW) << "the unsealed VMA before the sealed one is changed either way";
  EXPECT_EQ(smaps_prot_at(at(p_, 2)), sealed() ? PROT_READ : kRW);
}

// kselftest: test_seal_mprotect_merge
TEST_P(MprotectRule, SealedFirstTwoOfTwoVmas) {
  ASSERT_EQ(::mprotect(p_, page(), kRW), 0);
  maybe_seal(p_, 2 * page());
  expect_mprotect(0, 2, PROT_READ);
  expect_mprotect_ok(2, 2, PROT_READ);
}

// kselftest: test_seal_mprotect_split
TEST_P(MprotectRule, SealedAcrossASplit) {
  ASSERT_EQ(::mprotect(p_, page(), kRW), 0);
  maybe_seal(p_, 4 * page());
  expect_mprotect(0, 2, PROT_READ);
  expect_mprotect(2, 2, PROT_READ);
}

// The seal is on the VMA, so it survives fork: the child is refused too.
TEST_P(MprotectRule, SealIsInheritedByAForkedChild) {
  maybe_seal(p_, 4 * page());
  const bool expect_sealed = sealed();
  std::byte* p = p_;
  EXPECT_CHILD_PASSES([=](ChildReport& r) {
    errno = 0;
    int ret = ::mprotect(p, 4 * page(), kRW);
    if (expect_sealed)
      CHILD_CHECK(r, ret == -1 && errno == EPERM);
    else
      CHILD_CHECK_ERRNO(r, ret == 0);
  });
}

SEALKIT_INSTANTIATE_SEALED_OR_NOT(MprotectRule);

// kselftest: test_seal_mprotect_two_vma_with_gap. Not about seals: mprotect
// fails at the hole after changing the VMA before it, and mseal fails with
// ENOMEM without sealing either side.
TEST(MprotectHole, FailsAtTheHoleAndMsealSealsNothing) {
  std::byte* p = map_pages(4);
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(::mprotect(p, page(), kRW), 0);
  ASSERT_EQ(::mprotect(at(p, 3), page(), kRW), 0);
  ASSERT_EQ(::munmap(at(p, 1), 2 * page()), 0);

  errno = 0;
  EXPECT_EQ(::mprotect(p, 4 * page(), PROT_READ), -1);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(smaps_prot_at(p), PROT_READ) << "the first VMA was changed before the hole was found";
  EXPECT_EQ(smaps_prot_at(at(p, 3)), kRW) << "the VMA after the hole was not reached";

  errno = 0;
  EXPECT_EQ(sealkit_mseal(p, 4 * page(), 0), -1);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_NOT_SEALED(p, page());
  EXPECT_NOT_SEALED(at(p, 3), page());
  EXPECT_EQ(::mprotect(p, page(), PROT_READ), 0);
  EXPECT_EQ(::mprotect(at(p, 3), page(), PROT_READ), 0);
}

}  // namespace
}  // namespace sealkit::test
