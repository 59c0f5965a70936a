// Memory protection keys and seals: pkey_mprotect is refused like mprotect,
// and a pkey that denies writes makes writable memory count as read-only for
// the madvise rule. Needs a CPU and kernel with pkeys (x86 PKU, arm64 POE);
// elsewhere the tests skip and say why.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "lib/sealed_or_not.hpp"
#include "lib/support.hpp"

namespace sealkit::test {
namespace {

class PkeyRule : public SealedOrNot {
 protected:
  void SetUp() override {
    errno = 0;
    pkey_ = ::pkey_alloc(0, 0);
    if (pkey_ < 0) {
      GTEST_SKIP() << "pkey_alloc failed (" << std::strerror(errno) << "): no protection keys here";
    }
    p_ = map_pages(4, PROT_READ | PROT_WRITE);
    ASSERT_NE(p_, nullptr);
  }
  void TearDown() override {
    if (pkey_ >= 0) {
      ::pkey_set(pkey_, 0);
      ::pkey_free(pkey_);
    }
  }
  int pkey_ = -1;
  std::byte* p_ = nullptr;
};

TEST_P(PkeyRule, PkeyMprotectOnSealedMemory) {
  maybe_seal(p_, 4 * page());
  int ret, err;
  CALL_ERRNO(::pkey_mprotect(p_, 4 * page(), PROT_READ, pkey_), ret, err);
  expect_blocked_if_sealed(ret, err, "pkey_mprotect");
}

// kselftest: test_seal_discard_ro_anon_on_pkey
TEST_P(PkeyRule, DiscardOnWritableMemoryWhoseKeyDeniesWrites) {
  ASSERT_EQ(::pkey_mprotect(p_, 4 * page(), PROT_READ | PROT_WRITE, pkey_), 0) << std::strerror(errno);
  maybe_seal(p_, 4 * page());

  ASSERT_EQ(::pkey_set(pkey_, 0), 0);
  EXPECT_EQ(::madvise(p_, 4 * page(), MADV_DONTNEED), 0) << "the key allows writes: the memory is writable";

  ASSERT_EQ(::pkey_set(pkey_, PKEY_DISABLE_WRITE), 0);
  int ret, err;
  CALL_ERRNO(::madvise(p_, 4 * page(), MADV_DONTNEED), ret, err);
  ASSERT_EQ(::pkey_set(pkey_, 0), 0);
  expect_blocked_if_sealed(ret, err, "madvise(DONTNEED) with writes denied by the key");

  CALL_ERRNO(::munmap(p_, 4 * page()), ret, err);
  expect_blocked_if_sealed(ret, err, "munmap");
}

SEALKIT_INSTANTIATE_SEALED_OR_NOT(PkeyRule);

}  // namespace
}  // namespace sealkit::test
