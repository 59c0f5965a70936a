// `sealkit run` on 32-bit programs: the audit module is named through ld.so's
// $LIB and the preload object rewritten by the i386 audit module
// (cli/run/inject.hpp), so a 32-bit program, and one a 64-bit shell
// starts, loads the i386 runtime and is sealed like any other. Checked from
// outside: smaps of the running process, the attacks' results, the log.
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/live_process.hpp"
#include "runtime/run_log.hpp"
#include "runtime/subprocess.hpp"

namespace {

using sealkit::test::Captured;
using sealkit::test::Live;
using sealkit::test::parse_report;
using sealkit::test::run_captured;
using sealkit::test::smaps_of;
using sealkit::test::TempLog;
using sealkit::test::Vma;

// Each test runs a 32-bit program: where the kernel cannot execute one, it
// skips with the kernel's answer. The 64-bit side of `sealkit run` is tested
// by run_test.cpp wherever 64-bit programs run.
class SealkitRunI386 : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!sealkit::test::kernel_executes(ATTACK_TARGET_I386, why)) GTEST_SKIP() << why;
  }
};

}  // namespace

TEST_F(SealkitRunI386, AttacksOnA32BitProgramFailWithEperm) {
  Captured sealed = run_captured({SEALKIT_BIN, "run", "--", ATTACK_TARGET_I386});
  ASSERT_EQ(sealed.status, 0) << sealed.err;
  EXPECT_EQ(sealed.err, "") << "ld.so must not complain about an object of the wrong class";
  Captured control = run_captured({ATTACK_TARGET_I386});
  ASSERT_EQ(control.status, 0) << control.err;
  auto s = parse_report(sealed.out), c = parse_report(control.out);
  ASSERT_EQ(s.size(), 8u) << sealed.out;
  for (const auto& [name, result] : c) {
    EXPECT_EQ(result, "ok") << name << ": the unsealed control must succeed";
    // File-backed text may be discarded under the kernel's rules, sealed or not.
    if (name != "madvise_dontneed_program_text") {
      EXPECT_EQ(s[name], "EPERM") << name;
    }
  }
}

TEST_F(SealkitRunI386, EveryObjectVmaOfA32BitProgramIsSealed) {
  Live l;
  std::string why;
  ASSERT_TRUE(sealkit::test::start_live(l, {SEALKIT_BIN, "run", "--", ATTACK_TARGET_I386, "--wait"}, {}, why)) << why;
  std::size_t objects = 0;
  bool saw_i386_runtime = false, saw_i386_preload = false, saw_stack = false, saw_vdso = false;
  for (const Vma& v : smaps_of(l.pid)) {
    if (v.path == ATTACK_TARGET_I386 || v.path.find(".so") != std::string::npos) {
      ++objects;
      EXPECT_TRUE(v.sealed) << v.range() << " " << v.perms << " " << v.path;
      if (v.path.find(std::string("/") + SEALKIT_RUNTIME_LIBDIR_I386 + "/sealkit/libsealkit-runtime.so") !=
          std::string::npos)
        saw_i386_runtime = true;
      if (v.path.find(std::string("/") + SEALKIT_RUNTIME_LIBDIR_I386 + "/sealkit/libsealkit-preload.so") !=
          std::string::npos)
        saw_i386_preload = true;
    } else if (v.path == "[vdso]" || v.path == "[vvar]" || v.path == "[vvar_vclock]") {
      saw_vdso = true;
      EXPECT_TRUE(v.sealed) << v.path;
    } else if (v.path == "[stack]") {
      saw_stack = true;
      EXPECT_TRUE(v.sealed) << "[stack]";
    }
  }
  EXPECT_GE(objects, 12u) << "program, libc, ld.so and the runtime";
  EXPECT_TRUE(saw_i386_runtime) << "the 32-bit process must have loaded the i386 runtime from its $LIB directory";
  // LD_PRELOAD names the 64-bit object; the i386 runtime's la_objsearch turns
  // it into this one (runtime/preload_class.cpp).
  EXPECT_TRUE(saw_i386_preload) << "the 32-bit process must have loaded the i386 preload object";
  EXPECT_TRUE(saw_vdso);
  EXPECT_TRUE(saw_stack);
}

// One environment for the whole tree: a 64-bit shell runs a 32-bit program,
// which runs a 64-bit one; each loads its own class and is sealed.
TEST_F(SealkitRunI386, ClassesMixAcrossExecWithOneSetting) {
  TempLog log;
  Captured o = run_captured({SEALKIT_BIN, "run", "--log", log.path, "--", "/bin/sh", "-c",
                             std::string(ATTACK_TARGET_I386) + " >/dev/null && /bin/true"});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.err, "");
  auto lines = log.lines();
  ASSERT_EQ(lines.size(), 3u) << "sh, the 32-bit target and /bin/true";
  bool saw_i386 = false;
  for (const auto& j : lines) {
    if (j.at("exe") == ATTACK_TARGET_I386) saw_i386 = true;
    EXPECT_EQ(j.at("mseal_failures").get<int>(), 0) << j;
    EXPECT_EQ(j.at("injected_as"), "audit") << j;
    EXPECT_EQ(j.at("objects_sealed").get<int>() + j.at("objects_skipped").get<int>(), j.at("objects_seen").get<int>());
    EXPECT_TRUE(j.at("stack_sealed").get<bool>()) << j;
  }
  EXPECT_TRUE(saw_i386);
}

