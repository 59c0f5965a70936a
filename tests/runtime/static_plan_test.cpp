// What `sealkit run` seals of a static program (src/cli/run/static_plan.hpp), on maps texts as the kernel writes
// them: every part of the executable with at most the protection its file asks for, RELRO at most read-only where
// the start-up protected it, nothing writable and executable, [vdso], [vvar] and [stack] too, the heap never.
#include <sys/mman.h>

#include <string>

#include <gtest/gtest.h>

#include "cli/run/static_plan.hpp"

namespace {

using sealkit::cli::run_static::plan_seal;
using sealkit::cli::run_static::SealPlan;
using sealkit::cli::run_static::StaticImage;
using sealkit::core::Range;

// A glibc -static layout: header page R, text R+X, rodata R, data R+W whose first page is RELRO, then bss.
StaticImage image() {
  StaticImage img;
  img.segments = {{0x400000, 0x401000}, {0x401000, 0x402000}, {0x402000, 0x403000}, {0x403000, 0x406000}};
  img.prot = {PROT_READ, PROT_READ | PROT_EXEC, PROT_READ, PROT_READ | PROT_WRITE};
  img.relro = {0x403000, 0x404000};
  img.glibc_start = true;
  return img;
}

std::string maps(const char* text_perms, const char* relro_perms) {
  return std::string("00400000-00401000 r--p 00000000 fe:00 42 /prog\n") + "00401000-00402000 " + text_perms +
         " 00001000 fe:00 42 /prog\n"
         "00402000-00403000 r--p 00002000 fe:00 42 /prog\n"
         "00403000-00404000 " + relro_perms + " 00003000 fe:00 42 /prog\n"
         "00404000-00405000 rw-p 00004000 fe:00 42 /prog\n"
         "00405000-00406000 rw-p 00000000 00:00 0 \n"
         "01000000-01021000 rw-p 00000000 00:00 0 [heap]\n"
         "7f0000000000-7f0000004000 r--p 00000000 00:00 0 [vvar]\n"
         "7f0000004000-7f0000006000 r-xp 00000000 00:00 0 [vdso]\n"
         "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]\n";
}

TEST(StaticPlan, TheWholeExecutableTheSystemMappingsAndTheStackInThreeRuns) {
  const SealPlan p = plan_seal(image(), true, maps("r-xp", "r--p"));
  ASSERT_EQ(p.runs.size(), 3u);
  EXPECT_EQ(p.runs[0], (Range{0x400000, 0x406000})) << "every segment, bss included; not the heap";
  EXPECT_EQ(p.runs[1], (Range{0x7f0000000000, 0x7f0000006000})) << "[vvar] and [vdso]";
  EXPECT_EQ(p.runs[2], (Range{0x7ffd00000000, 0x7ffd00021000})) << "[stack]";
  EXPECT_EQ(p.system_mappings, 2u);
  EXPECT_TRUE(p.stack);
  EXPECT_EQ(p.over_file, 0u);
  EXPECT_EQ(p.wx_refused, 0u);
}

TEST(StaticPlan, RelroStillWritableAfterTheStartUpProtectedItIsLeftUnsealed) {
  const SealPlan p = plan_seal(image(), true, maps("r-xp", "rw-p"));
  EXPECT_EQ(p.over_file, 1u);
  ASSERT_GE(p.runs.size(), 2u);
  EXPECT_EQ(p.runs[0], (Range{0x400000, 0x403000}));
  EXPECT_EQ(p.runs[1], (Range{0x404000, 0x406000}));
}

TEST(StaticPlan, RelroAStartUpLeavesWritableIsSealedAsItsSegmentAsks) {
  // musl's static start-up never makes RELRO read-only.
  const SealPlan p = plan_seal(image(), false, maps("r-xp", "rw-p"));
  EXPECT_EQ(p.over_file, 0u);
  EXPECT_EQ(p.runs[0], (Range{0x400000, 0x406000}));
}

TEST(StaticPlan, TextMadeWritableIsNeverSealed) {
  const SealPlan p = plan_seal(image(), true, maps("rwxp", "r--p"));
  EXPECT_EQ(p.wx_refused, 1u);
  EXPECT_EQ(p.runs[0], (Range{0x400000, 0x401000}));
  EXPECT_EQ(p.runs[1], (Range{0x402000, 0x406000}));
  const SealPlan q = plan_seal(image(), true, maps("rw-p", "r--p"));
  EXPECT_EQ(q.over_file, 1u) << "writable text: more than the file asks";
}

TEST(StaticPlan, MutableRangesAreLeftOut) {
  StaticImage img = image();
  img.keep_mutable = {{0x404000, 0x405000}};
  const SealPlan p = plan_seal(img, true, maps("r-xp", "r--p"));
  EXPECT_EQ(p.runs[0], (Range{0x400000, 0x404000}));
  EXPECT_EQ(p.runs[1], (Range{0x405000, 0x406000}));
}

}  // namespace
