// Processes that run under someone else's seccomp allow-list, as systemd runs a
// service with SystemCallFilter=@system-service: any system call the list does
// not name kills the process. The runtime must never be the one that makes
// that call (docs/runtime.md, "Processes under a seccomp filter"); mseal itself,
// newer than the list, gets ENOSYS there, and the process runs unsealed and
// says so in its log. allowlist_exec installs systemd 252's list and execs.
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/run_log.hpp"
#include "runtime/subprocess.hpp"

namespace {

namespace fs = std::filesystem;
using sealkit::test::Captured;
using sealkit::test::run_captured;
using sealkit::test::TempLog;

std::vector<std::string> under_allowlist(const std::vector<std::string>& argv) {
  std::vector<std::string> v{ALLOWLIST_EXEC};
  v.insert(v.end(), argv.begin(), argv.end());
  return v;
}

bool kernel_has_mseal() { return syscall(462, 0, 0, 0) == 0; }

// What every case expects: the program ran to its end (not killed by SIGSYS),
// and the runtime's line for the filtered process either shows everything
// sealed or says why nothing was: where the kernel has mseal, the list's
// ENOSYS for it (first_errno 38); on a kernel without it (the qemu 6.1 guest),
// the seccomp backend's answer, whatever it is, logged.
void expect_survived_and_logged(const Captured& o, const TempLog& log, const std::string& exe) {
  EXPECT_EQ(o.status, 0) << "killed or failed under the allow-list: " << o.err;
  bool found = false;
  for (const auto& j : log.lines()) {
    if (j.at("exe") != exe) continue;
    found = true;
    if (j.at("objects_sealed").get<int>() == 0) {
      if (kernel_has_mseal()) {
        EXPECT_EQ(j.at("first_errno").get<int>(), 38) << "the list's ENOSYS for mseal: " << j;
      } else {
        EXPECT_NE(j.at("first_errno").get<int>(), 0) << "nothing sealed and no reason logged: " << j;
      }
    } else {
      EXPECT_EQ(j.at("mseal_failures").get<int>(), 0) << j;
    }
  }
  EXPECT_TRUE(found) << "no log line for " << exe;
}

}  // namespace

TEST(ForeignFilter, TheListItselfRunsPlainPrograms) {
  Captured o = run_captured(under_allowlist({"/bin/sh", "-c", "echo ok"}));
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out, "ok\n");
}

TEST(ForeignFilter, TheMachineWideObjectNeverKillsAFilteredProcess) {
  TempLog log;
  Captured o = run_captured(under_allowlist({"/bin/true"}),
                            {std::string("LD_PRELOAD=") + SEALKIT_PRELOAD, "SEALKIT_LOG=" + log.path});
  expect_survived_and_logged(o, log, fs::canonical("/bin/true").string());
}

TEST(ForeignFilter, SealkitRunNeverKillsAFilteredChild) {
  TempLog log;
  Captured o = run_captured({SEALKIT_BIN, "run", "--log", log.path, "--", ALLOWLIST_EXEC, "/bin/true"});
  expect_survived_and_logged(o, log, fs::canonical("/bin/true").string());
}

// The runtime injected by hand with no backend named (the systemd drop-in of
// examples/): auto must not try the seccomp backend under a foreign filter
// (seccomp() is not on the list).
// As systemd starts a service: the filter first (allowlist_exec runs without
// the runtime), then the service's program with the runtime in its environment.
TEST(ForeignFilter, AutoNeverTriesTheSeccompBackendUnderAForeignFilter) {
  TempLog log;
  Captured o = run_captured(under_allowlist({"/usr/bin/env", std::string("LD_AUDIT=") + SEALKIT_RUNTIME,
                                             std::string("LD_PRELOAD=") + SEALKIT_PRELOAD, "SEALKIT_LOG=" + log.path,
                                             "/bin/true"}));
  expect_survived_and_logged(o, log, fs::canonical("/bin/true").string());
  for (const auto& j : log.lines()) EXPECT_EQ(j.at("backend"), "kernel") << j;
}

