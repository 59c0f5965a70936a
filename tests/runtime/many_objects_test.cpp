// Thousands of objects loaded later (a plugin host, a test runner): the
// wrappers' tables outgrow their room in .bss and every object is still
// sealed, under `sealkit run` and with the preload object alone (what
// /etc/ld.so.preload loads). Checked from outside, in smaps.
#include <stdlib.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/live_process.hpp"

namespace {

namespace fs = std::filesystem;

// More than the 4096 entries the tables hold in .bss.
constexpr int kObjects = 4400;

class ManyLaterObjects : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string tmpl = testing::TempDir() + "sealkit-many-objects-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) return;
    dir_ = tmpl;
    // Copies, not links: ld.so takes a second name of one file for the object it has.
    for (int k = 0; k < kObjects; ++k) fs::copy_file(DL_LIB, dir_ / ("lib" + std::to_string(k) + ".so"));
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  // Every VMA of the copies sealed, and every copy mapped.
  static void expect_all_sealed(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
    sealkit::test::Live l;
    std::string why;
    ASSERT_TRUE(sealkit::test::start_live(l, argv, env, why)) << why;
    std::set<std::string> mapped;
    std::size_t open = 0;
    std::string first_open;
    for (const sealkit::test::Vma& v : sealkit::test::smaps_of(l.pid)) {
      if (v.path.rfind(dir_.string() + "/", 0) != 0) continue;
      mapped.insert(v.path);
      if (!v.sealed && open++ == 0) first_open = v.range() + " " + v.perms + " " + v.path;
    }
    EXPECT_EQ(mapped.size(), static_cast<std::size_t>(kObjects));
    EXPECT_EQ(open, 0u) << "first unsealed: " << first_open;
  }

  static inline fs::path dir_;
};

}  // namespace

TEST_F(ManyLaterObjects, AreAllSealedUnderSealkitRun) {
  expect_all_sealed({SEALKIT_BIN, "run", "--", DLOPEN_TARGET, "many", std::to_string(kObjects), dir_.string(), "wait"},
                    {});
}

TEST_F(ManyLaterObjects, AreAllSealedByThePreloadObjectAlone) {
  expect_all_sealed({DLOPEN_TARGET, "many", std::to_string(kObjects), dir_.string(), "wait"},
                    {"LD_PRELOAD=" SEALKIT_PRELOAD});
}
