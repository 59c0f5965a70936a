// Every rule test runs twice: once on sealed memory, where the kernel must
// refuse, and once on the same layout unsealed, where the same call must
// succeed, so that a refusal cannot pass for a reason other than the seal.
#pragma once

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "sealkit/sealkit.h"

namespace sealkit::test {

class SealedOrNot : public ::testing::TestWithParam<bool> {
 protected:
  bool sealed() const { return GetParam(); }

  // Seals with the library when this run is the sealed one.
  void maybe_seal(void* addr, std::size_t len) {
    if (!sealed()) return;
    ASSERT_EQ(sealkit_mseal(addr, len, 0), 0) << std::strerror(errno);
  }

  // A call that returns -1/errno: EPERM when sealed, success otherwise.
  void expect_blocked_if_sealed(int ret, int err, const char* what) {
    if (sealed()) {
      EXPECT_EQ(ret, -1) << what;
      EXPECT_EQ(err, EPERM) << what;
    } else {
      EXPECT_EQ(ret, 0) << what << ": " << std::strerror(err);
    }
  }
};

inline std::string sealed_or_not_name(const ::testing::TestParamInfo<bool>& info) {
  return info.param ? "sealed" : "unsealed";
}

}  // namespace sealkit::test

#define SEALKIT_INSTANTIATE_SEALED_OR_NOT(suite) \
  INSTANTIATE_TEST_SUITE_P(, suite, ::testing::Bool(), ::sealkit::test::sealed_or_not_name)

// Runs `call` (an expression returning int), capturing errno right after it.
#define CALL_ERRNO(call, ret, err) \
  do {                             \
    errno = 0;                     \
    (ret) = (call);                \
    (err) = errno;                 \
  } while (0)