// Objects loaded later: the preload object's dlopen path (python3's _decimal
// and _json C extension modules) under the same list.
TEST(ForeignFilter, DlopenUnderTheListNeverKills) {
  TempLog log;
  Captured o = run_captured({SEALKIT_BIN, "run", "--log", log.path, "--", ALLOWLIST_EXEC, "/usr/bin/python3", "-I",
                             "-c", "import json, decimal; print('ok')"});
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out, "ok\n");
  EXPECT_FALSE(log.lines().empty());
}

// A list that kills for mseal too (libseccomp's SCMP_ACT_KILL default, a
// sandbox's own list, systemd before v247): the runtime asks in a throwaway
// child before its first mseal and, where the child dies, never calls it
// (runtime/mseal_gate.hpp). Machine-wide, under `sealkit run`, and for
// objects loaded later.
TEST(ForeignFilter, AListThatKillsForMsealKillsNoProcessOfTheRuntime) {
  const std::string exe = fs::canonical("/bin/true").string();
  {
    SCOPED_TRACE("machine-wide");
    TempLog log;
    Captured o = run_captured({ALLOWLIST_EXEC, "--kill-newer", "/bin/true"},
                              {std::string("LD_PRELOAD=") + SEALKIT_PRELOAD, "SEALKIT_LOG=" + log.path});
    expect_survived_and_logged(o, log, exe);
  }
  {
    SCOPED_TRACE("sealkit run");
    TempLog log;
    Captured o = run_captured({SEALKIT_BIN, "run", "--log", log.path, "--", ALLOWLIST_EXEC, "--kill-newer", "/bin/true"});
    expect_survived_and_logged(o, log, exe);
  }
  {
    SCOPED_TRACE("objects loaded later");
    TempLog log;
    Captured o = run_captured({SEALKIT_BIN, "run", "--log", log.path, "--", ALLOWLIST_EXEC, "--kill-newer",
                               "/usr/bin/python3", "-I", "-c", "import json, decimal; print('ok')"});
    EXPECT_EQ(o.status, 0) << "killed or failed under the allow-list: " << o.err;
    EXPECT_EQ(o.out, "ok\n");
  }
}

// libsealkit itself, in a program that seals its own memory (as
// examples/sealed_service does). Where mseal answers ENOSYS (the list's rule
// for calls newer than it knows, or a kernel without it), the library looks
// for the seccomp backend, whose first seccomp(2) call this list kills: the
// library must ask in a throwaway child first (backend/seccomp/existing_filter)
// and answer ENOSYS. Checking whether a range is mapped (the seccomp backend,
// the v8 rule) must use a call the list names.
const char* const kNothingSealed = "backend none\nmseal ENOSYS\nmprotect -\nv8 ENOSYS\nv8_rule ENOSYS\n";

// The program is built with the project's flags: in the asan preset its
// sanitizer runtime runs under the list too, and LeakSanitizer's exit check
// (a tracer that calls ptrace, which the list kills) would leave the program
// waiting for the dead tracer forever. Not what is tested here.
std::string no_leak_check() { return sealkit::test::asan_options_with("detect_leaks=0"); }
const char* const kSealed = "mseal 0\nmprotect EPERM\nv8 0\nv8_rule EACCES\n";

// A program that sandboxes itself after it started, as QEMU does with
// -sandbox spawn=deny (libvirt's default): every call allowed, mseal too, but
// process creation kills. The object it loads later (a module) must not cost
// it its life: the runtime makes no child to ask under a filter the program
// installed itself, which may forbid exactly that.
TEST(ForeignFilter, AProgramThatForbidsItselfProcessesSurvivesItsLaterDlopen) {
  {
    SCOPED_TRACE("machine-wide");
    TempLog log;
    Captured o = run_captured({SANDBOX_THEN_DLOPEN, DL_LIB},
                              {std::string("LD_PRELOAD=") + SEALKIT_PRELOAD, "SEALKIT_LOG=" + log.path});
    EXPECT_EQ(o.status, 0) << "killed under its own sandbox: " << o.err;
    EXPECT_EQ(o.out, "loaded\n");
    EXPECT_FALSE(log.lines().empty()) << "the start-up was sealed and logged before the sandbox";
  }
  {
    SCOPED_TRACE("sealkit run");
    TempLog log;
    Captured o = run_captured({SEALKIT_BIN, "run", "--log", log.path, "--", SANDBOX_THEN_DLOPEN, DL_LIB});
    EXPECT_EQ(o.status, 0) << "killed under its own sandbox: " << o.err;
    EXPECT_EQ(o.out, "loaded\n");
  }
}