// A cleared environment across the classes: a 64-bit `env -i` starting a 32-bit program, and a 32-bit program that
// clears its environment and starts a 64-bit one. Each child is given the injected variables (their names are the
// same in both classes) and loads the objects of its own class, sealed.
TEST_F(SealkitRunI386, AClearedEnvironmentAcrossTheClassesKeepsTheChildSealed) {
  const auto all_sealed = [](const Captured& c, const std::string& program, const std::string& preload_dir) {
    ASSERT_EQ(c.status, 0) << c.err << c.out;
    EXPECT_NE(c.out.find("object " + program + " sealed\n"), std::string::npos) << c.out;
    EXPECT_NE(c.out.find(preload_dir + "/libsealkit-preload.so sealed\n"), std::string::npos) << c.out;
    EXPECT_EQ(c.out.find(" unsealed\n"), std::string::npos) << c.out;
  };
  all_sealed(run_captured({SEALKIT_BIN, "run", "--", "/usr/bin/env", "-i", ENV_EXEC_TARGET_I386, "report", ""}),
             ENV_EXEC_TARGET_I386, SEALKIT_RUNTIME_LIBDIR_I386 "/sealkit");
  all_sealed(run_captured({SEALKIT_BIN, "run", "--", ENV_EXEC_TARGET_I386, "clearenv-execv", "", ENV_EXEC_TARGET}),
             ENV_EXEC_TARGET, "/lib");
}

// --runtime naming an object outside the installed layout serves 64-bit
// programs only: a 32-bit program is refused up front rather than run
// unsealed behind ld.so's "wrong ELF class" message. Decided from the ELF
// header before anything runs, so this holds on any kernel.
TEST(SealkitRunI386Refusal, A64BitOnlyRuntimeRefuses32BitProgramsWithAReason) {
  Captured o = run_captured({SEALKIT_BIN, "run", "--runtime", SEALKIT_RUNTIME, "--", ATTACK_TARGET_I386});
  EXPECT_EQ(o.status, 2);
  EXPECT_NE(o.err.find("32-bit program"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("--runtime " SEALKIT_RUNTIME " is not in the installed layout"), std::string::npos) << o.err;
  EXPECT_EQ(o.out, "") << "the program must not have run";
}

// An installation without the 32-bit objects (built without g++-multilib)
// says which file is missing and what to install; it does not blame a
// --runtime nobody gave.
TEST(SealkitRunI386Refusal, AnInstallationWithoutThe32BitObjectsSaysWhichFileIsMissing) {
  char dir[] = "/tmp/sealkit-no-i386-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::filesystem::path root = dir;
  const std::filesystem::path objects = root / SEALKIT_RUNTIME_LIBDIR / "sealkit";
  std::filesystem::create_directories(root / "bin");
  std::filesystem::create_directories(objects);
  std::filesystem::copy_file(SEALKIT_BIN, root / "bin" / "sealkit");
  const std::filesystem::path layout = std::filesystem::path(SEALKIT_LAYOUT_RUNTIME).parent_path();
  for (const char* name : {"libsealkit-runtime.so", "libsealkit-preload.so"})
    std::filesystem::copy_file(std::filesystem::canonical(layout / name), objects / name);
  Captured o = run_captured({(root / "bin" / "sealkit").string(), "run", ATTACK_TARGET_I386});
  std::filesystem::remove_all(root);
  EXPECT_EQ(o.status, 2) << o.err;
  EXPECT_NE(o.err.find(std::string(dir) + "/" SEALKIT_RUNTIME_LIBDIR_I386 "/sealkit/libsealkit-runtime.so"),
            std::string::npos)
      << o.err;
  EXPECT_NE(o.err.find("g++-multilib"), std::string::npos) << o.err;
  EXPECT_EQ(o.err.find("--runtime"), std::string::npos) << "no --runtime was given: " << o.err;
  EXPECT_EQ(o.out, "") << "the program must not have run";
}

// The same object named through the layout serves both classes.
TEST_F(SealkitRunI386, TheLayoutsRuntimeServes32BitProgramsToo) {
  Captured layout = run_captured({SEALKIT_BIN, "run", "--runtime", SEALKIT_LAYOUT_RUNTIME, "--", ATTACK_TARGET_I386});
  EXPECT_EQ(layout.status, 0) << layout.err;
  EXPECT_EQ(parse_report(layout.out)["mprotect_program_text"], "EPERM") << layout.out;
}

// The filter generator guards the x86_64 ABI only: on the seccomp backend a
// 32-bit process is sealed by the kernel's mseal where it exists, and its log
// line says so (docs/runtime.md).
TEST_F(SealkitRunI386, OnTheSeccompBackendA32BitProcessUsesTheKernelAndSaysSo) {
  TempLog log;
  Captured o = run_captured({SEALKIT_BIN, "run", "--backend", "seccomp", "--log", log.path, "--", ATTACK_TARGET_I386});
  ASSERT_EQ(o.status, 0) << o.err;
  auto lines = log.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].at("backend"), "kernel") << lines[0];
  EXPECT_EQ(lines[0].at("mseal_failures").get<int>(), 0) << lines[0];
  EXPECT_EQ(parse_report(o.out)["mprotect_libc_text"], "EPERM") << o.out;
}
