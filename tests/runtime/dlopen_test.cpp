// Objects loaded after start-up, under `sealkit run`: dlopen with and without
// RTLD_NODELETE, DF_1_NODELETE, dependencies, failing dlopens, dlclose of a
// sealed object, many threads at once, dlmopen, and glibc's own loads (NSS,
// gconv). Sealing is checked inside the process right after dlopen returns
// (tests/runtime/dlopen_target.c: mprotect of the object's text -> EPERM)
// and from outside in /proc/PID/smaps.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/subprocess.hpp"

namespace {

struct Outcome : sealkit::test::Captured {
  std::map<std::string, std::string> lines;  // "NAME RESULT" lines of dlopen_target
};

Outcome run(const std::vector<std::string>& argv) {
  Outcome o;
  static_cast<sealkit::test::Captured&>(o) = sealkit::test::run_captured(argv);
  std::istringstream ls(o.out);
  std::string name, result;
  while (ls >> name && std::getline(ls >> std::ws, result)) o.lines[name] = result;
  return o;
}

// `sealkit run [--policy dlopen=POLICY] -- dlopen_target ARGS...`
Outcome target(const std::string& policy, const std::vector<std::string>& args) {
  std::vector<std::string> argv{SEALKIT_BIN, "run"};
  if (!policy.empty()) argv.insert(argv.end(), {"--policy", "dlopen=" + policy});
  argv.push_back("--");
  argv.push_back(DLOPEN_TARGET);
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

std::string lib(char copy) { return std::string(DL_LIB_DIR) + "/libsealkit_dl_" + copy + ".so"; }

}  // namespace

TEST(LaterObjects, NodeleteDlopenIsSealedBeforeDlopenReturns) {
  for (const char* policy : {"nodelete", "promote"}) {
    Outcome o = target(policy, {"open", "nd", "nodelete", lib('a'), "sealkit_test_value"});
    ASSERT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(o.lines["nd"], "sealed") << policy << ": " << o.out << o.err;
  }
}

TEST(LaterObjects, PlainDlopenFollowsThePolicy) {
  const std::map<std::string, std::string> expected{{"nodelete", "open"}, {"promote", "sealed"}, {"off", "open"},
                                                    {"", "sealed"}};
  for (const auto& [policy, state] : expected) {
    Outcome o = target(policy, {"open", "plain", "now", lib('b'), "sealkit_test_value"});
    ASSERT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(o.lines["plain"], state) << "policy '" << policy << "': " << o.out << o.err;
  }
}

TEST(LaterObjects, OffSealsNothingLoadedLater) {
  Outcome o = target("off", {"open", "nd", "nodelete", lib('a'), "sealkit_test_value"});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.lines["nd"], "open");
}

// DF_1_NODELETE (ld -z nodelete) is never unloaded: sealed with a plain dlopen.
TEST(LaterObjects, FlaggedNodeleteObjectIsSealed) {
  Outcome o = target("nodelete", {"open", "flagged", "now", DL_FLAGGED, "sealkit_test_value"});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.lines["flagged"], "sealed") << o.out << o.err;
}

// The dependency of a never-unloaded object is never unloaded either: a later
// dlopen of it (which returns the loaded object) finds it sealed already.
TEST(LaterObjects, DependencyOfANodeleteObjectIsSealed) {
  Outcome o = target("nodelete", {"open", "user", "nodelete", DL_USER, "sealkit_test_user_value", "open", "dep",
                                  "now", DL_DEP, "sealkit_test_value"});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.lines["user"], "sealed") << o.out;
  EXPECT_EQ(o.lines["dep"], "sealed") << o.out;
}

// A dependency's constructor dlopens another object while the outer dlopen
// is still running constructors. The runtime must not touch the outer
// objects then: dlopen(RTLD_NOLOAD) of one that was loaded as a dependency
// would run its constructor early, before its own dependency's has finished
// (libGL, loaded by python's ctypes, crashed this way).
TEST(LaterObjects, DlopenFromAConstructorKeepsConstructorOrder) {
  for (const char* policy : {"nodelete", "promote"}) {
    Outcome o = target(policy, {"order", DL_CTOR_TOP, lib('e')});
    ASSERT_EQ(o.status, 0) << policy << ": " << o.err;
    EXPECT_EQ(o.lines["order"], "kept") << policy << ": " << o.out;
    if (std::string(policy) == "promote") {
      EXPECT_EQ(o.lines["order_inner"], "sealed") << o.out;
      EXPECT_EQ(o.lines["order_outer"], "sealed") << o.out;
    } else {
      EXPECT_EQ(o.lines["order_inner"], "open") << o.out;
    }
  }
}

