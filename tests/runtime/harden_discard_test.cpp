// harden-discard (docs/runtime.md, "Discard advice on sealed file mappings"):
// mseal lets MADV_DONTNEED drop the relocated copy-on-write pages of a sealed
// RELRO, which then reads back from the file, unrelocated; with the layer on,
// one seccomp filter refuses that advice (EPERM) on every sealed object's
// RELRO and the relocated pointers stay. Real programs under `sealkit run` and
// with the preload object alone, in a private mount namespace whose /etc holds
// this test's /etc/sealkit/runtime.conf (root only; the host's /etc is never
// touched).
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/private_mounts.hpp"
#include "runtime/subprocess.hpp"

namespace {

namespace fs = std::filesystem;
using sealkit::test::Captured;
using sealkit::test::run_captured;

constexpr const char* kSystemFile = "/etc/sealkit/runtime.conf";

std::map<std::string, std::string> report(const std::string& out) {
  std::map<std::string, std::string> m;
  std::istringstream in(out);
  std::string key, value;
  while (in >> key >> value) m[key] = value;
  return m;
}

class HardenDiscard : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string why;
    if (!sealkit::test::enter_private_mounts({"/etc"}, scratch_, why)) {
      why_ = why;
      return;
    }
    ready_ = true;
  }
  void SetUp() override {
    if (!ready_) GTEST_SKIP() << why_;
    std::error_code ec;
    fs::remove_all("/etc/sealkit", ec);
    fs::remove("/etc/ld.so.preload", ec);  // this namespace's copy: no machine-wide preload here
    log_ = scratch_ + "/log-" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove(log_, ec);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all("/etc/sealkit", ec);
  }
  static void write(const std::string& path, const std::string& text) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path) << text;
    chmod(path.c_str(), 0644);
  }
  // `sealkit run [options] -- DISCARD_TARGET`, logging to log_.
  Captured run(const std::vector<std::string>& options, const std::vector<std::string>& env = {}) {
    std::vector<std::string> argv = {SEALKIT_BIN, "run", "--log", log_};
    argv.insert(argv.end(), options.begin(), options.end());
    argv.insert(argv.end(), {"--", DISCARD_TARGET});
    return run_captured(argv, env);
  }
  // The start-up line the runtime wrote for the target.
  nlohmann::json line() {
    std::ifstream in(log_);
    std::string l, last;
    while (std::getline(in, l)) last = l;
    return last.empty() ? nlohmann::json() : nlohmann::json::parse(last);
  }

  static void expect_refused(const Captured& o) {
    ASSERT_EQ(o.status, 0) << o.err;
    auto r = report(o.out);
    EXPECT_EQ(r["relro_sealed"], "yes") << o.out;
    EXPECT_EQ(r["madvise"], "EPERM") << o.out;
    EXPECT_EQ(r["process_madvise"], "EPERM") << o.out;
    EXPECT_EQ(r["relro_intact"], "yes") << o.out;
    EXPECT_EQ(r["anon_dontneed"], "ok") << "anonymous memory is not guarded: " << o.out;
  }
  static void expect_reverted(const Captured& o) {
    ASSERT_EQ(o.status, 0) << o.err;
    auto r = report(o.out);
    EXPECT_EQ(r["relro_sealed"], "yes") << o.out;
    EXPECT_EQ(r["madvise"], "ok") << "mseal lets discard advice through on a sealed private file mapping: " << o.out;
    EXPECT_EQ(r["relro_intact"], "no") << "the sealed RELRO read back from the file: " << o.out;
  }

  static inline bool ready_ = false;
  static inline std::string why_, scratch_;
  std::string log_;
};

// The gap itself: sealed, and still reverted to the file's bytes.
TEST_F(HardenDiscard, WithoutItMadviseRevertsTheSealedRelro) {
  Captured o = run({});
  expect_reverted(o);
  EXPECT_FALSE(line().contains("harden_discard")) << line().dump();
}

TEST_F(HardenDiscard, TheSystemFileSwitchesItOn) {
  write(kSystemFile, "harden-discard = on\n");
  Captured o = run({});
  expect_refused(o);
  EXPECT_EQ(o.err, "");
  nlohmann::json j = line();
  EXPECT_EQ(j["backend"], "kernel") << j.dump();
  EXPECT_EQ(j["harden_discard"], true) << j.dump();
  EXPECT_EQ(j["harden_installed"], true) << j.dump();
  EXPECT_EQ(j["harden_errno"], 0) << j.dump();
  // The program, ld.so, libc, the runtime and the preload object: one RELRO each.
  EXPECT_GE(j["harden_ranges"].get<int>(), 4) << j.dump();
  EXPECT_GT(j["harden_kernel_length"].get<int>(), 0) << j.dump();
}

TEST_F(HardenDiscard, TheRunPolicySwitchesItOn) {
  expect_refused(run({"--policy", "harden-discard=on"}));
  EXPECT_EQ(line()["harden_installed"], true);
}

TEST_F(HardenDiscard, TheRunPolicyRefusesAnyOtherValue) {
  Captured o = run({"--policy", "harden-discard=yes"});
  EXPECT_EQ(o.status, 2);
  EXPECT_NE(o.err.find("expected harden-discard=on or harden-discard=off"), std::string::npos) << o.err;
}

