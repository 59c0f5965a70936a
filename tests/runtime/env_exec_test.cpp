// Under `sealkit run`, a program that hands its child an environment of its
// own (env -i, clearenv, execle, posix_spawn, fexecve, execveat with a fresh
// envp; system or popen after unsetenv; LD_PRELOAD replaced or emptied) still
// has that child sealed: the preload object's exec wrappers put back what
// `sealkit run` injected (src/runtime/preload/exec_env.hpp). Each check reads
// the child's own /proc/self/smaps (env_exec_target.c): its program and a
// library it dlopens (sealed only when the preload object is there) must have
// "sl" in VmFlags.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/run_log.hpp"
#include "runtime/subprocess.hpp"

namespace {

namespace fs = std::filesystem;
using sealkit::test::Captured;
using sealkit::test::run_captured;

// "object PATH sealed|unsealed" lines: path -> sealed.
std::map<std::string, bool> objects_of(const std::string& out) {
  std::map<std::string, bool> m;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("object ", 0) != 0) continue;
    const auto sp = line.rfind(' ');
    m[line.substr(7, sp - 7)] = line.substr(sp + 1) == "sealed";
  }
  return m;
}

bool maps_preload_object(const std::map<std::string, bool>& m) {
  for (const auto& [path, sealed] : m) {
    if (fs::path(path).filename() == "libsealkit-preload.so") return true;
  }
  return false;
}

std::string canonical(const char* p) { return fs::canonical(p).string(); }

// The child's program and the library it dlopened are sealed, and the preload object is there.
void expect_child_sealed(const Captured& c) {
  ASSERT_EQ(c.status, 0) << c.err << c.out;
  const auto m = objects_of(c.out);
  ASSERT_TRUE(m.count(canonical(ENV_EXEC_TARGET))) << c.out;
  EXPECT_TRUE(m.at(canonical(ENV_EXEC_TARGET))) << "the child's program is not sealed:\n" << c.out;
  ASSERT_TRUE(m.count(canonical(DL_LIB))) << c.out;
  EXPECT_TRUE(m.at(canonical(DL_LIB))) << "the library the child dlopened is not sealed:\n" << c.out;
  EXPECT_TRUE(maps_preload_object(m)) << c.out;
}

Captured run_way(const std::string& way) { return run_captured({SEALKIT_BIN, "run", "--", ENV_EXEC_TARGET, way, DL_LIB}); }

}  // namespace

TEST(SealkitRunEnvironment, EnvDashIKeepsTheChildSealed) {
  expect_child_sealed(run_captured({SEALKIT_BIN, "run", "--", "/usr/bin/env", "-i", ENV_EXEC_TARGET, "report", DL_LIB}));
}

TEST(SealkitRunEnvironment, ClearenvThenExecvKeepsTheChildSealed) { expect_child_sealed(run_way("clearenv-execv")); }

TEST(SealkitRunEnvironment, ExecleWithAFreshEnvironmentKeepsTheChildSealed) { expect_child_sealed(run_way("execle")); }

TEST(SealkitRunEnvironment, ExeclAfterUnsetenvKeepsTheChildSealed) { expect_child_sealed(run_way("execl-unset")); }

TEST(SealkitRunEnvironment, PosixSpawnWithAnEmptyEnvironmentKeepsTheChildSealed) {
  expect_child_sealed(run_way("posix_spawn"));
  expect_child_sealed(run_way("posix_spawnp"));
}

TEST(SealkitRunEnvironment, FexecveAndExecveatWithAnEmptyEnvironmentKeepTheChildSealed) {
  expect_child_sealed(run_way("fexecve"));
  expect_child_sealed(run_way("execveat"));
}

// After vfork, with an envp too large for the wrapper's stack buffer: the copy is mapped, and every variable arrives.
TEST(SealkitRunEnvironment, VforkThenExecveWithALargeFreshEnvironmentKeepsTheChildSealed) {
  const Captured c = run_way("vfork-big");
  expect_child_sealed(c);
  const auto at = c.out.find("\nenvironment ");
  ASSERT_NE(at, std::string::npos) << c.out;
  const unsigned long vars = std::stoul(c.out.substr(at + 13));
  EXPECT_GT(vars, 2000u) << "the child's 2000 variables and sealkit's: " << c.out;
  EXPECT_LT(vars, 2010u) << c.out;
}

