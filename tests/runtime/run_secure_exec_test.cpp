// `sealkit run` and programs that start in secure execution (set-user-ID,
// set-group-ID, file capabilities): ld.so ignores LD_AUDIT and LD_PRELOAD
// there, so they run unsealed. sealkit says so on stderr, once per such exec:
// `sealkit run` for PROGRAM itself, the preload object's exec wrappers for
// what the tree starts. Checked against what really happens: the program the
// warning names is unsealed (its attacks succeed), the others are sealed.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/private_mounts.hpp"
#include "runtime/run_log.hpp"
#include "runtime/subprocess.hpp"

namespace {

namespace fs = std::filesystem;
using sealkit::test::Captured;
using sealkit::test::parse_report;
using sealkit::test::run_captured;

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

// A tmpfs of a private mount namespace (mounted without nosuid, whatever /tmp
// is) holding a setuid-root copy of the attack target and a plain copy.
class SealkitRunSecureExec : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (entered_) return;
    entered_ = true;
    if (!sealkit::test::enter_private_mounts({}, dir_, why_)) return;
    suid_ = dir_ + "/suid_target";
    plain_ = dir_ + "/plain_target";
    fs::copy_file(ATTACK_TARGET, suid_);
    fs::copy_file(ATTACK_TARGET, plain_);
    if (chown(suid_.c_str(), 0, 0) != 0 || chmod(suid_.c_str(), 04755) != 0 || chmod(dir_.c_str(), 0755) != 0) {
      why_ = "making the setuid copy failed";
      return;
    }
    ready_ = true;
  }
  void SetUp() override {
    if (!ready_) GTEST_SKIP() << why_;
  }

  static std::vector<std::string> as_nobody(std::vector<std::string> argv) {
    argv.insert(argv.begin(), {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
    return argv;
  }
  static std::string warning_for(const std::string& program) {
    return "sealkit: warning: " + program + " runs in secure execution (set-user-ID): ld.so ignores LD_AUDIT and "
           "LD_PRELOAD there, so sealkit run does not seal it or what it starts";
  }

  static inline bool entered_ = false, ready_ = false;
  static inline std::string why_, dir_, suid_, plain_;
};

}  // namespace

// A shell under `sealkit run` (execve) starts the setuid copy, then the plain one.
TEST_F(SealkitRunSecureExec, ASetuidChildIsNamedOnceAndReallyRunsUnsealed) {
  Captured o = run_captured(as_nobody({SEALKIT_BIN, "run", "--", "/bin/sh", "-c", suid_ + " && " + plain_}));
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(count(o.err, warning_for(suid_)), 1u) << o.err;
  EXPECT_EQ(count(o.err, "sealkit: warning:"), 1u) << "only the setuid program is named: " << o.err;
  // Two reports of eight lines: the setuid child's attacks succeed, the plain one's fail.
  const auto half = o.out.find("mprotect_program_text", 1);
  ASSERT_NE(half, std::string::npos) << o.out;
  EXPECT_EQ(parse_report(o.out.substr(0, half))["mprotect_program_text"], "ok") << o.out;
  EXPECT_EQ(parse_report(o.out.substr(half))["mprotect_program_text"], "EPERM") << o.out;
}

// execv (Python's os.execv) and execvp (Perl's exec of a bare name, found through PATH).
TEST_F(SealkitRunSecureExec, ExecvAndExecvpNameItToo) {
  Captured py = run_captured(as_nobody({SEALKIT_BIN, "run", "--", "/usr/bin/python3", "-c",
                                        "import os, sys; os.execv(sys.argv[1], [sys.argv[1]])", suid_}));
  EXPECT_EQ(py.status, 0) << py.err;
  EXPECT_EQ(count(py.err, warning_for(suid_)), 1u) << py.err;
  Captured pl = run_captured(as_nobody({SEALKIT_BIN, "run", "--", "/usr/bin/perl", "-e", "exec 'suid_target'"}),
                             {"PATH=" + dir_ + ":/usr/bin:/bin"});
  EXPECT_EQ(pl.status, 0) << pl.err;
  EXPECT_EQ(count(pl.err, warning_for(suid_)), 1u) << pl.err;
}

// PROGRAM itself: `sealkit run` says it before the exec.
TEST_F(SealkitRunSecureExec, ASetuidProgramItselfIsNamedBySealkitRun) {
  Captured o = run_captured(as_nobody({SEALKIT_BIN, "run", "--", suid_}));
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(count(o.err, warning_for(suid_)), 1u) << o.err;
  EXPECT_EQ(parse_report(o.out)["mprotect_program_text"], "ok") << o.out;
}

// Root starting a setuid-root program: no change of ids, no secure execution,
// so it is sealed like any other and nothing is said.
TEST_F(SealkitRunSecureExec, RootStartingASetuidRootProgramIsSealedAndNothingIsSaid) {
  Captured o = run_captured({SEALKIT_BIN, "run", "--", "/bin/sh", "-c", suid_});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(parse_report(o.out)["mprotect_program_text"], "EPERM") << o.out;
}
