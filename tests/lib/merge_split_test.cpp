// Sealing changes a VMA flag, so it splits VMAs at the edges of the sealed
// range, and sealed neighbours with the same attributes merge again. Observed
// through this test's own reading of /proc/self/smaps.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "lib/support.hpp"
#include "sealkit/sealkit.h"

namespace sealkit::test {
namespace {

// n read-only pages between two PROT_NONE guard pages, so that the VMAs
// under test can never merge with a neighbour outside the test's control.
class GuardedRow : public ::testing::Test {
 protected:
  static constexpr std::size_t kInner = 22;
  void SetUp() override {
    all_ = map_pages(kInner + 2);
    ASSERT_NE(all_, nullptr);
    ASSERT_EQ(::mprotect(all_, page(), PROT_NONE), 0);
    ASSERT_EQ(::mprotect(at(all_, kInner + 1), page(), PROT_NONE), 0);
    row_ = at(all_, 1);
    ASSERT_EQ(smaps_vma_size_at(row_), kInner * page());
  }
  std::byte* page_at(std::size_t i) const { return at(row_, i); }
  std::size_t vma_pages(std::size_t i) const { return smaps_vma_size_at(page_at(i)) / page(); }
  std::size_t vma_count() const { return smaps_vmas_in(row_, kInner * page()).size(); }
  void seal(std::size_t first, std::size_t pages) {
    ASSERT_EQ(sealkit_mseal(page_at(first), pages * page(), 0), 0) << std::strerror(errno);
  }

  std::byte* all_ = nullptr;
  std::byte* row_ = nullptr;
};

// kselftest: test_seal_merge_and_split, step by step.
TEST_F(GuardedRow, SealSplitsAndMergesStepByStep) {
  seal(0, 1);  // split from the start: [1 S][21]
  EXPECT_EQ(vma_pages(0), 1u);
  EXPECT_EQ(vma_pages(1), 21u);
  EXPECT_EQ(vma_count(), 2u);

  seal(21, 1);  // split from the end: [1 S][20][1 S]
  EXPECT_EQ(vma_pages(21), 1u);
  EXPECT_EQ(vma_pages(1), 20u);
  EXPECT_EQ(vma_count(), 3u);

  seal(1, 1);  // grows the sealed VMA before it: [2 S][19][1 S]
  EXPECT_EQ(vma_pages(0), 2u);
  EXPECT_EQ(vma_count(), 3u);

  seal(20, 1);  // grows the sealed VMA after it: [2 S][18][2 S]
  EXPECT_EQ(vma_pages(20), 2u);
  EXPECT_EQ(vma_pages(2), 18u);

  seal(1, 2);  // overlaps the sealed start and splits the middle: [3 S][17][2 S]
  EXPECT_EQ(vma_pages(0), 3u);
  EXPECT_EQ(vma_pages(3), 17u);
  errno = 0;
  EXPECT_EQ(::munmap(page_at(0), page()), -1);
  EXPECT_EQ(errno, EPERM);
  errno = 0;
  EXPECT_EQ(::mprotect(page_at(1), page(), PROT_NONE), -1);
  EXPECT_EQ(errno, EPERM);

  seal(19, 2);  // the same from the other side: [3 S][16][3 S]
  EXPECT_EQ(vma_pages(19), 3u);
  EXPECT_EQ(vma_pages(3), 16u);

  seal(1, 20);  // everything between merges into one: [22 S]
  EXPECT_EQ(vma_pages(0), kInner);
  EXPECT_EQ(vma_count(), 1u);
  EXPECT_SEALED(row_, kInner * page());
  EXPECT_EQ(smaps_prot_at(row_), PROT_READ) << "sealing does not change the protection";
}

// Sealing the middle of one VMA makes three.
TEST_F(GuardedRow, SealingTheMiddleMakesThreeVmas) {
  seal(5, 4);
  EXPECT_EQ(vma_count(), 3u);
  EXPECT_EQ(vma_pages(0), 5u);
  EXPECT_EQ(vma_pages(5), 4u);
  EXPECT_EQ(vma_pages(9), kInner - 9);
  EXPECT_NOT_SEALED(page_at(0), 5 * page());
  EXPECT_SEALED(page_at(5), 4 * page());
  EXPECT_NOT_SEALED(page_at(9), (kInner - 9) * page());
}

// Sealed VMAs with different protections stay apart; sealing does not make
// them mergeable.
TEST_F(GuardedRow, SealedVmasWithDifferentProtectionsStaySeparate) {
  ASSERT_EQ(::mprotect(page_at(4), 4 * page(), PROT_READ | PROT_WRITE), 0);
  ASSERT_EQ(vma_count(), 3u);
  seal(0, kInner);
  EXPECT_EQ(vma_count(), 3u);
  EXPECT_EQ(vma_pages(4), 4u);
  EXPECT_SEALED(row_, kInner * page());
}

// kselftest: test_seal_split_start. Seal the first page of a two-VMA range,
// then the rest.
TEST_F(GuardedRow, SplitAtTheStartThenSealTheRest) {
  ASSERT_EQ(::mprotect(row_, 2 * page(), PROT_READ | PROT_WRITE), 0);
  seal(0, 1);
  EXPECT_EQ(vma_pages(0), 1u);
  EXPECT_EQ(vma_pages(1), 1u);
  seal(1, 3);
  EXPECT_SEALED(row_, 4 * page());
  EXPECT_NOT_SEALED(page_at(4), page());
}

// kselftest: test_seal_split_end. Seal the last page first, then the others.
TEST_F(GuardedRow, SplitAtTheEndThenSealTheRest) {
  ASSERT_EQ(::mprotect(row_, 2 * page(), PROT_READ | PROT_WRITE), 0);
  seal(3, 1);
  EXPECT_EQ(vma_pages(3), 1u);
  seal(0, 3);
  EXPECT_SEALED(row_, 4 * page());
  EXPECT_EQ(vma_pages(2), 2u) << "pages 2 and 3 are read-only and sealed: one VMA";
}

// kselftest: test_seal_multiple_vmas. One call seals three VMAs.
TEST_F(GuardedRow, OneCallSealsSeveralVmas) {
  ASSERT_EQ(::mprotect(page_at(1), 2 * page(), PROT_READ | PROT_WRITE), 0);
  ASSERT_EQ(::mprotect(row_, 4 * page(), PROT_READ), 0);
  ASSERT_EQ(::mprotect(page_at(1), 2 * page(), PROT_READ | PROT_WRITE), 0);
  ASSERT_EQ(smaps_vmas_in(row_, 4 * page()).size(), 3u);
  seal(0, 4);
  EXPECT_EQ(smaps_vmas_in(row_, 4 * page()).size(), 3u);
  for (const SmapsVma& v : smaps_vmas_in(row_, 4 * page())) EXPECT_TRUE(v.sealed()) << std::hex << v.start;
  EXPECT_NOT_SEALED(page_at(4), page());
}

}  // namespace
}  // namespace sealkit::test
