#include "core/range.hpp"

#include <gtest/gtest.h>

#include "core/page.hpp"

using sealkit::core::Range;
using sealkit::core::RangeSet;

TEST(RangeSet, InsertMergesAdjacentAndOverlapping) {
  RangeSet s;
  s.insert({0x1000, 0x2000});
  s.insert({0x3000, 0x4000});
  ASSERT_EQ(s.ranges().size(), 2u);
  s.insert({0x2000, 0x3000});  // bridges both
  ASSERT_EQ(s.ranges().size(), 1u);
  EXPECT_EQ(s.ranges()[0], (Range{0x1000, 0x4000}));
  s.insert({0x500, 0x1800});
  EXPECT_EQ(s.ranges()[0], (Range{0x500, 0x4000}));
}

TEST(RangeSet, EraseSplits) {
  RangeSet s;
  s.insert({0x1000, 0x5000});
  s.erase({0x2000, 0x3000});
  ASSERT_EQ(s.ranges().size(), 2u);
  EXPECT_EQ(s.ranges()[0], (Range{0x1000, 0x2000}));
  EXPECT_EQ(s.ranges()[1], (Range{0x3000, 0x5000}));
  EXPECT_TRUE(s.covers({0x3000, 0x5000}));
  EXPECT_FALSE(s.covers({0x1000, 0x3000}));
  EXPECT_TRUE(s.intersects({0x1fff, 0x2001}));
  EXPECT_FALSE(s.intersects({0x2000, 0x3000}));
}

TEST(PageArithmetic, SpanRoundsOutAndDetectsWrap) {
  auto s = sealkit::core::page_span(0x1001, 1, 0x1000);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->start, 0x1000u);
  EXPECT_EQ(s->end, 0x2000u);
  EXPECT_FALSE(sealkit::core::page_span(~std::uintptr_t{0} - 10, 100, 0x1000));
  EXPECT_FALSE(sealkit::core::page_span(~std::uintptr_t{0} - 0x800, 1, 0x1000));  // end rounds past the top
}
