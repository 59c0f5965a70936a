// madvise(2) on memory sealed through the library. The documented rule:
// EPERM only when the VMA is sealed, the advice discards pages, the VMA is
// private anonymous memory, and it is not writable. Every other combination
// behaves exactly as on unsealed memory.
//
// Each cell maps the same class of memory twice with the same contents, seals
// one, gives both the same advice and compares: result, errno and contents.
//
// kselftest cases among the cells: test_seal_madvise_nodiscard
// (PrivateAnonReadOnly_RANDOM), test_seal_discard_ro_anon
// (PrivateAnonReadOnly_DONTNEED), _on_rw (PrivateAnonReadWrite_DONTNEED),
// _on_shared (SharedAnonReadOnly_DONTNEED), _on_filebacked
// (PrivateFileReadOnly_DONTNEED); _on_pkey is in pkey_rules_test.cpp.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <tuple>

#include "backend/kernel_abi.hpp"
#include "lib/support.hpp"
#include "sealkit/sealkit.h"

namespace sealkit::test {
namespace {

constexpr unsigned char kFill = 0x77;
constexpr std::size_t kPages = 4;

struct Advice {
  const char* name;
  int advice;
  bool discards;        // in the kernel's list of destructive advice
  bool content_stable;  // reading afterwards is safe and deterministic
};

const Advice kAdvices[] = {
    {"DONTNEED", MADV_DONTNEED, true, true},
    {"DONTNEED_LOCKED", MADV_DONTNEED_LOCKED, true, true},
    {"FREE", MADV_FREE, true, false},  // lazy: pages may or may not be gone yet
    {"REMOVE", MADV_REMOVE, true, true},
    {"DONTFORK", MADV_DONTFORK, true, true},
    {"WIPEONFORK", MADV_WIPEONFORK, true, true},
    {"GUARD_INSTALL", MADV_GUARD_INSTALL, true, false},  // reading a guard page faults
    {"RANDOM", MADV_RANDOM, false, true},
    {"NORMAL", MADV_NORMAL, false, true},
    {"WILLNEED", MADV_WILLNEED, false, true},
    {"COLD", MADV_COLD, false, true},
    {"PAGEOUT", MADV_PAGEOUT, false, true},
    {"NOHUGEPAGE", MADV_NOHUGEPAGE, false, true},
    {"DOFORK", MADV_DOFORK, false, true},
};

enum class Kind { kPrivateAnonRO, kPrivateAnonNone, kPrivateAnonRW, kSharedAnonRO, kPrivateFileRO };

struct MemoryClass {
  const char* name;
  Kind kind;
  bool anon_private_not_writable;  // where the seal applies to discards
  bool readable;
};

const MemoryClass kClasses[] = {
    {"PrivateAnonReadOnly", Kind::kPrivateAnonRO, true, true},
    {"PrivateAnonProtNone", Kind::kPrivateAnonNone, true, false},
    {"PrivateAnonReadWrite", Kind::kPrivateAnonRW, false, true},
    {"SharedAnonReadOnly", Kind::kSharedAnonRO, false, true},
    {"PrivateFileReadOnly", Kind::kPrivateFileRO, false, true},
};

// kPages pages of the class, filled with kFill.
std::byte* make_memory(Kind kind) {
  const std::size_t len = kPages * page();
  void* p = MAP_FAILED;
  if (kind == Kind::kPrivateFileRO) {
    int fd = ::memfd_create("sealkit-madvise", MFD_CLOEXEC);
    if (fd < 0) return nullptr;
    std::string bytes(len, static_cast<char>(kFill));
    if (::write(fd, bytes.data(), len) == static_cast<ssize_t>(len))
      p = ::mmap(nullptr, len, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
  } else {
    int flags = (kind == Kind::kSharedAnonRO ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS;
    p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (p == MAP_FAILED) return nullptr;
    std::memset(p, kFill, len);
    int prot = kind == Kind::kPrivateAnonRW     ? PROT_READ | PROT_WRITE
               : kind == Kind::kPrivateAnonNone ? PROT_NONE
                                                : PROT_READ;
    if (::mprotect(p, len, prot) != 0) return nullptr;
  }
  return p == MAP_FAILED ? nullptr : static_cast<std::byte*>(p);
}

class MadviseRule : public ::testing::TestWithParam<std::tuple<Advice, MemoryClass>> {};

TEST_P(MadviseRule, SealBlocksOnlyDiscardsOfReadOnlyPrivateAnonymousMemory) {
  const Advice& a = std::get<0>(GetParam());
  const MemoryClass& c = std::get<1>(GetParam());
  const std::size_t len = kPages * page();
  std::byte* control = make_memory(c.kind);
  std::byte* sealed = make_memory(c.kind);
  ASSERT_NE(control, nullptr) << std::strerror(errno);
  ASSERT_NE(sealed, nullptr) << std::strerror(errno);
  ASSERT_EQ(sealkit_mseal(sealed, len, 0), 0) << std::strerror(errno);

  errno = 0;
  int control_ret = ::madvise(control, len, a.advice);
  int control_errno = errno;
  errno = 0;
  int sealed_ret = ::madvise(sealed, len, a.advice);
  int sealed_errno = errno;

  const bool blocked = a.discards && c.anon_private_not_writable;
  if (blocked) {
    EXPECT_EQ(sealed_ret, -1);
    EXPECT_EQ(sealed_errno, EPERM) << std::strerror(sealed_errno);
    EXPECT_FALSE(control_ret == -1 && control_errno == EPERM)
        << "the unsealed control must not fail for the same reason";
    if (c.readable) {
      EXPECT_EQ(static_cast<unsigned char>(sealed[page()]), kFill) << "nothing was discarded";
    }
  } else {
    EXPECT_EQ(sealed_ret, control_ret) << "sealed: " << std::strerror(sealed_errno)
                                       << ", unsealed: " << std::strerror(control_errno);
    if (sealed_ret == -1) {
      EXPECT_EQ(sealed_errno, control_errno);
    }
    if (c.readable && a.content_stable) {
      EXPECT_EQ(static_cast<unsigned char>(sealed[page()]), static_cast<unsigned char>(control[page()]))
          << "same advice, same effect";
    }
  }

  // Whatever madvise did, the seal itself still holds.
  errno = 0;
  EXPECT_EQ(::munmap(sealed, len), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(::munmap(control, len), 0);
}

INSTANTIATE_TEST_SUITE_P(, MadviseRule,
                         ::testing::Combine(::testing::ValuesIn(kAdvices), ::testing::ValuesIn(kClasses)),
                         [](const ::testing::TestParamInfo<std::tuple<Advice, MemoryClass>>& i) {
                           return std::string(std::get<1>(i.param).name) + "_" + std::get<0>(i.param).name;
                         });

// Linux 6.12+ checks madvise VMA by VMA: an unsealed VMA before the sealed
// one has already been discarded when EPERM comes back (observed on 6.18).
TEST(MadvisePerVma, UnsealedVmaBeforeASealedOneIsDiscarded) {
  std::byte* p = make_memory(Kind::kPrivateAnonRO);
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(sealkit_mseal(at(p, 2), 2 * page(), 0), 0);
  errno = 0;
  EXPECT_EQ(::madvise(p, kPages * page(), MADV_DONTNEED), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(static_cast<unsigned char>(p[0]), 0) << "the unsealed VMA was discarded before the sealed one was reached";
  EXPECT_EQ(static_cast<unsigned char>(*at(p, 2)), kFill) << "the sealed VMA kept its contents";
}

// A sealed VMA first: EPERM before anything is discarded.
TEST(MadvisePerVma, SealedVmaFirstStopsBeforeDiscardingAnything) {
  std::byte* p = make_memory(Kind::kPrivateAnonRO);
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(sealkit_mseal(p, 2 * page(), 0), 0);
  errno = 0;
  EXPECT_EQ(::madvise(p, kPages * page(), MADV_DONTNEED), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(static_cast<unsigned char>(*at(p, 3)), kFill);
}

}  // namespace
}  // namespace sealkit::test
