// The selftest's "did the sealed memory change" check (MemorySnapshot), on
// real mappings: what a neighbour does beside a target must not count as a
// change of the target, and what replaces the target must.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "cli/selftest/snapshot.hpp"

namespace {

using sealkit::cli::selftest::MemorySnapshot;
using sealkit::cli::selftest::Note;
using sealkit::cli::selftest::Target;
using Change = MemorySnapshot::Change;

// A PROT_NONE reservation to place anonymous read-write pieces in at known
// addresses, counted in pages from base_: [0, 4) is left for the neighbour,
// [4, 8) is another mapping already merged with the target at [8, 12). The
// reservation starts 4 pages below base_ and stays PROT_NONE there, so that
// the neighbour can only merge upwards (a read-write VMA of the process just
// below would otherwise take it first; seen in CI).
class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    page_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    void* r = mmap(nullptr, kReserved * page_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(r, MAP_FAILED);
    reserved_ = static_cast<char*>(r);
    base_ = reserved_ + kGuard * page_;
    map_rw(4, 8);  // first, so that the target's VMA starts below the target
    map_rw(8, 4);
    target_.addr = reinterpret_cast<std::uintptr_t>(base_ + 8 * page_);
    target_.len = 4 * page_;
    target_.prot = PROT_READ | PROT_WRITE;
    for (std::size_t i = 0; i < target_.len; ++i) base_[8 * page_ + i] = static_cast<char>(i * 31 + 7);
  }
  void TearDown() override {
    if (reserved_) munmap(reserved_, kReserved * page_);
  }
  void map_rw(std::size_t first_page, std::size_t pages) {
    void* m = mmap(base_ + first_page * page_, pages * page_, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    ASSERT_EQ(m, base_ + first_page * page_);
  }
  // The start of the VMA holding `p`, from /proc/self/maps.
  static std::uintptr_t vma_start_of(const void* p) {
    FILE* f = std::fopen("/proc/self/maps", "r");
    if (!f) return 0;
    unsigned long lo = 0, hi = 0, found = 0;
    char line[512];
    const auto a = reinterpret_cast<unsigned long>(p);
    while (std::fgets(line, sizeof line, f))
      if (std::sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo <= a && a < hi) found = lo;
    std::fclose(f);
    return found;
  }

  static constexpr std::size_t kGuard = 4, kReserved = kGuard + 16;
  std::size_t page_ = 0;
  char* reserved_ = nullptr;
  char* base_ = nullptr;
  Target target_;
};

// The seccomp backend leaves a sealed VMA an ordinary one, so the kernel
// merges it with a new neighbour; the target's place inside the merged VMA
// moves by the neighbour's size. Seen as a flaky "refused, but the sealed
// memory changed anyway" in the ASan selftest of that backend.
TEST_F(SnapshotTest, ANeighbourMergedIntoTheTargetsVmaIsNoChange) {
  MemorySnapshot snapshot(target_.len);
  ASSERT_TRUE(snapshot.ready());
  Note why;
  ASSERT_TRUE(snapshot.record(target_, why)) << why.text;
  ASSERT_EQ(vma_start_of(base_ + 8 * page_), reinterpret_cast<std::uintptr_t>(base_ + 4 * page_))
      << "the kernel did not merge [4, 8) with the target: the setup does not test what it should";
  map_rw(0, 4);
  ASSERT_EQ(vma_start_of(base_ + 8 * page_), reinterpret_cast<std::uintptr_t>(base_))
      << "the kernel did not merge the neighbour into the target's VMA";
  EXPECT_EQ(snapshot.compare(target_), Change::kNone);
}

TEST_F(SnapshotTest, AFreshMappingOverTheTargetIsAChange) {
  MemorySnapshot snapshot(target_.len);
  Note why;
  ASSERT_TRUE(snapshot.record(target_, why)) << why.text;
  map_rw(8, 4);  // same protection, same (anonymous) backing, zero bytes
  EXPECT_EQ(snapshot.compare(target_), Change::kContent);
}

TEST_F(SnapshotTest, AnotherProtectionIsALayoutChange) {
  MemorySnapshot snapshot(target_.len);
  Note why;
  ASSERT_TRUE(snapshot.record(target_, why)) << why.text;
  ASSERT_EQ(mprotect(base_ + 9 * page_, page_, PROT_READ), 0);
  EXPECT_EQ(snapshot.compare(target_), Change::kLayout);
}

TEST_F(SnapshotTest, TheSameBytesMovedInFromElsewhereAreALayoutChangeForAFile) {
  // A file-backed target: its offset still counts (a mapping of another part
  // of the file is other memory even with equal bytes).
  FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  std::vector<char> bytes(8 * page_, 'x');
  ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
  std::fflush(f);
  void* m = mmap(base_ + 8 * page_, 4 * page_, PROT_READ, MAP_PRIVATE | MAP_FIXED, fileno(f), 0);
  ASSERT_EQ(m, base_ + 8 * page_);
  target_.prot = PROT_READ;
  MemorySnapshot snapshot(target_.len);
  Note why;
  ASSERT_TRUE(snapshot.record(target_, why)) << why.text;
  m = mmap(base_ + 8 * page_, 4 * page_, PROT_READ, MAP_PRIVATE | MAP_FIXED, fileno(f),
           static_cast<off_t>(4 * page_));
  ASSERT_EQ(m, base_ + 8 * page_);
  EXPECT_EQ(snapshot.compare(target_), Change::kLayout);
  std::fclose(f);
}

}  // namespace