TEST(SealkitRunEnvironment, SystemAndPopenAfterUnsetenvLdPreloadKeepTheChildSealed) {
  expect_child_sealed(run_way("system"));
  expect_child_sealed(run_way("popen"));
}

// The child's own preload stays, sealkit's comes first; an emptied LD_PRELOAD gets sealkit's back.
TEST(SealkitRunEnvironment, AChildThatReplacesLdPreloadKeepsItsOwnAndGetsSealkits) {
  const std::string cmd = std::string("LD_PRELOAD=") + DL_LIB_B + " exec " + ENV_EXEC_TARGET + " report " + DL_LIB;
  const Captured c = run_captured({SEALKIT_BIN, "run", "--", "/bin/sh", "-c", cmd});
  expect_child_sealed(c);
  const auto m = objects_of(c.out);
  ASSERT_TRUE(m.count(canonical(DL_LIB_B))) << "the child's own preload is gone:\n" << c.out;
  EXPECT_TRUE(m.at(canonical(DL_LIB_B))) << c.out;
  expect_child_sealed(run_captured(
      {SEALKIT_BIN, "run", "--", "/bin/sh", "-c", std::string("LD_PRELOAD= exec ") + ENV_EXEC_TARGET + " report " + DL_LIB}));
}

// SEALKIT_DLOPEN=off in the child would seal less than `sealkit run --policy dlopen=promote`: sealkit's value is put
// back, and the library the child dlopens is sealed.
TEST(SealkitRunEnvironment, AChildsSealkitSettingCanOnlySealMore) {
  expect_child_sealed(run_captured({SEALKIT_BIN, "run", "--policy", "dlopen=promote", "--", "/bin/sh", "-c",
                                    std::string("SEALKIT_DLOPEN=off exec ") + ENV_EXEC_TARGET + " report " + DL_LIB}));
}

// A library constructor that unsets or empties LD_PRELOAD runs before the preload object's: what `sealkit run` injected is
// still remembered (from the strings the kernel placed, not the envp array), and a child the program starts with a
// cleared environment still gets the preload object.
TEST(SealkitRunEnvironment, WhatALibraryConstructorUnsetsBeforeStartUpIsStillCarried) {
  expect_child_sealed(run_captured(
      {SEALKIT_BIN, "run", "--", ENV_EXEC_TARGET_UNSETTING, "clearenv-execv", DL_LIB, ENV_EXEC_TARGET}));
  // setenv replaces the variable's pointer in the array in place.
  expect_child_sealed(run_captured(
      {SEALKIT_BIN, "run", "--", ENV_EXEC_TARGET_UNSETTING, "clearenv-execv", DL_LIB, ENV_EXEC_TARGET},
      {"ENV_LIB_REPLACE=1"}));
}

// A `sealkit run` inside the tree sets its own log and backend, which seal nothing less: they are kept. Its program's
// start-up line goes to its own log, not to the outer one.
TEST(SealkitRunEnvironment, ANestedSealkitRunKeepsItsOwnLogAndBackend) {
  sealkit::test::TempLog outer, inner;
  const Captured c = run_captured({SEALKIT_BIN, "run", "--log", outer.path, "--backend", "kernel", "--", SEALKIT_BIN,
                                   "run", "--log", inner.path, "--backend", "seccomp", "--", ENV_EXEC_TARGET,
                                   "report", DL_LIB});
  ASSERT_EQ(c.status, 0) << c.err;
  bool inner_saw_target = false;
  for (const auto& line : inner.lines()) {
    if (line.value("exe", "") != canonical(ENV_EXEC_TARGET)) continue;
    inner_saw_target = true;
    EXPECT_EQ(line.value("backend", ""), "seccomp") << line.dump();
  }
  EXPECT_TRUE(inner_saw_target) << "the inner run's program did not log to the inner log";
  for (const auto& line : outer.lines()) EXPECT_NE(line.value("exe", ""), canonical(ENV_EXEC_TARGET)) << line.dump();
}