TEST(LaterObjects, FailedDlopenLeavesNothingSealedAndItsErrorIntact) {
  for (const char* policy : {"nodelete", "promote"}) {
    Outcome o = target(policy, {"fail", DL_BAD});
    ASSERT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(o.lines["missing"], "null") << o.out;
    EXPECT_EQ(o.lines["failing"], "null") << o.out;
    EXPECT_EQ(o.lines["failing_remnants"], "unmapped") << o.out;
    EXPECT_EQ(o.lines["dlerror_after"], "set") << "the wrapper must leave the caller's dlerror() alone";
  }
}

// glibc ignores munmap's EPERM when it unloads a sealed object: the object
// stays mapped (a leak), the program goes on, and a new dlopen maps a fresh
// copy that works. Checked with an object sealed behind glibc's back
// (policy off) and with one the runtime promoted and sealed.
TEST(LaterObjects, DlcloseOfASealedObjectIsSurvivedAndReopenWorks) {
  for (const char* policy : {"off", "promote"}) {
    Outcome o = target(policy, {"reopen", lib('c')});
    ASSERT_EQ(o.status, 0) << policy << ": " << o.err;
    EXPECT_NE(o.lines["reopen_sealed_vmas"], "0") << o.out;
    EXPECT_EQ(o.lines["reopen_dlclose"], "0") << o.out;
    EXPECT_EQ(o.lines["reopen_after_close"], "mapped-sealed") << o.out;
    EXPECT_EQ(o.lines["reopen_again"], "works") << o.out;
    EXPECT_EQ(o.lines["reopen_dlclose_again"], "0") << o.out;
  }
}

TEST(LaterObjects, ManyThreadsDlopeningAtOnceAreEachSealedBeforeDlopenReturns) {
  for (const char* policy : {"nodelete", "promote"}) {
    std::vector<std::string> args{"threads"};
    for (char c : std::string("abcdefg")) args.push_back(lib(c));
    Outcome o = target(policy, args);
    ASSERT_EQ(o.status, 0) << o.err;
    for (int i = 0; i < 7; ++i) EXPECT_EQ(o.lines["thread" + std::to_string(i)], "sealed") << policy << " " << o.out;
  }
}

// The wrapper stands between a library and ld.so: a plugin the library finds
// through its own DT_RUNPATH or $ORIGIN must still be found.
TEST(LaterObjects, ALibrarysOwnRunpathAndOriginStillWork) {
  Outcome plain = run({DLOPEN_TARGET, "runpath", DL_RUNPATH});
  ASSERT_EQ(plain.status, 0) << plain.err;
  ASSERT_EQ(plain.lines["runpath"], "found") << "the control: " << plain.out;
  ASSERT_EQ(plain.lines["origin"], "found") << "the control: " << plain.out;
  for (const char* policy : {"promote", "nodelete"}) {
    Outcome o = target(policy, {"runpath", DL_RUNPATH});
    ASSERT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(o.lines["runpath"], "found") << policy;
    EXPECT_EQ(o.lines["origin"], "found") << policy;
  }
}

TEST(LaterObjects, DlmopenIntoANewNamespaceIsSealedWhenPromoted) {
  Outcome o = target("promote", {"dlmopen", lib('d')});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.lines["dlmopen"], "sealed") << o.out << o.err;
}

TEST(LaterObjects, PolicyOptionIsCheckedAndTheProgramKeepsItsOwnOptions) {
  Outcome ok = run({SEALKIT_BIN, "run", "--policy", "dlopen=nodelete", "--", "/bin/sh", "-c", "echo ok"});
  EXPECT_EQ(ok.status, 0) << ok.err;
  EXPECT_EQ(ok.out, "ok\n");
  Outcome bad = run({SEALKIT_BIN, "run", "--policy", "dlopen=sometimes", "--", "/bin/true"});
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("dlopen=promote"), std::string::npos) << bad.err;
}

// A bad SEALKIT_DLOPEN inside the process: the default. The preload object
// alone (no `sealkit run`) warns in the system log, not on the program's
// stderr (syslog_test.cpp receives that warning).
TEST(LaterObjects, BadPolicySettingUsesTheDefaultAndLeavesStderrAlone) {
  Outcome o = run({"env", "SEALKIT_DLOPEN=sometimes", std::string("LD_PRELOAD=") + SEALKIT_PRELOAD, DLOPEN_TARGET,
                   "open", "x", "now", lib('f'), "sealkit_test_value", "open", "y", "now", lib('g'),
                   "sealkit_test_value"});
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(o.lines["x"], "sealed");
  EXPECT_EQ(o.lines["y"], "sealed");
}

