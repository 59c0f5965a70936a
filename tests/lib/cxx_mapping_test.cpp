// sealkit::Mapping, sealkit::seal, sealkit::is_sealed and sealkit::Result.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <span>
#include <system_error>
#include <type_traits>
#include <utility>

#include "lib/support.hpp"
#include "sealkit/sealkit.hpp"

namespace sealkit::test {
namespace {

static_assert(!std::is_copy_constructible_v<Mapping> && !std::is_copy_assignable_v<Mapping>, "a mapping has one owner");
static_assert(std::is_nothrow_move_constructible_v<Mapping> && std::is_nothrow_move_assignable_v<Mapping>);

// ---- Result, seal, is_sealed ----

TEST(CxxResult, HoldsAValueOrAnError) {
  Result<int> v(5);
  EXPECT_TRUE(v.has_value());
  EXPECT_TRUE(static_cast<bool>(v));
  EXPECT_EQ(v.value(), 5);
  EXPECT_EQ(*v, 5);
  EXPECT_FALSE(v.error());

  Result<int> e(std::make_error_code(std::errc::not_enough_memory));
  EXPECT_FALSE(e.has_value());
  EXPECT_FALSE(static_cast<bool>(e));
  EXPECT_EQ(e.error(), std::errc::not_enough_memory);
}

// The trap of a Result<bool>: `if (auto r = is_sealed(p, n))` would be true
// for an unsealed mapping (the question answered, the answer "no"). It does
// not compile: no conversion of Result<bool> to bool, explicit or not.
static_assert(!std::is_constructible_v<bool, Result<bool>>, "Result<bool> must not convert to bool");
static_assert(!std::is_convertible_v<Result<bool>, bool>);
static_assert(std::is_constructible_v<bool, Result<int>> && !std::is_convertible_v<Result<int>, bool>,
              "other Results convert to bool explicitly only, as std::expected");
static_assert(std::is_constructible_v<bool, Result<void>> && !std::is_convertible_v<Result<void>, bool>);
static_assert(std::is_same_v<decltype(sealkit::seal(nullptr, 0)), Result<void>>, "one error style: Result");
static_assert(std::is_same_v<decltype(std::declval<WriteOnceArena&>().freeze()), Result<void>>);
static_assert(std::is_same_v<decltype(std::declval<Mapping&>().protect(0)), Result<void>>);
static_assert(std::is_same_v<Result<int>::value_type, int> && std::is_same_v<Result<int>::error_type, std::error_code>);

TEST(CxxResult, IsSealedAnswerIsReadThroughItsValue) {
  std::byte* p = map_pages(1);
  ASSERT_NE(p, nullptr);
  auto r = sealkit::is_sealed(p, page());
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_FALSE(*r) << "an unsealed page";
  EXPECT_FALSE(r.value_or(true));
  EXPECT_TRUE(sealkit::is_sealed(p, 0).value_or(true)) << "value_or gives the fallback on an error";
}

TEST(CxxResult, VoidResultSaysSuccessOrTheError) {
  Result<void> ok;
  EXPECT_TRUE(ok.has_value());
  EXPECT_TRUE(static_cast<bool>(ok));
  EXPECT_FALSE(ok.error());
  ok.value();  // no error: returns
  Result<void> failed(errno_code(EPERM));
  EXPECT_FALSE(failed.has_value());
  EXPECT_FALSE(static_cast<bool>(failed));
  EXPECT_EQ(failed.error(), std::errc::operation_not_permitted);
}

// std::expected throws on value() of an error; nothing here throws, so it
// aborts with a message saying what went wrong, in every build (no assert()).
TEST(CxxResultDeathTest, ValueOfAnErrorAbortsWithAMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Result<int> e(errno_code(ENOMEM));
  EXPECT_DEATH((void)e.value(), "value\\(\\) of a Result that holds an error \\(Cannot allocate memory\\)");
  Result<void> v(errno_code(EPERM));
  EXPECT_DEATH(v.value(), "value\\(\\) of a Result that holds an error \\(Operation not permitted\\)");
}

TEST(CxxResult, ErrnoCodeIsGenericCategory) {
  std::error_code ec = errno_code(EPERM);
  EXPECT_EQ(ec.value(), EPERM);
  EXPECT_EQ(&ec.category(), &std::generic_category());
  EXPECT_EQ(ec, std::errc::operation_not_permitted);
}

TEST(CxxSeal, SealsAndReportsErrorsAsErrorCodes) {
  std::byte* p = map_pages(2);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(sealkit::seal(p, page()).has_value());
  EXPECT_SEALED(p, page());
  EXPECT_EQ(sealkit::seal(p + 1, page()).error(), std::errc::invalid_argument);
  EXPECT_EQ(sealkit::seal(free_range(1), page()).error(), std::errc::not_enough_memory);
}

TEST(CxxIsSealed, ValueOrError) {
  std::byte* p = map_pages(2);
  ASSERT_NE(p, nullptr);
  ASSERT_TRUE(sealkit::seal(at(p, 1), page()).has_value());
  auto unsealed = sealkit::is_sealed(p, page());
  ASSERT_TRUE(unsealed.has_value());
  EXPECT_FALSE(unsealed.value());
  auto sealed = sealkit::is_sealed(at(p, 1), page());
  ASSERT_TRUE(sealed.has_value());
  EXPECT_TRUE(sealed.value());
  EXPECT_EQ(sealkit::is_sealed(p, 0).error(), std::errc::invalid_argument);
  EXPECT_EQ(sealkit::is_sealed(free_range(1), page()).error(), std::errc::not_enough_memory);
}

// ---- Mapping ----

TEST(CxxMapping, AnonymousIsReadWriteAndUnsealed) {
  auto m = Mapping::anonymous(3 * page());
  ASSERT_TRUE(m.has_value()) << m.error().message();
  ASSERT_NE(m->data(), nullptr);
  EXPECT_EQ(m->size(), 3 * page());
  EXPECT_FALSE(m->sealed());
  m->data()[3 * page() - 1] = std::byte{9};
  EXPECT_EQ(smaps_prot_at(m->data()), PROT_READ | PROT_WRITE);
  EXPECT_NOT_SEALED(m->data(), m->size());
}

TEST(CxxMapping, CreationErrorsComeBackAsErrorCodes) {
  auto zero = Mapping::anonymous(0);
  EXPECT_FALSE(zero.has_value());
  EXPECT_EQ(zero.error(), std::errc::invalid_argument);
  auto bad_fd = Mapping::file(-1, page(), PROT_READ, MAP_PRIVATE);
  EXPECT_FALSE(bad_fd.has_value());
  EXPECT_EQ(bad_fd.error(), std::errc::bad_file_descriptor);
}

TEST(CxxMapping, DestructorUnmapsAnUnsealedMapping) {
  void* addr = nullptr;
  {
    auto m = Mapping::anonymous(2 * page());
    ASSERT_TRUE(m.has_value());
    addr = m->data();
    ASSERT_TRUE(is_mapped(addr, 2 * page()));
  }
  EXPECT_FALSE(is_mapped(addr, page()));
  EXPECT_FALSE(is_mapped(static_cast<std::byte*>(addr) + page(), page()));
}

TEST(CxxMapping, DestructorLeavesASealedMapping) {
  void* addr = nullptr;
  {
    auto m = Mapping::anonymous(2 * page(), PROT_READ);
    ASSERT_TRUE(m.has_value());
    ASSERT_TRUE(m->seal().has_value());
    EXPECT_TRUE(m->sealed());
    addr = m->data();
  }
  EXPECT_TRUE(is_mapped(addr, 2 * page())) << "a sealed mapping lives until the process ends";
  EXPECT_SEALED(addr, 2 * page());
}

TEST(CxxMapping, MapWithProtSealIsSealedFromTheStart) {
  void* addr = nullptr;
  {
    auto m = Mapping::map(page(), PROT_READ | SEALKIT_PROT_SEAL, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_TRUE(m.has_value()) << m.error().message();
    EXPECT_TRUE(m->sealed());
    addr = m->data();
    EXPECT_SEALED(addr, page());
  }
  EXPECT_TRUE(is_mapped(addr, page()));
}

TEST(CxxMapping, MoveConstructionTransfersOwnership) {
  auto m = Mapping::anonymous(page());
  ASSERT_TRUE(m.has_value());
  std::byte* addr = m->data();
  Mapping a = std::move(m).value();
  EXPECT_EQ(a.data(), addr);
  EXPECT_EQ(a.size(), page());
  {
    Mapping b(std::move(a));
    EXPECT_EQ(b.data(), addr);
    EXPECT_EQ(a.data(), nullptr);  // NOLINT(bugprone-use-after-move): the moved-from state is specified
    EXPECT_EQ(a.size(), 0u);
    EXPECT_TRUE(is_mapped(addr, page()));
  }
  EXPECT_FALSE(is_mapped(addr, page())) << "the new owner unmapped it; the moved-from one did nothing";
}

TEST(CxxMapping, MoveAssignmentReleasesTheOldMapping) {
  auto first = Mapping::anonymous(page());
  ASSERT_TRUE(first.has_value());
  std::byte* old_addr = first->data();
  Mapping target = std::move(first).value();
  std::byte* new_addr = nullptr;
  {
    auto second = Mapping::anonymous(2 * page());
    ASSERT_TRUE(second.has_value());
    new_addr = second->data();
    target = std::move(*second);
    EXPECT_EQ(second->data(), nullptr) << "the source gives the mapping up";
    EXPECT_EQ(second->size(), 0u);
  }  // the moved-from source is destroyed here
  EXPECT_EQ(target.data(), new_addr);
  EXPECT_EQ(target.size(), 2 * page());
  EXPECT_FALSE(is_mapped(old_addr, page())) << "the mapping it held before was unmapped";
  EXPECT_TRUE(is_mapped(new_addr, 2 * page())) << "destroying the source did not unmap the target's memory";
}

TEST(CxxMapping, MoveAssignmentOverASealedMappingLeavesIt) {
  auto sealed = Mapping::anonymous(page(), PROT_READ);
  auto other = Mapping::anonymous(page());
  ASSERT_TRUE(sealed.has_value() && other.has_value());
  ASSERT_TRUE(sealed->seal().has_value());
  std::byte* sealed_addr = sealed->data();
  Mapping target = std::move(sealed).value();
  target = std::move(other).value();
  EXPECT_FALSE(target.sealed()) << "the sealed flag moves with the mapping";
  EXPECT_TRUE(is_mapped(sealed_addr, page()));
}

TEST(CxxMapping, SealedFlagMovesWithTheMapping) {
  auto m = Mapping::anonymous(page(), PROT_READ);
  ASSERT_TRUE(m.has_value());
  ASSERT_TRUE(m->seal().has_value());
  std::byte* addr = m->data();
  {
    Mapping moved = std::move(m).value();
    EXPECT_TRUE(moved.sealed());
  }
  EXPECT_TRUE(is_mapped(addr, page())) << "destroying the new owner must not try to unmap a sealed mapping";
}

TEST(CxxMapping, SelfMoveAssignmentKeepsTheMapping) {
  auto m = Mapping::anonymous(page());
  ASSERT_TRUE(m.has_value());
  Mapping a = std::move(m).value();
  std::byte* addr = a.data();
  Mapping& alias = a;
  a = std::move(alias);
  EXPECT_EQ(a.data(), addr);
  EXPECT_TRUE(is_mapped(addr, page()));
}

TEST(CxxMapping, ProtectChangesProtection) {
  auto m = Mapping::anonymous(2 * page());
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(m->protect(PROT_READ).has_value());
  EXPECT_EQ(smaps_prot_at(m->data()), PROT_READ);
  EXPECT_FALSE(m->sealed());
  EXPECT_NOT_SEALED(m->data(), m->size());
}

TEST(CxxMapping, ProtectWithProtSealSeals) {
  auto m = Mapping::anonymous(2 * page());
  ASSERT_TRUE(m.has_value());
  m->data()[0] = std::byte{3};
  EXPECT_TRUE(m->protect(PROT_READ | SEALKIT_PROT_SEAL).has_value());
  EXPECT_TRUE(m->sealed());
  EXPECT_EQ(smaps_prot_at(m->data()), PROT_READ);
  EXPECT_SEALED(m->data(), m->size());
  EXPECT_EQ(m->protect(PROT_READ | PROT_WRITE).error(), std::errc::operation_not_permitted);
  EXPECT_EQ(m->data()[0], std::byte{3});
}

// Puts the process back in upstream mode however the test ends.
struct UpstreamModeOnExit {
  ~UpstreamModeOnExit() { sealkit_set_mode(SEALKIT_MODE_UPSTREAM); }
};

TEST(CxxMapping, FailedSealLeavesItUnsealedAndOwned) {
  UpstreamModeOnExit restore;
  ASSERT_EQ(sealkit_set_mode(SEALKIT_MODE_V8), SEALKIT_MODE_UPSTREAM);
  void* addr = nullptr;
  {
    auto m = Mapping::anonymous(page());  // not SEALABLE: V8 refuses
    ASSERT_TRUE(m.has_value());
    addr = m->data();
    EXPECT_EQ(m->seal().error(), std::errc::permission_denied);
    EXPECT_FALSE(m->sealed());
    EXPECT_EQ(m->protect(PROT_READ | SEALKIT_PROT_SEAL).error(), std::errc::permission_denied);
    EXPECT_FALSE(m->sealed());
  }
  ASSERT_EQ(sealkit_set_mode(SEALKIT_MODE_UPSTREAM), SEALKIT_MODE_V8);
  EXPECT_FALSE(is_mapped(addr, page())) << "still owned, so unmapped";
}

TEST(CxxMapping, ReleaseHandsOverOwnership) {
  void* addr = nullptr;
  {
    auto m = Mapping::anonymous(page());
    ASSERT_TRUE(m.has_value());
    addr = m->release();
    EXPECT_EQ(m->data(), nullptr);
    EXPECT_EQ(m->size(), 0u);
  }
  EXPECT_TRUE(is_mapped(addr, page()));
  EXPECT_EQ(::munmap(addr, page()), 0);
}

TEST(CxxMapping, FileMapping) {
  int fd = ::memfd_create("sealkit-cxx", MFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "sealed config", 13), 13);
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(page())), 0);
  auto m = Mapping::file(fd, page(), PROT_READ | SEALKIT_PROT_SEAL, MAP_PRIVATE);
  ::close(fd);
  ASSERT_TRUE(m.has_value()) << m.error().message();
  EXPECT_TRUE(m->sealed());
  EXPECT_EQ(std::memcmp(m->data(), "sealed config", 13), 0);
  EXPECT_SEALED(m->data(), page());
}

TEST(CxxMapping, BytesIsASpanOverTheWholeMapping) {
  auto m = Mapping::anonymous(2 * page());
  ASSERT_TRUE(m.has_value()) << m.error().message();
  std::span<std::byte> b = m->bytes();
  EXPECT_EQ(b.data(), m->data());
  EXPECT_EQ(b.size(), 2 * page());
  b.back() = std::byte{7};
  EXPECT_EQ(m->data()[2 * page() - 1], std::byte{7});
  Mapping moved = std::move(*m);
  EXPECT_TRUE(m->bytes().empty()) << "a moved-from mapping views nothing";
  EXPECT_EQ(moved.bytes().size(), 2 * page());
}

}  // namespace
}  // namespace sealkit::test
