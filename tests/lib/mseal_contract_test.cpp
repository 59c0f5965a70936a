// sealkit_mseal's contract, errno for errno, on fresh layouts of pages and
// holes. Each case states the documented result, and is also run against
// the raw mseal(2) system call on an identical layout: both must agree with
// the documentation and with each other, page by page.
//
// kselftest (tools/testing/selftests/mm/mseal_test.c) cases covered here:
// test_seal_addseal (WholeMapping), test_seal_unmapped_start/_middle/_end
// (HoleAtStart/HoleInMiddle/HoleAtEnd), test_seal_invalid_input (Flags*,
// UnalignedAddr, RunsPastTheMapping, LenHugeButNoWrap, StartsInAHole),
// test_seal_zero_length (LenZero), test_seal_twice (SealTwice).
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "backend/kernel_abi.hpp"
#include "lib/support.hpp"
#include "sealkit/sealkit.h"

namespace sealkit::test {
namespace {

// A row of pages: 'r' read-only, 'w' read-write, '.' a hole, 's' read-only
// and already sealed. One hole is kept on each side of the row.
class Layout {
 public:
  // Reserves the row, with one guard page on each side. Nothing is unmapped
  // yet: holes made now could be filled by the next layout's reservation.
  explicit Layout(const std::string& pages) : pages_(pages) {
    all_ = map_pages(pages.size() + 2, PROT_NONE);
    if (all_) base_ = at(all_, 1);
  }

  // Punches the holes (guards included) and sets each page up.
  void build() {
    const std::size_t n = pages_.size();
    if (!all_) return;
    ::munmap(all_, page());
    ::munmap(at(all_, n + 1), page());
    for (std::size_t i = 0; i < n; ++i) {
      std::byte* p = at(base_, i);
      int rc = 0;
      switch (pages_[i]) {
        case '.':
          rc = ::munmap(p, page());
          break;
        case 'w':
          rc = ::mprotect(p, page(), PROT_READ | PROT_WRITE);
          break;
        case 'r':
          rc = ::mprotect(p, page(), PROT_READ);
          break;
        case 's':
          rc = ::mprotect(p, page(), PROT_READ);
          if (rc == 0) rc = static_cast<int>(::syscall(__NR_mseal, p, page(), 0UL));
          break;
      }
      if (rc != 0) ADD_FAILURE() << "building layout " << pages_ << ": " << std::strerror(errno);
    }
  }
  std::byte* base() const { return base_; }

  // 'S' sealed, '-' mapped and not sealed, '.' hole, per page, from smaps.
  // Where the holes are now: '.' for a hole, '?' for a mapped page. Taken
  // right after the call, before anything allocates (reading smaps does, and
  // a new allocation may land in a hole).
  std::string holes() const {
    std::string out(pages_.size(), '?');  // short: no heap allocation
    for (std::size_t i = 0; i < pages_.size(); ++i) out[i] = is_mapped(at(base_, i), page()) ? '?' : '.';
    return out;
  }

  // 'S' sealed, '-' mapped and not sealed, '.' hole, per page: the holes as
  // taken by holes(), the seal states from one smaps snapshot.
  std::string seal_map(const std::string& holes, const std::vector<SmapsVma>& vmas) const {
    std::string out = holes;
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (out[i] == '.') continue;
      const auto a = reinterpret_cast<std::uintptr_t>(at(base_, i));
      out[i] = '.';
      for (const SmapsVma& v : vmas)
        if (v.start <= a && a < v.end) out[i] = v.sealed() ? 'S' : '-';
    }
    return out;
  }