// The throwaway child that asks is killed by the list's SIGSYS, whose default
// action dumps core: the process that asked never crashed, and no core file
// (a copy of its memory) may appear for it. The runtime (machine-wide) and
// libsealkit (a program sealing its own memory) both ask. Seen where core
// files are written by name into the working directory (core_pattern without
// '|' or '/').
TEST(ForeignFilter, TheChildThatAsksAboutMsealLeavesNoCoreFile) {
  std::string pattern;
  {
    FILE* f = std::fopen("/proc/sys/kernel/core_pattern", "r");
    char line[256] = {};
    if (f != nullptr && std::fgets(line, sizeof line, f) != nullptr) pattern = line;
    if (f != nullptr) std::fclose(f);
  }
  if (pattern.empty() || pattern.find_first_of("|/") != std::string::npos)
    GTEST_SKIP() << "core files are not written into the working directory here (core_pattern " << pattern << ")";
  rlimit core{};
  ASSERT_EQ(::getrlimit(RLIMIT_CORE, &core), 0);
  if (core.rlim_max == 0) GTEST_SKIP() << "no core files allowed here (hard RLIMIT_CORE 0)";
  const rlimit saved = core;
  core.rlim_cur = core.rlim_max;
  ASSERT_EQ(::setrlimit(RLIMIT_CORE, &core), 0);
  TempLog log;
  const struct {
    const char* what;
    std::string program;
    std::vector<std::string> env;
  } cases[] = {
      {"machine-wide", "/bin/true", {std::string("LD_PRELOAD=") + SEALKIT_PRELOAD, "SEALKIT_LOG=" + log.path}},
      {"libsealkit", LIB_UNDER_FILTER, {no_leak_check()}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    char dir[] = "/tmp/sealkit-core-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    Captured o = run_captured(
        {"/bin/sh", "-c", "cd \"$1\" && shift && exec \"$@\"", "sh", dir, ALLOWLIST_EXEC, "--kill-newer", c.program},
        c.env);
    EXPECT_EQ(o.status, 0) << o.err;
    std::vector<std::string> left;
    for (const auto& e : fs::directory_iterator(dir)) left.push_back(e.path().filename().string());
    EXPECT_TRUE(left.empty()) << "a core file in the working directory: " << left.front();
    fs::remove_all(dir);
  }
  ::setrlimit(RLIMIT_CORE, &saved);
}

TEST(ForeignFilter, LibsealkitNeverKillsAProgramUnderTheList) {
  for (const char* backend : {"auto", "seccomp", "kernel"}) {
    for (const bool kill_newer : {false, true}) {
      SCOPED_TRACE(std::string(backend) + (kill_newer ? ", mseal kills" : ", mseal ENOSYS"));
      std::vector<std::string> argv{ALLOWLIST_EXEC};
      if (kill_newer) argv.push_back("--kill-newer");
      argv.push_back(LIB_UNDER_FILTER);
      Captured o = run_captured(argv, {std::string("SEALKIT_BACKEND=") + backend, no_leak_check()});
      EXPECT_EQ(o.status, 0) << "killed or failed under the allow-list: " << o.err;
      EXPECT_EQ(o.out, kNothingSealed);
    }
  }
}

// A list that names seccomp (container runtimes' default profiles do): the
// child's test passes and the library seals with its own filters under it.
TEST(ForeignFilter, LibsealkitSealsWithFiltersWhereTheListAllowsSeccomp) {
  Captured o = run_captured({ALLOWLIST_EXEC, "--also", std::to_string(SYS_seccomp), LIB_UNDER_FILTER}, {no_leak_check()});
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out, std::string("backend seccomp\n") + kSealed);
}

// The control: the same program with no list seals, with the kernel's mseal
// where there is one.
TEST(ForeignFilter, LibsealkitSealsWithoutTheList) {
  Captured o = run_captured({LIB_UNDER_FILTER});
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out, std::string("backend ") + (kernel_has_mseal() ? "kernel" : "seccomp") + "\n" + kSealed);
}
