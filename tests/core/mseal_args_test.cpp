// core/mseal_args.hpp against the kernel's own mseal(2): every argument the
// check refuses, the kernel refuses with the same error, and every range it
// accepts is the one the kernel then looks at (unmapped here: ENOMEM).
#include "core/mseal_args.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace {

using sealkit::core::check_mseal_args;

constexpr std::uintptr_t kPage = 4096;
constexpr std::uintptr_t kMax = ~std::uintptr_t{0};

static_assert(check_mseal_args<std::uintptr_t>(0, 0, 1, kPage).error == EINVAL);
static_assert(check_mseal_args<std::uintptr_t>(kPage + 1, kPage, 0, kPage).error == EINVAL);
static_assert(check_mseal_args<std::uintptr_t>(kPage, kMax, 0, kPage).error == EINVAL);  // the rounding wraps
static_assert(check_mseal_args<std::uintptr_t>(kMax - kPage + 1, kPage, 0, kPage).error == EINVAL);  // the end wraps
static_assert(check_mseal_args<std::uintptr_t>(kPage, 1, 0, kPage).end == 2 * kPage);
static_assert(check_mseal_args<std::uintptr_t>(kPage, 0, 0, kPage).empty());
static_assert(check_mseal_args<std::uint64_t>(0, ~std::uint64_t{0} - 100, 0, 4096).error == EINVAL);

// mseal's errno, or 0.
int kernel_mseal(std::uintptr_t addr, std::uintptr_t len, unsigned long flags) {
  return syscall(462, addr, len, flags) == 0 ? 0 : errno;
}

TEST(MsealArgs, AgreesWithTheKernel) {
  if (kernel_mseal(0, 0, 0) == ENOSYS) GTEST_SKIP() << "this kernel has no mseal(2) to compare with";
  // Four pages nobody maps: a range the check accepts is then ENOMEM.
  void* m = mmap(nullptr, 4 * kPage, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(m, MAP_FAILED);
  const auto hole = reinterpret_cast<std::uintptr_t>(m);
  ASSERT_EQ(munmap(m, 4 * kPage), 0);
  struct Case {
    std::uintptr_t addr, len;
    unsigned long flags;
  };
  const Case cases[] = {
      {hole, kPage, 1},                     // flags
      {hole, kPage, ~0ul},                  // flags
      {hole + 1, kPage, 0},                 // unaligned start
      {hole + kPage / 2, 0, 0},             // unaligned, empty
      {hole, kMax, 0},                      // the rounding wraps
      {hole, kMax - kPage + 2, 0},          // the rounding wraps
      {kMax - kPage + 1, kPage, 0},         // the end wraps
      {kMax - 2 * kPage + 1, 3 * kPage, 0}, // the end wraps
      {hole, 0, 0},                         // empty
      {0, 0, 0},                            // empty
      {hole, 1, 0},                         // one page, unmapped
      {hole, 3 * kPage + 1, 0},             // four pages, unmapped
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << std::hex << "addr 0x" << c.addr << " len 0x" << c.len << " flags 0x"
                                    << c.flags);
    const auto args = check_mseal_args<std::uintptr_t>(c.addr, c.len, c.flags, kPage);
    const int kernel = kernel_mseal(c.addr, c.len, c.flags);
    if (args.error != 0) {
      EXPECT_EQ(kernel, args.error);
    } else if (args.empty()) {
      EXPECT_EQ(kernel, 0);
    } else {
      EXPECT_EQ(kernel, ENOMEM);
      EXPECT_EQ(args.start, c.addr);
      EXPECT_EQ(args.end, c.addr + (c.len + kPage - 1) / kPage * kPage);
    }
  }
}

}  // namespace