 private:
  std::string pages_;
  std::byte* all_ = nullptr;
  std::byte* base_ = nullptr;
};

constexpr std::size_t kLastByte = SIZE_MAX;

struct ContractCase {
  const char* name;
  const char* layout;
  std::size_t page_offset;  // addr = layout page `page_offset`, plus byte_offset
  std::size_t byte_offset;  // kLastByte: the page's last byte
  // len from the address, so that wrap-around cases can be expressed.
  std::function<std::size_t(std::uintptr_t addr)> len;
  unsigned long flags;
  int expect_ret;
  int expect_errno;          // meaningful when expect_ret is -1
  const char* expect_after;  // the seal map after the call (Layout::seal_map)
};

void PrintTo(const ContractCase& c, std::ostream* os) { *os << c.name; }

std::function<std::size_t(std::uintptr_t)> pages_len(std::size_t n, std::ptrdiff_t extra_bytes = 0) {
  return
      [=](std::uintptr_t) { return static_cast<std::size_t>(static_cast<std::ptrdiff_t>(n * page()) + extra_bytes); };
}

const ContractCase kCases[] = {
    {"WholeMapping", "rrrr", 0, 0, pages_len(4), 0, 0, 0, "SSSS"},
    {"OnePage", "rrrr", 1, 0, pages_len(1), 0, 0, 0, "-S--"},
    {"ReadWriteMemory", "wwww", 0, 0, pages_len(4), 0, 0, 0, "SSSS"},
    {"SeveralVmas", "rwrw", 0, 0, pages_len(4), 0, 0, 0, "SSSS"},
    {"FlagsOne", "rrrr", 0, 0, pages_len(4), 1, -1, EINVAL, "----"},
    {"FlagsHighBit", "rrrr", 0, 0, pages_len(4), 0x20, -1, EINVAL, "----"},
    {"FlagsAllBits", "rrrr", 0, 0, pages_len(4), ~0UL, -1, EINVAL, "----"},
    {"UnalignedAddr", "rrrr", 0, 1, pages_len(2), 0, -1, EINVAL, "----"},
    {"UnalignedAddrLastByte", "rrrr", 1, kLastByte, pages_len(1), 0, -1, EINVAL, "----"},
    {"LenZero", "rrrr", 0, 0, pages_len(0), 0, 0, 0, "----"},
    {"LenZeroOnHole", "r.rr", 1, 0, pages_len(0), 0, 0, 0, "-.--"},
    {"LenZeroUnaligned", "rrrr", 0, 1, pages_len(0), 0, -1, EINVAL, "----"},
    {"LenZeroBadFlags", "rrrr", 0, 0, pages_len(0), 2, -1, EINVAL, "----"},
    {"LenOneByteSealsOnePage", "rrrr", 0, 0, pages_len(0, 1), 0, 0, 0, "S---"},
    {"LenPagePlusOneSealsTwoPages", "rrrr", 0, 0, pages_len(1, 1), 0, 0, 0, "SS--"},
    {"LenTwoPagesMinusOne", "rrrr", 0, 0, pages_len(2, -1), 0, 0, 0, "SS--"},
    {"HoleAtStart", "..rr", 0, 0, pages_len(4), 0, -1, ENOMEM, "..--"},
    {"HoleInMiddle", "r..r", 0, 0, pages_len(4), 0, -1, ENOMEM, "-..-"},
    {"HoleAtEnd", "rr..", 0, 0, pages_len(4), 0, -1, ENOMEM, "--.."},
    {"HoleOfOnePageInMiddle", "rw.wr", 0, 0, pages_len(5), 0, -1, ENOMEM, "--.--"},
    {"RunsPastTheMapping", "rrrr", 0, 0, pages_len(5), 0, -1, ENOMEM, "----"},
    {"StartsInAHole", ".rrrr", 0, 0, pages_len(5), 0, -1, ENOMEM, ".----"},
    {"HoleWithPresealedNeighbour", "s.rr", 0, 0, pages_len(4), 0, -1, ENOMEM, "S.--"},
    {"PartlySealedAlready", "rsrr", 0, 0, pages_len(4), 0, 0, 0, "SSSS"},
    {"SealTwice", "ssss", 0, 0, pages_len(4), 0, 0, 0, "SSSS"},
    {"LenSizeMaxWraps", "rrrr", 0, 0, [](std::uintptr_t) { return SIZE_MAX; }, 0, -1, EINVAL, "----"},
    {"LenWrapsOnlyAfterRounding", "rrrr", 0, 0, [](std::uintptr_t a) { return SIZE_MAX - a - 10; }, 0, -1, EINVAL,
     "----"},
    {"LenRoundingOverflows", "rrrr", 0, 0, [](std::uintptr_t) { return SIZE_MAX - 100; }, 0, -1, EINVAL, "----"},
    {"LenHugeButNoWrap", "rrrr", 0, 0, [](std::uintptr_t) { return SIZE_MAX / 4096; }, 0, -1, ENOMEM, "----"},
};

class MsealContract : public ::testing::TestWithParam<ContractCase> {};

TEST_P(MsealContract, LibraryMatchesDocumentationAndKernel) {
  const ContractCase& c = GetParam();
  Layout lib_layout(c.layout), raw_layout(c.layout);
  ASSERT_NE(lib_layout.base(), nullptr);
  ASSERT_NE(raw_layout.base(), nullptr);
  lib_layout.build();
  raw_layout.build();

  const std::size_t byte_offset = c.byte_offset == kLastByte ? page() - 1 : c.byte_offset;
  auto addr_in = [&](const Layout& l) { return at(l.base(), c.page_offset) + byte_offset; };
  std::byte* lib_addr = addr_in(lib_layout);
  std::byte* raw_addr = addr_in(raw_layout);

  constexpr int kUntouched = 4242;
  errno = kUntouched;
  int lib_ret = sealkit_mseal(lib_addr, c.len(reinterpret_cast<std::uintptr_t>(lib_addr)), c.flags);
  int lib_errno = errno;
  errno = 0;
  int raw_ret =
      static_cast<int>(::syscall(__NR_mseal, raw_addr, c.len(reinterpret_cast<std::uintptr_t>(raw_addr)), c.flags));
  int raw_errno = errno;
  // Everything observed before anything allocates (see Layout::holes).
  const std::string lib_holes = lib_layout.holes();
  const std::string raw_holes = raw_layout.holes();
  constexpr std::size_t kMaxPages = 8;
  std::array<int, kMaxPages> query{}, query_errno{};
  const std::size_t pages = std::strlen(c.layout);
  ASSERT_LE(pages, kMaxPages);
  for (std::size_t i = 0; i < pages; ++i) {
    errno = 0;
    query[i] = sealkit_is_sealed(at(lib_layout.base(), i), page());
    query_errno[i] = errno;
  }
  const std::vector<SmapsVma> vmas = read_smaps();

  EXPECT_EQ(lib_ret, c.expect_ret);
  if (c.expect_ret == -1) {
    EXPECT_EQ(lib_errno, c.expect_errno) << std::strerror(lib_errno);
  } else {
    EXPECT_EQ(lib_errno, kUntouched) << "errno must be left alone on success";
  }
  EXPECT_EQ(lib_layout.seal_map(lib_holes, vmas), c.expect_after);

  // The kernel itself, on the same layout: the documentation is right about it.
  EXPECT_EQ(raw_ret, c.expect_ret);
  if (c.expect_ret == -1) {
    EXPECT_EQ(raw_errno, c.expect_errno) << std::strerror(raw_errno);
  }
  EXPECT_EQ(raw_layout.seal_map(raw_holes, vmas), c.expect_after);

  // And the library's own query agrees with smaps, page by page.
  const std::string after = c.expect_after;
  for (std::size_t i = 0; i < pages; ++i) {
    if (after[i] == '.') {
      EXPECT_EQ(query[i], -1) << "page " << i;
      EXPECT_EQ(query_errno[i], ENOMEM) << "page " << i;
    } else {
      EXPECT_EQ(query[i], after[i] == 'S' ? 1 : 0) << "page " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(, MsealContract, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<ContractCase>& i) { return std::string(i.param.name); });

// A sealed range refuses mprotect afterwards: the seal is real, not only a flag
// in smaps.
TEST(MsealEffect, SealedPagesRefuseMprotectAndUnsealedOnesDoNot) {
  std::byte* p = map_pages(4);
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(sealkit_mseal(at(p, 1), 2 * page(), 0), 0);
  errno = 0;
  EXPECT_EQ(::mprotect(at(p, 1), 2 * page(), PROT_READ), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(::mprotect(p, page(), PROT_READ | PROT_WRITE), 0);
  EXPECT_EQ(::mprotect(at(p, 3), page(), PROT_READ | PROT_WRITE), 0);
}

// Nothing may be sealed when the call fails for a hole: the pages before the
// hole can still be changed and unmapped.
TEST(MsealEffect, FailureForAHoleLeavesEveryPageChangeable) {
  std::byte* p = map_pages(4);
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(::munmap(at(p, 3), page()), 0);
  errno = 0;
  ASSERT_EQ(sealkit_mseal(p, 4 * page(), 0), -1);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(::mprotect(p, 3 * page(), PROT_READ | PROT_WRITE), 0);
  EXPECT_EQ(::munmap(p, 3 * page()), 0);
}

// mmap'ed at address 0 (possible for root), sealed like any other address.
TEST(MsealEffect, MappingAtAddressZeroCanBeSealed) {
  EXPECT_CHILD_PASSES([](ChildReport& r) {
    const std::size_t len = 4 * page();
    void* p = ::mmap(nullptr, len, PROT_NONE, MAP_ANONYMOUS | MAP_PRIVATE | MAP_FIXED, -1, 0);
    if (p == MAP_FAILED) {
      r.skip(std::string("cannot map address 0 here (vm.mmap_min_addr, needs CAP_SYS_RAWIO): ") + std::strerror(errno));
      return;
    }
    CHILD_CHECK(r, p == nullptr);
    CHILD_CHECK_ERRNO(r, sealkit_mseal(nullptr, len, 0) == 0);
    errno = 0;
    CHILD_CHECK(r, ::mprotect(nullptr, len, PROT_READ) == -1 && errno == EPERM);
    auto v = smaps_vma_at(nullptr);
    CHILD_CHECK(r, v && v->start == 0 && v->end == len && v->sealed());
  });
}

}  // namespace
}  // namespace sealkit::test
