// sealkit_backend and sealkit_version.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <regex>
#include <string>

#include "backend/kernel_abi.hpp"
#include "sealkit/sealkit.h"

namespace {

// mseal(NULL, 0, 0) is a no-op that succeeds exactly where the system call
// exists: the test's own look, not the library's.
bool kernel_has_mseal() { return ::syscall(__NR_mseal, nullptr, 0UL, 0UL) == 0; }

TEST(Info, BackendIsKernelWhereMsealWorks) {
  ASSERT_NE(sealkit_backend(), nullptr);
  EXPECT_STREQ(sealkit_backend(), kernel_has_mseal() ? "kernel" : "none");
}

TEST(Info, BackendIsStable) {
  const char* first = sealkit_backend();
  EXPECT_STREQ(sealkit_backend(), first);
}

TEST(Info, VersionIsTheProjectVersion) {
  ASSERT_NE(sealkit_version(), nullptr);
  EXPECT_STREQ(sealkit_version(), SEALKIT_TEST_PROJECT_VERSION);
  EXPECT_TRUE(std::regex_match(sealkit_version(), std::regex(R"(\d+\.\d+\.\d+)"))) << sealkit_version();
}

}  // namespace