// glibc loads gconv (and NSS, libgcc_s) modules itself, not through dlopen:
// the preload object's iconv_open wrapper seals them before it returns, as
// promote says (nodelete: glibc may unload them, so they stay unsealed, at
// the next dlopen too). tests/runtime/glibc_loads_test.cpp has the others.
TEST(LaterObjects, GlibcsOwnLoadFollowsThePolicy) {
  const std::map<std::string, std::string> expected{{"promote", "mapped-sealed"}, {"nodelete", "mapped-open"}};
  for (const auto& [policy, state] : expected) {
    Outcome o = target(policy, {"iconv", lib('a')});
    ASSERT_EQ(o.status, 0) << o.err;
    ASSERT_EQ(o.lines["iconv_open"], "ok") << o.out;
    EXPECT_EQ(o.lines["gconv_before_dlopen"], state) << policy << ": " << o.out;
    EXPECT_EQ(o.lines["gconv_after_dlopen"], state) << policy << ": " << o.out;
  }
}

// NSS and gconv under sealkit run: the same output as without it.
TEST(LaterObjects, GetentAndIconvWorkTheSameSealed) {
  char path[] = "/tmp/sealkit-latin1-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string latin1 = "caf\xe9 na\xefve \xa9\n";
  ASSERT_EQ(write(fd, latin1.data(), latin1.size()), static_cast<ssize_t>(latin1.size()));
  close(fd);
  const std::vector<std::vector<std::string>> commands{
      {"getent", "passwd", "root"}, {"getent", "passwd"}, {"getent", "group"}, {"iconv", "-f", "latin1", "-t", "utf-8", path}};
  for (const auto& cmd : commands) {
    Outcome plain = run(cmd);
    ASSERT_EQ(plain.status, 0) << cmd[0];
    ASSERT_FALSE(plain.out.empty());
    for (const char* policy : {"promote", "nodelete"}) {
      std::vector<std::string> argv{SEALKIT_BIN, "run", "--policy", std::string("dlopen=") + policy, "--"};
      argv.insert(argv.end(), cmd.begin(), cmd.end());
      Outcome sealed = run(argv);
      EXPECT_EQ(sealed.status, plain.status) << cmd[0] << " " << policy << ": " << sealed.err;
      EXPECT_EQ(sealed.out, plain.out) << cmd[0] << " " << policy;
    }
  }
  unlink(path);
}

// An object that asks for an executable stack cannot be loaded once the
// stack is sealed (glibc 2.36 mprotects the stack for it). The program sees
// the same dlerror() as before; sealkit adds one line saying why.
TEST(LaterObjects, ExecStackObjectFailsWithAClearMessageAndDlerrorIntact) {
  Outcome control = run({DLOPEN_TARGET, "error", "x", DL_EXECSTACK, "error", "y", DL_EXECSTACK});
  ASSERT_EQ(control.lines["x"], "opened") << "unsealed, glibc 2.36 makes the stack executable and loads it";
  Outcome o = target("", {"error", "x", DL_EXECSTACK, "error", "y", DL_EXECSTACK});
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_NE(o.lines["x"].find("cannot change memory protections"), std::string::npos) << o.lines["x"];
  EXPECT_EQ(o.lines["y"], o.lines["x"]) << "the second failure reads the same";
  const std::string why = "asks for an executable stack";
  const std::size_t at = o.err.find(why);
  EXPECT_NE(at, std::string::npos) << o.err;
  EXPECT_EQ(o.err.find(why, at + 1), std::string::npos) << "said once per process: " << o.err;
  EXPECT_NE(o.err.find(DL_EXECSTACK), std::string::npos) << o.err;
}

// exclude-object applies to objects loaded later too, on the one-object fast
// path and on the full pass (an object that needs another).
TEST(LaterObjects, ExcludedObjectsStayOpenOthersAreSealed) {
  const std::string conf = testing::TempDir() + "/sealkit-dlopen-exclude.conf";
  std::ofstream(conf) << "exclude-object = libsealkit_dl_b.so\nexclude-object = libsealkit_dl_h.so\n";
  chmod(conf.c_str(), 0644);
  Outcome o = run({SEALKIT_BIN, "run", "--config", conf, "--", DLOPEN_TARGET, "open", "a", "now", lib('a'),
                   "sealkit_test_value", "open", "b", "now", lib('b'), "sealkit_test_value", "open", "user", "now",
                   DL_USER, "sealkit_test_user_value", "open", "dep", "now", DL_DEP, "sealkit_test_value"});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.lines["a"], "sealed");
  EXPECT_EQ(o.lines["b"], "open") << "excluded, loaded alone";
  EXPECT_EQ(o.lines["user"], "sealed");
  EXPECT_EQ(o.lines["dep"], "open") << "excluded, loaded as a dependency";
}
