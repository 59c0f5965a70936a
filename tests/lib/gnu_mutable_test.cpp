// One rule for the library and the runtime (core/object_layout.hpp): a range
// an object declares with PT_GNU_MUTABLE stays unsealed whether the program
// seals itself with sealkit_seal_loaded_objects() or runs under `sealkit
// run`, and the ordinary data next to it is sealed either way. The same
// binary before PT_GNU_MUTABLE was added shows that nothing else keeps it.
#include <map>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "runtime/subprocess.hpp"

namespace {

using sealkit::test::Captured;
using sealkit::test::run_captured;

std::map<std::string, std::string> report(const Captured& o) {
  EXPECT_EQ(o.status, 0) << o.err;
  std::map<std::string, std::string> m;
  std::istringstream in(o.out);
  std::string key, value;
  while (in >> key >> value) m[key] = value;
  return m;
}

TEST(GnuMutable, TheLibraryLeavesTheRangeUnsealed) {
  auto r = report(run_captured({GNU_MUTABLE_TARGET, "--seal"}));
  EXPECT_EQ(r["seal"], "ok");
  EXPECT_EQ(r["mutable_mprotect"], "ok") << "PT_GNU_MUTABLE pages stay unsealed";
  EXPECT_EQ(r["ordinary_mprotect"], "EPERM") << "the rest of the object is sealed";
}

TEST(GnuMutable, TheRuntimeLeavesTheSameRangeUnsealed) {
  auto r = report(run_captured({SEALKIT_BIN, "run", "--", GNU_MUTABLE_TARGET}));
  EXPECT_EQ(r["mutable_mprotect"], "ok");
  EXPECT_EQ(r["ordinary_mprotect"], "EPERM");
}

TEST(GnuMutable, WithoutTheSegmentTheLibrarySealsTheRange) {
  auto r = report(run_captured({GNU_MUTABLE_PLAIN, "--seal"}));
  EXPECT_EQ(r["seal"], "ok");
  EXPECT_EQ(r["mutable_mprotect"], "EPERM") << "only PT_GNU_MUTABLE keeps it: the section is not page-aligned";
  EXPECT_EQ(r["ordinary_mprotect"], "EPERM");
}

}  // namespace
