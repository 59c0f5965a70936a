// The rule of core/mutable_sections.hpp: which sections stay unsealed, and
// how far a section table read from a file is trusted.
#include "core/mutable_sections.hpp"

#include <gtest/gtest.h>

namespace {

using sealkit::core::clip_to_writable_data;
using sealkit::core::is_mutable_section;
using sealkit::core::kShfAlloc;
using sealkit::core::kShfTls;
using sealkit::core::kShfWrite;
using sealkit::core::mutable_pages;
using sealkit::core::Range;
using sealkit::core::SectionShape;

constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kData = kShfAlloc | kShfWrite;

TEST(MutableSections, APageAlignedWritableSectionIsKeptWhateverItsName) {
  EXPECT_TRUE(is_mutable_section({kData, 0x11b0f000, 4110, 4096}, kPage));   // protected_memory
  EXPECT_TRUE(is_mutable_section({kData, 0x11a18000, 0xb7720, 4096}, kPage));  // .data holding V8's flags
  EXPECT_TRUE(is_mutable_section({kData, 0x200000, 16, 0x10000}, kPage));      // more than a page
}

TEST(MutableSections, OtherSectionsAreSealed) {
  EXPECT_FALSE(is_mutable_section({kData, 0x11a18000, 0x100, 64}, kPage)) << "ordinary alignment";
  EXPECT_FALSE(is_mutable_section({kShfAlloc, 0x1000, 0x100, 4096}, kPage)) << "read-only";
  EXPECT_FALSE(is_mutable_section({kShfWrite, 0x1000, 0x100, 4096}, kPage)) << "not loaded";
  EXPECT_FALSE(is_mutable_section({kData | kShfTls, 0x1000, 0x100, 4096}, kPage)) << "a TLS image";
  EXPECT_FALSE(is_mutable_section({kData, 0x1000, 0, 4096}, kPage)) << "empty";
  EXPECT_FALSE(is_mutable_section({kData, 0x1800, 0x100, 4096}, kPage)) << "claims page alignment, is not aligned";
}

TEST(MutableSections, PagesAreRoundedOutAndMovedByTheBias) {
  const Range r = mutable_pages({kData, 0x11b0f000, 4110, 4096}, 0x7f0000000000, kPage);
  EXPECT_EQ(r.begin, 0x7f0011b0f000u);
  EXPECT_EQ(r.end, 0x7f0011b11000u);
  EXPECT_TRUE(mutable_pages({kData, ~std::uint64_t{0} - 4095, 8192, 4096}, 0, kPage).empty()) << "wraps";
}

TEST(MutableSections, OnlyWritableDataOutsideRelroIsTrusted) {
  // text r-x, rodata r--, data rw- with RELRO over its first two pages.
  const Range segs[] = {{0x0, 0x3000}, {0x3000, 0x5000}, {0x5000, 0xa000}};
  const bool writable[] = {false, false, true};
  auto w = [&](std::size_t i) { return writable[i]; };
  const Range relro{0x5000, 0x7000};
  auto clip = [&](Range r) { return clip_to_writable_data(r, segs, 3, w, relro); };

  EXPECT_TRUE(clip({0x1000, 0x2000}).empty()) << "a forged section over text";
  EXPECT_TRUE(clip({0x3000, 0x4000}).empty()) << "over read-only data";
  EXPECT_TRUE(clip({0x5000, 0x7000}).empty()) << "over RELRO";
  const Range after = clip({0x6000, 0x9000});
  EXPECT_EQ(after.begin, 0x7000u) << "the part in RELRO is cut";
  EXPECT_EQ(after.end, 0x9000u);
  const Range past = clip({0x8000, 0xc000});
  EXPECT_EQ(past.begin, 0x8000u);
  EXPECT_EQ(past.end, 0xa000u) << "cut at the segment's end";
  EXPECT_TRUE(clip({0xb000, 0xc000}).empty()) << "outside every segment";
  const Range starts_before{0x4000, 0x8000};
  EXPECT_TRUE(clip(starts_before).empty()) << "starts in a read-only segment";
}

}  // namespace