// Every repair is a line of the log, naming the call, the program and the variables put back.
TEST(SealkitRunEnvironment, EachRepairIsLogged) {
  sealkit::test::TempLog log;
  expect_child_sealed(run_captured({SEALKIT_BIN, "run", "--log", log.path, "--", ENV_EXEC_TARGET, "execle", DL_LIB}));
  bool found = false;
  for (const auto& line : log.lines()) {
    if (line.value("phase", "") != "exec") continue;
    found = true;
    EXPECT_EQ(line["call"], "execle") << line.dump();
    EXPECT_EQ(line["program"], canonical(ENV_EXEC_TARGET)) << line.dump();
    EXPECT_EQ(line["environment_repaired"], true) << line.dump();
    const auto vars = line["variables"].get<std::vector<std::string>>();
    for (const char* v : {"LD_AUDIT", "LD_PRELOAD", "SEALKIT_BACKEND"})
      EXPECT_NE(std::find(vars.begin(), vars.end(), v), vars.end()) << v << " missing: " << line.dump();
  }
  EXPECT_TRUE(found) << "no exec line in the log";
  // A child that keeps its environment needs no repair: no line.
  sealkit::test::TempLog quiet;
  const Captured c = run_captured({SEALKIT_BIN, "run", "--log", quiet.path, "--", "/bin/sh", "-c",
                                   std::string("exec ") + ENV_EXEC_TARGET + " report " + DL_LIB});
  expect_child_sealed(c);
  for (const auto& line : quiet.lines()) EXPECT_NE(line.value("phase", ""), "exec") << line.dump();
}

// An excluded program (here `env`) still hands the variables on, and a child it clears them for is given them too:
// each process is judged by its own executable.
TEST(SealkitRunEnvironment, AnExcludedProgramsChildrenAreStillGivenTheVariables) {
  const fs::path dir = fs::temp_directory_path() / ("sealkit-env-exclude-" + std::to_string(getpid()));
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                           fs::perms::others_read | fs::perms::others_exec);
  const fs::path copy = dir / "excluded_target";
  fs::copy_file(ENV_EXEC_TARGET, copy, fs::copy_options::overwrite_existing);
  const fs::path conf = dir / "runtime.conf";
  std::ofstream(conf) << "exclude-program = excluded_target\n";
  sealkit::test::TempLog log;
  // env -i starts the excluded copy; it clears its environment and starts the target.
  const Captured c = run_captured({SEALKIT_BIN, "run", "--config", conf.string(), "--log", log.path, "--",
                                   "/usr/bin/env", "-i", copy.string(), "clearenv-execv", DL_LIB, ENV_EXEC_TARGET});
  expect_child_sealed(c);
  bool excluded_logged = false;
  for (const auto& line : log.lines())
    if (line.value("exe", "") == copy.string() && line.value("phase", "") == "startup")
      excluded_logged = line.value("program_excluded", false);
  EXPECT_TRUE(excluded_logged) << "the excluded copy was not started under sealkit run, or not excluded";
  fs::remove_all(dir);
}

// Without `sealkit run` (the preload object alone, as machine-wide) nothing is added: `env -i` leaves the child
// with no preload object.
TEST(SealkitRunEnvironment, ThePreloadObjectAloneAddsNothing) {
  const Captured c =
      run_captured({"/usr/bin/env", "LD_PRELOAD=" SEALKIT_PRELOAD, "/usr/bin/env", "-i", ENV_EXEC_TARGET, "report", DL_LIB});
  ASSERT_EQ(c.status, 0) << c.err;
  const auto m = objects_of(c.out);
  ASSERT_TRUE(m.count(canonical(ENV_EXEC_TARGET))) << c.out;
  EXPECT_FALSE(m.count(canonical(SEALKIT_PRELOAD))) << c.out;
}
