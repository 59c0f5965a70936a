// Programs run by an emulator that has no mseal: valgrind (which also prints a
// warning on the program's stderr for every system call it does not know, -q
// or not) and qemu-user (which answers ENOSYS). The runtime must add no noise
// there and probe nothing: no error of valgrind's, no warning, the program's
// own output and exit status, and a log line that says nothing was sealed and
// why (first_errno 38, no mseal call). Both deployments: the preload object
// alone (what /etc/ld.so.preload loads) and `sealkit run`.
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/run_log.hpp"
#include "runtime/subprocess.hpp"

namespace {

using sealkit::test::Captured;
using sealkit::test::run_captured;
using sealkit::test::TempLog;

constexpr const char* kValgrind = "/usr/bin/valgrind";
constexpr const char* kQemu = "/usr/bin/qemu-x86_64";

// The log line of `exe`: the emulated program's (the emulator's own process
// runs natively and is sealed like any other).
nlohmann::json line_of(const TempLog& log, const std::string& exe) {
  for (const auto& j : log.lines())
    if (j.at("exe") == exe) return j;
  return {};
}

void expect_unsealed_and_said_why(const nlohmann::json& j) {
  ASSERT_FALSE(j.is_null()) << "no log line for the emulated program";
  EXPECT_EQ(j.at("objects_sealed"), 0) << j;
  EXPECT_EQ(j.at("first_errno"), 38) << "ENOSYS: " << j;
  EXPECT_EQ(j.at("mseal_calls"), 0) << j;
  EXPECT_EQ(j.at("stack_sealed"), false) << j;
}

// The program: dlopens a library (the wrappers' path too) and prints what it got.
std::vector<std::string> program() { return {DLOPEN_TARGET, "error", "lib", DL_LIB}; }

std::vector<std::string> under(std::vector<std::string> before, const std::vector<std::string>& argv) {
  before.insert(before.end(), argv.begin(), argv.end());
  return before;
}

}  // namespace

TEST(Emulated, ValgrindWithThePreloadObjectAloneSeesNoErrorAndNoWarning) {
  if (access(kValgrind, X_OK) != 0) GTEST_SKIP() << kValgrind << " is not installed (scripts/bootstrap installs it)";
  TempLog log;
  Captured o = run_captured(under({kValgrind, "-q", "--error-exitcode=9"}, program()),
                            {"LD_PRELOAD=" SEALKIT_PRELOAD, "SEALKIT_LOG=" + log.path});
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.err, "") << "valgrind reported something the runtime did";
  EXPECT_EQ(o.out, "lib opened\n");
  expect_unsealed_and_said_why(line_of(log, DLOPEN_TARGET));
}

// --run-libc-freeres=no: under valgrind, glibc's exit-time freeing of ld.so's
// audit state is reported as an invalid free for any LD_AUDIT module, an empty
// one too (docs/runtime.md, "Limits today"); that is not the runtime's doing.
TEST(Emulated, ValgrindUnderSealkitRunSeesNoErrorAndNoWarning) {
  if (access(kValgrind, X_OK) != 0) GTEST_SKIP() << kValgrind << " is not installed (scripts/bootstrap installs it)";
  TempLog log;
  Captured o = run_captured(
      under({SEALKIT_BIN, "run", "--log", log.path, "--", kValgrind, "-q", "--error-exitcode=9", "--run-libc-freeres=no"},
            program()));
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(o.out, "lib opened\n");
  expect_unsealed_and_said_why(line_of(log, DLOPEN_TARGET));
}

// qemu-user's -strace lists the emulated program's system calls: one mseal
// question per injected object, and no probe (msync) of the stack.
TEST(Emulated, QemuUserProgramIsQuietlyUnsealedWithoutProbes) {
  if (access(kQemu, X_OK) != 0) GTEST_SKIP() << kQemu << " is not installed (scripts/bootstrap installs qemu-user)";
  TempLog log;
  Captured o = run_captured(under({SEALKIT_BIN, "run", "--log", log.path, "--", kQemu, "-strace"}, program()));
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out, "lib opened\n");
  EXPECT_EQ(o.err.find("msync"), std::string::npos) << "the runtime probed the stack: " << o.err;
  expect_unsealed_and_said_why(line_of(log, DLOPEN_TARGET));
  Captured quiet = run_captured(under({SEALKIT_BIN, "run", "--", kQemu}, program()));
  EXPECT_EQ(quiet.status, 0);
  EXPECT_EQ(quiet.err, "");
}
