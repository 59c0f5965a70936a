// sealkit_backend and sealkit_version.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <cstdio>
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
  // MAJOR.MINOR.PATCH: three numbers and nothing else. (Not <regex>: GCC 12
  // warns maybe-uninitialized inside it with -O2 and the sanitizers.)
  unsigned major = 0, minor = 0, patch = 0;
  int consumed = 0;
  const std::string v = sealkit_version();
  EXPECT_EQ(std::sscanf(v.c_str(), "%u.%u.%u%n", &major, &minor, &patch, &consumed), 3) << v;
  EXPECT_EQ(static_cast<std::size_t>(consumed), v.size()) << v;
}

}  // namespace
