#include "core/seal_plan.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace sealkit::core;

namespace {

MapsEntry vma(std::uintptr_t b, std::uintptr_t e, std::uint64_t inode) {
  MapsEntry m;
  m.range = {b, e};
  m.inode = inode;
  m.dev_major = inode ? 8 : 0;
  return m;
}

std::vector<Range> plan(const std::vector<Range>& segs, const std::vector<Range>& mut,
                        const std::vector<MapsEntry>& maps) {
  std::vector<Range> out;
  plan_object_seal(segs.data(), segs.size(), mut.data(), mut.size(), maps, [&](Range r) { out.push_back(r); });
  return out;
}

}  // namespace

// ld.so's layout: text, a PROT_NONE reservation of the same file, data, bss.
TEST(SealPlan, LoaderReservedGapIsSealedWithTheObject) {
  std::vector<Range> segs{{0x10000, 0x12000}, {0x20000, 0x22000}};
  std::vector<MapsEntry> maps{vma(0x10000, 0x12000, 7), vma(0x12000, 0x20000, 7), vma(0x20000, 0x21000, 7),
                              vma(0x21000, 0x22000, 0)};
  EXPECT_EQ(plan(segs, {}, maps), (std::vector<Range>{{0x10000, 0x22000}}));
}

// The kernel's ELF loader leaves a hole; a foreign mapping placed in it later
// is not the object's.
TEST(SealPlan, ForeignMappingInAHoleIsNotSealed) {
  std::vector<Range> segs{{0x10000, 0x12000}, {0x20000, 0x22000}};
  std::vector<MapsEntry> maps{vma(0x10000, 0x12000, 7), vma(0x14000, 0x16000, 0), vma(0x18000, 0x19000, 9),
                              vma(0x20000, 0x22000, 7)};
  EXPECT_EQ(plan(segs, {}, maps), (std::vector<Range>{{0x10000, 0x12000}, {0x20000, 0x22000}}));
}

// The anonymous bss past the file is part of its segment; memory just past
// the segment is not.
TEST(SealPlan, BssIsSealedButNotWhatFollows) {
  std::vector<Range> segs{{0x10000, 0x13000}};
  std::vector<MapsEntry> maps{vma(0x10000, 0x11000, 7), vma(0x11000, 0x15000, 0)};
  EXPECT_EQ(plan(segs, {}, maps), (std::vector<Range>{{0x10000, 0x13000}}));
}

TEST(SealPlan, MutableRangesAreCutOut) {
  std::vector<Range> segs{{0x10000, 0x18000}};
  std::vector<MapsEntry> maps{vma(0x10000, 0x18000, 7)};
  EXPECT_EQ(plan(segs, {{0x11000, 0x12000}, {0x17000, 0x19000}}, maps),
            (std::vector<Range>{{0x10000, 0x11000}, {0x12000, 0x17000}}));
}

// Segments rounded out to pages may share a page; the plan stays one run.
TEST(SealPlan, OverlappingSegmentsGiveOneRun) {
  std::vector<Range> segs{{0x10000, 0x12000}, {0x11000, 0x13000}};
  std::vector<MapsEntry> maps{vma(0x10000, 0x11000, 7), vma(0x11000, 0x12000, 0), vma(0x12000, 0x13000, 0)};
  EXPECT_EQ(plan(segs, {}, maps), (std::vector<Range>{{0x10000, 0x13000}}));
}

TEST(SealPlan, UnmappedPagesAreNeverIncluded) {
  std::vector<Range> segs{{0x10000, 0x14000}};
  std::vector<MapsEntry> maps{vma(0x10000, 0x11000, 7), vma(0x13000, 0x14000, 7)};
  EXPECT_EQ(plan(segs, {}, maps), (std::vector<Range>{{0x10000, 0x11000}, {0x13000, 0x14000}}));
}
