// mmap(MAP_FIXED) over memory sealed through the library: EPERM, and the
// sealed mapping is left as it was.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "lib/sealed_or_not.hpp"
#include "lib/support.hpp"

namespace sealkit::test {
namespace {

class MmapFixedRule : public SealedOrNot {
 protected:
  void expect_mmap_fixed(void* addr, std::size_t len, int prot) {
    errno = 0;
    void* r = ::mmap(addr, len, prot, MAP_ANONYMOUS | MAP_PRIVATE | MAP_FIXED, -1, 0);
    int err = errno;
    if (sealed()) {
      EXPECT_EQ(r, MAP_FAILED);
      EXPECT_EQ(err, EPERM) << std::strerror(err);
    } else {
      EXPECT_EQ(r, addr) << std::strerror(err);
    }
  }
};

// kselftest: test_seal_mmap_overwrite_prot
TEST_P(MmapFixedRule, ReplaceWithAnotherProtection) {
  std::byte* p = map_pages(1, PROT_READ | PROT_WRITE);
  ASSERT_NE(p, nullptr);
  std::memset(p, 0x33, page());
  maybe_seal(p, page());
  expect_mmap_fixed(p, page(), PROT_NONE);
  EXPECT_EQ(smaps_prot_at(p), sealed() ? PROT_READ | PROT_WRITE : PROT_NONE);
  if (sealed()) {
    EXPECT_EQ(static_cast<unsigned char>(p[0]), 0x33) << "the sealed contents are still there";
  }
}

// kselftest: test_seal_mmap_expand (a bigger mapping over 8 sealed pages and
// 4 free ones)
TEST_P(MmapFixedRule, ReplaceWithABiggerMapping) {
  std::byte* p = map_pages(12);
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(::munmap(at(p, 8), 4 * page()), 0);
  maybe_seal(p, 8 * page());
  expect_mmap_fixed(p, 12 * page(), PROT_READ);
  EXPECT_EQ(is_mapped(at(p, 8), 4 * page()), !sealed()) << "a refused MAP_FIXED maps nothing new";
}

// kselftest: test_seal_mmap_shrink (a smaller mapping over the start of 12
// sealed pages)
TEST_P(MmapFixedRule, ReplaceWithASmallerMapping) {
  std::byte* p = map_pages(12);
  ASSERT_NE(p, nullptr);
  maybe_seal(p, 12 * page());
  expect_mmap_fixed(p, 8 * page(), PROT_NONE);
  EXPECT_EQ(smaps_prot_at(p), sealed() ? PROT_READ : PROT_NONE);
  EXPECT_EQ(smaps_prot_at(at(p, 7)), sealed() ? PROT_READ : PROT_NONE);
  EXPECT_EQ(smaps_prot_at(at(p, 8)), PROT_READ);
}

// A MAP_FIXED mapping that only overlaps the sealed range at its end.
TEST_P(MmapFixedRule, OverlapOnlyTheLastSealedPage) {
  std::byte* p = map_pages(4);
  ASSERT_NE(p, nullptr);
  maybe_seal(at(p, 3), page());
  expect_mmap_fixed(at(p, 3), page(), PROT_READ | PROT_WRITE);
  if (sealed()) {
    EXPECT_SEALED(at(p, 3), page());
  }
}

// A file mapping over a sealed file mapping.
TEST_P(MmapFixedRule, ReplaceASealedFileMapping) {
  int fd = ::memfd_create("sealkit-test", MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(2 * page())), 0);
  void* p = ::mmap(nullptr, 2 * page(), PROT_READ, MAP_SHARED, fd, 0);
  ASSERT_NE(p, MAP_FAILED);
  maybe_seal(p, 2 * page());
  errno = 0;
  void* r = ::mmap(p, 2 * page(), PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
  int err = errno;
  if (sealed()) {
    EXPECT_EQ(r, MAP_FAILED);
    EXPECT_EQ(err, EPERM);
  } else {
    EXPECT_EQ(r, p);
    ::munmap(p, 2 * page());
  }
  ::close(fd);
}

SEALKIT_INSTANTIATE_SEALED_OR_NOT(MmapFixedRule);

}  // namespace
}  // namespace sealkit::test