// The environment and a user's file may only seal more than the administrator's file.
TEST_F(HardenDiscard, NeitherTheEnvironmentNorAUserFileSwitchOffTheAdministratorsOn) {
  write(kSystemFile, "harden-discard = on\n");
  Captured o = run({"--policy", "harden-discard=off"});
  expect_refused(o);
  EXPECT_NE(o.err.find("SEALKIT_HARDEN_DISCARD=off would seal less than the administrator's harden-discard = on"),
            std::string::npos)
      << o.err;
  const std::string user = scratch_ + "/user.conf";
  write(user, "harden-discard = off\n");
  o = run({"--config", user});
  expect_refused(o);
  EXPECT_NE(o.err.find(user + ":1: harden-discard = off would seal less than the administrator's"),
            std::string::npos)
      << o.err;
}

// Where nobody decided, a user's file may switch it on (and the environment off again).
TEST_F(HardenDiscard, AUserFileSwitchesItOnWhereNoAdministratorDecided) {
  const std::string user = scratch_ + "/user.conf";
  write(user, "harden-discard = on\n");
  expect_refused(run({"--config", user}));
  Captured o = run({"--config", user, "--policy", "harden-discard=off"});
  expect_reverted(o);
  EXPECT_EQ(o.err, "");
}

TEST_F(HardenDiscard, ABadValueIsOneWarningAndTheDefault) {
  write(kSystemFile, "harden-discard = yes\n");
  Captured o = run({});
  expect_reverted(o);
  EXPECT_NE(o.err.find("/etc/sealkit/runtime.conf:1: harden-discard must be on or off; line ignored"),
            std::string::npos)
      << o.err;
  o = run({}, {"SEALKIT_HARDEN_DISCARD=maybe"});
  EXPECT_NE(o.err.find("SEALKIT_HARDEN_DISCARD must be on or off; using off"), std::string::npos) << o.err;
}

// Machine-wide the preload object does the start-up pass, with the same layer.
TEST_F(HardenDiscard, ThePreloadObjectAloneHardensToo) {
  write(kSystemFile, "harden-discard = on\n");
  Captured o = run_captured({DISCARD_TARGET}, {std::string("LD_PRELOAD=") + PRELOAD_OBJECT, "SEALKIT_LOG=" + log_});
  expect_refused(o);
  EXPECT_EQ(line()["injected_as"], "preload") << line().dump();
  EXPECT_EQ(line()["harden_installed"], true) << line().dump();
}

// The filter is installed only where no_new_privs need not change: a user's
// process without it runs unhardened and says why (EACCES); one with it set
// already (a service with NoNewPrivileges=) is hardened.
TEST_F(HardenDiscard, WithoutCapSysAdminOnlyUnderNoNewPrivs) {
  write(kSystemFile, "harden-discard = on\n");
  const std::vector<std::string> nobody = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
  // nobody's log, in a directory of its own (the runtime writes only where no other user can swap the file).
  const std::string dir = scratch_ + "/nobody";
  fs::create_directories(dir);
  ASSERT_EQ(chown(dir.c_str(), 65534, 65534), 0);
  log_ = dir + "/log";
  std::error_code ec;
  fs::remove(log_, ec);
  auto as_nobody = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = nobody;
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.insert(argv.end(), {DISCARD_TARGET});
    return run_captured(argv, {std::string("LD_PRELOAD=") + PRELOAD_OBJECT, "SEALKIT_LOG=" + log_});
  };
  Captured o = as_nobody({});
  expect_reverted(o);
  EXPECT_EQ(line()["harden_installed"], false) << line().dump();
  EXPECT_EQ(line()["harden_errno"], 13) << line().dump();
  o = as_nobody({"--no-new-privs"});
  expect_refused(o);
  EXPECT_EQ(line()["harden_installed"], true) << line().dump();
}

// A filter outlives execve: the next image runs under it, and hardens itself
// again with a filter of its own.
TEST_F(HardenDiscard, ExecRunsTheNextImageUnderBothFilters) {
  Captured o = run_captured({SEALKIT_BIN, "run", "--log", log_, "--policy", "harden-discard=on", "--", "/bin/sh",
                             "-c", std::string("exec ") + DISCARD_TARGET});
  expect_refused(o);
  std::ifstream in(log_);
  std::string l;
  int lines = 0;
  while (std::getline(in, l)) {
    ++lines;
    EXPECT_EQ(nlohmann::json::parse(l)["harden_installed"], true) << l;
  }
  EXPECT_EQ(lines, 2) << "the shell and the target";
}

// What the filter does to the next image: its refusals stay on the old
// RELRO addresses, whatever the new image maps there (here anonymous memory,
// the memory glibc's malloc and thread stacks discard). Only discard advice
// there: docs/runtime.md, "Across execve", says what was measured.
TEST_F(HardenDiscard, AfterExecDiscardAdviceOnTheOldRelroAddressesIsRefused) {
  Captured o = run_captured({SEALKIT_BIN, "run", "--policy", "harden-discard=on", "--", DISCARD_TARGET, "--exec-stale"});
  ASSERT_EQ(o.status, 0) << o.err;
  auto r = report(o.out);
  EXPECT_EQ(r["stale_relro_dontneed"], "EPERM") << o.out;
  EXPECT_EQ(r["elsewhere_dontneed"], "ok") << o.out;
  o = run_captured({SEALKIT_BIN, "run", "--", DISCARD_TARGET, "--exec-stale"});
  r = report(o.out);
  EXPECT_EQ(r["stale_relro_dontneed"], "ok") << "without the layer nothing stays: " << o.out;
}

}  // namespace
