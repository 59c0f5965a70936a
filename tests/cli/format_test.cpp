// The CLI's number words: percentages that never round up to a whole
// coverage, and counted nouns.
#include <gtest/gtest.h>

#include <cstdint>

#include "cli/format.hpp"

namespace sealkit::cli {
namespace {

TEST(CliFormat, PercentIsRoundedDownSoOnlyAWholeIs100) {
  EXPECT_EQ(percent_of(1, 1), "100.0%");
  EXPECT_EQ(percent_of(9996, 10000), "99.9%") << "99.96% is not wholly sealed";
  EXPECT_EQ(percent_of(999999, 1000000), "99.9%");
  EXPECT_EQ(percent_of(779, 1000), "77.9%") << "no floating-point tenth lost";
  EXPECT_EQ(percent_of(0, 7), "0.0%");
  EXPECT_EQ(percent_of(1, 3), "33.3%");
  EXPECT_EQ(percent_of(2, 3), "66.6%");
  const std::uint64_t big = UINT64_MAX;
  EXPECT_EQ(percent_of(big, big), "100.0%") << "no overflow in part * 1000";
  EXPECT_EQ(percent_of(big - 1, big), "99.9%");
}

TEST(CliFormat, CountsSayOneOrMany) {
  EXPECT_EQ(count(1, "process", "processes"), "1 process");
  EXPECT_EQ(count(0, "process", "processes"), "0 processes");
  EXPECT_EQ(count(2, "cell"), "2 cells");
  EXPECT_EQ(count(1, "cell"), "1 cell");
}

}  // namespace
}  // namespace sealkit::cli
