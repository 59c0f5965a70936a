// mremap(2) and memory sealed through the library: shrinking, expanding,
// moving a sealed mapping, MREMAP_DONTUNMAP, and moving another mapping onto
// a sealed one all fail with EPERM and leave the sealed memory where it was.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "backend/kernel_abi.hpp"
#include "lib/sealed_or_not.hpp"
#include "lib/support.hpp"

namespace sealkit::test {
namespace {

class MremapRule : public SealedOrNot {
 protected:
  // Sealed: MAP_FAILED with EPERM. Unsealed: `expect_unsealed`, or any
  // address but MAP_FAILED when that is kAnyAddress (the kernel chooses).
  void expect_mremap(void* ret, int err, const void* expect_unsealed) {
    if (sealed()) {
      EXPECT_EQ(ret, MAP_FAILED);
      EXPECT_EQ(err, EPERM) << std::strerror(err);
    } else if (expect_unsealed == kAnyAddress) {
      EXPECT_NE(ret, MAP_FAILED) << std::strerror(err);
    } else {
      EXPECT_EQ(ret, expect_unsealed) << std::strerror(err);
    }
  }
  static inline const void* const kAnyAddress = reinterpret_cast<const void*>(-2);
};

void* mremap_errno(void* old, std::size_t old_len, std::size_t new_len, int flags, void* new_addr, int& err) {
  errno = 0;
  void* r = ::mremap(old, old_len, new_len, flags, new_addr);
  err = errno;
  return r;
}

// kselftest: test_seal_mremap_shrink
TEST_P(MremapRule, Shrink) {
  std::byte* p = map_pages(4);
  ASSERT_NE(p, nullptr);
  maybe_seal(p, 4 * page());
  int err;
  void* r = mremap_errno(p, 4 * page(), 2 * page(), 0, nullptr, err);
  expect_mremap(r, err, p);
  // (Sizes of VMAs are not compared: a sealed neighbour may have merged with it.)
  EXPECT_EQ(is_mapped(at(p, 2), 2 * page()), sealed()) << "the tail is only unmapped when the shrink happened";
}

// kselftest: test_seal_mremap_expand (in place, into free pages after it)
TEST_P(MremapRule, ExpandInPlace) {
  std::byte* p = map_pages(4);
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(::munmap(at(p, 2), 2 * page()), 0);
  maybe_seal(p, 2 * page());
  int err;
  void* r = mremap_errno(p, 2 * page(), 4 * page(), 0, nullptr, err);
  expect_mremap(r, err, p);
  EXPECT_EQ(is_mapped(at(p, 2), 2 * page()), !sealed()) << "the new tail only exists when the expansion happened";
}

// kselftest: test_seal_mremap_move
TEST_P(MremapRule, MoveToAFreeAddress) {
  std::byte* p = map_pages(1);
  std::byte* dest = free_range(1);
  ASSERT_NE(p, nullptr);
  maybe_seal(p, page());
  int err;
  void* r = mremap_errno(p, page(), page(), MREMAP_MAYMOVE | MREMAP_FIXED, dest, err);
  expect_mremap(r, err, dest);
  EXPECT_EQ(is_mapped(p, page()), sealed()) << "a sealed mapping stays where it was";
  if (sealed()) {
    EXPECT_SEALED(p, page());
  }
}

// kselftest: test_seal_mremap_shrink_fixed (the sealed source is moved onto
// another mapping and shrunk)
TEST_P(MremapRule, ShrinkAndMoveOntoAnotherMapping) {
  std::byte* p = map_pages(4);
  std::byte* dest = map_pages(4);
  ASSERT_NE(p, nullptr);
  ASSERT_NE(dest, nullptr);
  maybe_seal(p, 4 * page());
  int err;
  void* r = mremap_errno(p, 4 * page(), 2 * page(), MREMAP_MAYMOVE | MREMAP_FIXED, dest, err);
  expect_mremap(r, err, dest);
  EXPECT_EQ(is_mapped(p, 4 * page()), sealed());
}

// kselftest: test_seal_mremap_expand_fixed (an unsealed mapping moved onto a
// sealed one, growing)
TEST_P(MremapRule, ExpandAndMoveOntoASealedMapping) {
  std::byte* src = map_pages(1);
  std::byte* dest = map_pages(4);
  ASSERT_NE(src, nullptr);
  ASSERT_NE(dest, nullptr);
  maybe_seal(dest, 4 * page());
  int err;
  void* r = mremap_errno(src, page(), 4 * page(), MREMAP_MAYMOVE | MREMAP_FIXED, dest, err);
  expect_mremap(r, err, dest);
  if (sealed()) {
    EXPECT_TRUE(is_mapped(src, page())) << "the source must not be lost either";
    EXPECT_SEALED(dest, 4 * page());
  }
}

// kselftest: test_seal_mremap_move_fixed (same size, onto a sealed mapping)
TEST_P(MremapRule, MoveOntoASealedMapping) {
  std::byte* src = map_pages(4, PROT_READ | PROT_WRITE);
  std::byte* dest = map_pages(4);
  ASSERT_NE(src, nullptr);
  ASSERT_NE(dest, nullptr);
  std::memset(src, 0x5a, 4 * page());
  maybe_seal(dest, 4 * page());
  int err;
  void* r = mremap_errno(src, 4 * page(), 4 * page(), MREMAP_MAYMOVE | MREMAP_FIXED, dest, err);
  expect_mremap(r, err, dest);
  // Sealed: the destination's contents (zero) are untouched. Unsealed: they
  // are the moved pages.
  EXPECT_EQ(static_cast<unsigned char>(dest[page()]), sealed() ? 0 : 0x5a);
}

// kselftest: test_seal_mremap_move_dontunmap
TEST_P(MremapRule, MoveWithDontUnmap) {
  std::byte* p = map_pages(4);
  ASSERT_NE(p, nullptr);
  maybe_seal(p, 4 * page());
  int err;
  void* r = mremap_errno(p, 4 * page(), 4 * page(), MREMAP_MAYMOVE | MREMAP_DONTUNMAP, nullptr, err);
  expect_mremap(r, err, kAnyAddress);
  EXPECT_TRUE(is_mapped(p, 4 * page())) << "DONTUNMAP keeps the source either way";
}

// kselftest: test_seal_mremap_move_dontunmap_anyaddr (a free address as hint)
TEST_P(MremapRule, MoveWithDontUnmapToAHintedAddress) {
  std::byte* p = map_pages(4);
  ASSERT_NE(p, nullptr);
  maybe_seal(p, 4 * page());
  std::byte* hint = free_range(4);
  int err;
  void* r = mremap_errno(p, 4 * page(), 4 * page(), MREMAP_MAYMOVE | MREMAP_DONTUNMAP, hint, err);
  expect_mremap(r, err, hint);
}

// kselftest: test_seal_mremap_move_fixed_zero (moved to address 0, in a child
// so that page 0 never becomes valid memory in the test process)
TEST_P(MremapRule, MoveToAddressZero) {
  const bool seal = sealed();
  EXPECT_CHILD_PASSES([seal](ChildReport& r) {
    void* zero = ::mmap(nullptr, page(), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (zero == MAP_FAILED) {
      r.skip(std::string("cannot map address 0 here (vm.mmap_min_addr, needs CAP_SYS_RAWIO): ") + std::strerror(errno));
      return;
    }
    ::munmap(zero, page());
    void* p = ::mmap(nullptr, 4 * page(), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!CHILD_CHECK_ERRNO(r, p != MAP_FAILED)) return;
    if (seal && !CHILD_CHECK_ERRNO(r, sealkit_mseal(p, 4 * page(), 0) == 0)) return;
    errno = 0;
    void* moved = ::mremap(p, 4 * page(), 2 * page(), MREMAP_MAYMOVE | MREMAP_FIXED, nullptr);
    if (seal)
      CHILD_CHECK(r, moved == MAP_FAILED && errno == EPERM);
    else
      CHILD_CHECK_ERRNO(r, moved == nullptr);
  });
}

SEALKIT_INSTANTIATE_SEALED_OR_NOT(MremapRule);

}  // namespace
}  // namespace sealkit::test
