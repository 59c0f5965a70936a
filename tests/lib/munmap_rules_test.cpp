// munmap(2) on memory sealed through the library: EPERM, and atomic: when
// any VMA in the range is sealed, nothing at all is unmapped.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cerrno>

#include "lib/sealed_or_not.hpp"
#include "lib/support.hpp"

namespace sealkit::test {
namespace {

class MunmapRule : public SealedOrNot {
 protected:
  void SetUp() override {
    p_ = map_pages(4);
    ASSERT_NE(p_, nullptr);
  }
  void expect_munmap(std::size_t first, std::size_t pages) {
    int ret, err;
    CALL_ERRNO(::munmap(at(p_, first), pages * page()), ret, err);
    expect_blocked_if_sealed(ret, err, "munmap");
  }
  std::byte* p_ = nullptr;
};

// kselftest: test_seal_munmap
TEST_P(MunmapRule, WholeSealedRange) {
  maybe_seal(p_, 4 * page());
  expect_munmap(0, 4);
  EXPECT_EQ(is_mapped(p_, 4 * page()), sealed());
}

// kselftest: test_seal_munmap_two_vma
TEST_P(MunmapRule, TwoSealedVmas) {
  ASSERT_EQ(::mprotect(p_, 2 * page(), PROT_READ | PROT_WRITE), 0);
  maybe_seal(p_, 4 * page());
  expect_munmap(0, 2);
  expect_munmap(1, 2);
  if (sealed()) {
    EXPECT_TRUE(is_mapped(p_, 4 * page()));
  }
}

// kselftest: test_munmap_start_freed. The range starts in a hole and ends in
// sealed memory.
TEST_P(MunmapRule, RangeStartingInAHole) {
  ASSERT_EQ(::munmap(p_, page()), 0);
  maybe_seal(at(p_, 1), 3 * page());
  expect_munmap(0, 4);
  EXPECT_EQ(is_mapped(at(p_, 1), 3 * page()), sealed());
}

// kselftest: test_munmap_middle_freed. One sealed page keeps the unsealed
// page at the other end of the range mapped too.
TEST_P(MunmapRule, RangeWithAHoleInTheMiddle) {
  ASSERT_EQ(::munmap(at(p_, 1), 2 * page()), 0);
  maybe_seal(p_, page());
  expect_munmap(0, 4);
  EXPECT_EQ(is_mapped(p_, page()), sealed());
  EXPECT_EQ(is_mapped(at(p_, 3), page()), sealed()) << "munmap is all or nothing";
}

// kselftest: test_munmap_end_freed
TEST_P(MunmapRule, RangeEndingInAHole) {
  ASSERT_EQ(::munmap(at(p_, 3), page()), 0);
  maybe_seal(p_, 3 * page());
  expect_munmap(0, 4);
  EXPECT_EQ(is_mapped(p_, 3 * page()), sealed());
}

// An unsealed VMA first, then a sealed one: the unsealed one survives.
TEST_P(MunmapRule, UnsealedVmaBeforeASealedOneSurvives) {
  maybe_seal(at(p_, 2), 2 * page());
  expect_munmap(0, 4);
  EXPECT_EQ(is_mapped(p_, 2 * page()), sealed()) << "munmap is atomic";
}

// A sealed page in the middle of the mapping.
TEST_P(MunmapRule, SealedPageInTheMiddle) {
  maybe_seal(at(p_, 2), page());
  expect_munmap(0, 4);
  EXPECT_EQ(is_mapped(p_, 4 * page()), sealed());
}

SEALKIT_INSTANTIATE_SEALED_OR_NOT(MunmapRule);

// kselftest: test_seal_munmap_vma_with_gap. mseal over a hole seals nothing,
// so both sides can still be unmapped.
TEST(MunmapHole, FailedSealOverAHoleLeavesBothSidesUnmappable) {
  std::byte* p = map_pages(4);
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(::munmap(at(p, 1), 2 * page()), 0);
  errno = 0;
  EXPECT_EQ(sealkit_mseal(p, 4 * page(), 0), -1);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(::munmap(p, page()), 0);
  EXPECT_EQ(::munmap(at(p, 3), page()), 0);
  EXPECT_EQ(::munmap(p, 4 * page()), 0) << "unmapping nothing succeeds";
  EXPECT_FALSE(is_mapped(p, page()));
}

}  // namespace
}  // namespace sealkit::test
