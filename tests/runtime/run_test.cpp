// `sealkit run` and the runtime, on real programs: the attack target built
// here, coreutils from Debian, a shell that execs. Sealing is checked from
// outside, in /proc/PID/smaps of the running process (read here, not with
// the library's parser).
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/live_process.hpp"
#include "runtime/run_log.hpp"
#include "runtime/subprocess.hpp"

namespace {

using Outcome = sealkit::test::Captured;
using sealkit::test::parse_report;

Outcome run(const std::vector<std::string>& argv, const std::vector<std::string>& env = {}) {
  return sealkit::test::run_captured(argv, env);
}

bool is_elf_object_path(const std::string& p, const std::string& exe) {
  return p == exe || p.find(".so") != std::string::npos;
}

using sealkit::test::Live;
using sealkit::test::smaps_of;
using sealkit::test::Vma;

void start_live(Live& l, const std::vector<std::string>& argv) {
  std::string why;
  ASSERT_TRUE(sealkit::test::start_live(l, argv, {}, why)) << why;
}

}  // namespace

TEST(SealkitRun, AttacksOnEveryKindOfObjectMemoryFailWithEperm) {
  Outcome sealed = run({SEALKIT_BIN, "run", "--", ATTACK_TARGET});
  ASSERT_EQ(sealed.status, 0) << sealed.err;
  Outcome control = run({ATTACK_TARGET});
  ASSERT_EQ(control.status, 0) << control.err;
  auto s = parse_report(sealed.out), c = parse_report(control.out);
  ASSERT_EQ(s.size(), 8u) << sealed.out;
  ASSERT_EQ(c.size(), s.size()) << control.out;
  for (const auto& [name, result] : c) {
    EXPECT_EQ(result, "ok") << name << ": the unsealed control must succeed";
    if (name == "madvise_dontneed_program_text") {
      // Allowed by the kernel's rules (file-backed memory), sealed or not.
      EXPECT_EQ(s[name], "ok") << name;
    } else {
      EXPECT_EQ(s[name], "EPERM") << name;
    }
  }
}

TEST(SealkitRun, EveryObjectVmaOfARunningProgramIsSealed) {
  Live l;
  start_live(l, {SEALKIT_BIN, "run", "--", ATTACK_TARGET, "--wait"});
  auto vmas = smaps_of(l.pid);
  ASSERT_FALSE(vmas.empty());
  std::size_t objects = 0, system = 0;
  bool saw_stack = false, saw_runtime = false;
  for (std::size_t i = 0; i < vmas.size(); ++i) {
    const Vma& v = vmas[i];
    if (is_elf_object_path(v.path, ATTACK_TARGET)) {
      ++objects;
      EXPECT_TRUE(v.sealed) << v.range() << " " << v.perms << " " << v.path;
      if (v.path.find("libsealkit-runtime.so") != std::string::npos) saw_runtime = true;
      // The bss past the file of each object is an anonymous VMA right after it.
      if (i + 1 < vmas.size() && vmas[i + 1].path.empty() && v.perms[1] == 'w') {
        EXPECT_TRUE(vmas[i + 1].sealed) << "bss after " << v.path;
      }
    } else if (v.path == "[vdso]" || v.path == "[vvar]" || v.path == "[vvar_vclock]") {
      ++system;
      EXPECT_TRUE(v.sealed) << v.path;
    } else if (v.path == "[stack]") {
      saw_stack = true;
      EXPECT_TRUE(v.sealed) << "[stack]";
    }
  }
  EXPECT_GE(objects, 12u) << "program, libc and ld.so have 4-5 VMAs each";
  EXPECT_GE(system, 2u);
  EXPECT_TRUE(saw_stack);
  EXPECT_TRUE(saw_runtime) << "the runtime seals itself too";
}

// The setting crosses fork and exec: a shell's exec'd child is sealed.
TEST(SealkitRun, ChildrenAcrossExecAreSealed) {
  Live l;
  start_live(l, {SEALKIT_BIN, "run", "--", "/bin/sh", "-c", std::string("exec ") + ATTACK_TARGET + " --wait"});
  std::size_t sealed = 0, open = 0;
  for (const Vma& v : smaps_of(l.pid)) {
    if (!is_elf_object_path(v.path, ATTACK_TARGET)) continue;
    (v.sealed ? sealed : open)++;
  }
  EXPECT_GT(sealed, 0u);
  EXPECT_EQ(open, 0u);
}

TEST(SealkitRun, ExitStatusAndOutputPassThrough) {
  Outcome o = run({SEALKIT_BIN, "run", "--", "/bin/sh", "-c", "echo out; echo err >&2; exit 7"});
  EXPECT_EQ(o.status, 7);
  EXPECT_EQ(o.out, "out\n");
  EXPECT_EQ(o.err, "err\n");
}

TEST(SealkitRun, LogHasOneLinePerProcessAndNoFailures) {
  char path[] = "/tmp/sealkit-run-log-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  Outcome o = run({SEALKIT_BIN, "run", "--log", path, "--", "/bin/sh", "-c", "/bin/true; /bin/true"});
  ASSERT_EQ(o.status, 0) << o.err;
  std::ifstream in(path);
  std::string line;
  std::size_t lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j.at("mseal_failures").get<int>(), 0) << line;
    EXPECT_EQ(j.at("objects_sealed").get<int>() + j.at("objects_skipped").get<int>(), j.at("objects_seen").get<int>());
    EXPECT_GE(j.at("objects_sealed").get<int>(), 4) << "program, libc, ld.so and the runtime: " << line;
    EXPECT_LE(j.at("objects_skipped").get<int>(), 1) << "only the vDSO, which is sealed as a system mapping";
    EXPECT_TRUE(j.at("stack_sealed").get<bool>());
  }
  EXPECT_EQ(lines, 3u) << "sh and two /bin/true";
  unlink(path);
}

// A static program is sealed by sealkit itself (tests/runtime/static_run_test.cpp); one it cannot seal (here: on
// the seccomp backend) is refused unless --allow-static, which runs it unsealed and says so.
TEST(SealkitRun, StaticProgramsAreSealedOrRefusedUnlessAllowed) {
  Outcome sealed = run({SEALKIT_BIN, "run", "--", STATIC_TARGET});
  EXPECT_EQ(sealed.status, 0) << sealed.err;
  EXPECT_EQ(sealed.out, "static ok\n");
  EXPECT_EQ(sealed.err, "");
  Outcome o = run({SEALKIT_BIN, "run", "--backend", "seccomp", "--", STATIC_TARGET});
  EXPECT_EQ(o.status, 2);
  EXPECT_NE(o.err.find("statically linked"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("--allow-static"), std::string::npos) << o.err;
  EXPECT_EQ(o.out, "");
  Outcome allowed = run({SEALKIT_BIN, "run", "--backend", "seccomp", "--allow-static", "--", STATIC_TARGET});
  EXPECT_EQ(allowed.status, 0);
  EXPECT_EQ(allowed.out, "static ok\n");
  EXPECT_NE(allowed.err.find("runs unsealed"), std::string::npos) << allowed.err;
}

// As env, sudo and timeout: the first word that is not one of sealkit's
// options (or an option's value) starts the program; `--` stays optional,
// and words after the program's name are its own, options included.
TEST(SealkitRun, TheFirstWordThatIsNotAnOptionStartsTheProgram) {
  Outcome plain = run({SEALKIT_BIN, "run", "/bin/ls", "-d", "/"});
  EXPECT_EQ(plain.status, 0) << plain.err;
  EXPECT_EQ(plain.out, "/\n");
  Outcome with_value = run({SEALKIT_BIN, "run", "--backend", "kernel", "/bin/ls", "-d", "/"});
  EXPECT_EQ(with_value.status, 0) << with_value.err;
  EXPECT_EQ(with_value.out, "/\n");
  Outcome joined = run({SEALKIT_BIN, "run", "--policy=dlopen=off", "/bin/echo", "--policy", "--", "x"});
  EXPECT_EQ(joined.status, 0) << joined.err;
  EXPECT_EQ(joined.out, "--policy -- x\n") << "the program's options are its own, even sealkit's names";
  Outcome separated = run({SEALKIT_BIN, "run", "--", "/bin/echo", "--backend"});
  EXPECT_EQ(separated.status, 0) << separated.err;
  EXPECT_EQ(separated.out, "--backend\n");
  Outcome unknown = run({SEALKIT_BIN, "run", "--no-such-option", "/bin/true"});
  EXPECT_EQ(unknown.status, 2) << "an unknown option before the program is a usage error, not a program";
  EXPECT_NE(unknown.err.find("--no-such-option"), std::string::npos) << unknown.err;
}

TEST(SealkitRun, UsageErrorsExitTwoWithAMessage) {
  Outcome none = run({SEALKIT_BIN, "run"});
  EXPECT_EQ(none.status, 2);
  EXPECT_NE(none.err.find("sealkit: error:"), std::string::npos);
  Outcome missing = run({SEALKIT_BIN, "run", "--", "sealkit-no-such-program"});
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.err.find("not found"), std::string::npos) << missing.err;
  Outcome bad_runtime = run({SEALKIT_BIN, "run", "--runtime", "/nonexistent.so", "--", "/bin/true"});
  EXPECT_EQ(bad_runtime.status, 2);
  EXPECT_NE(bad_runtime.err.find("/nonexistent.so"), std::string::npos) << bad_runtime.err;
}

// A relative SEALKIT_LOG is rejected inside the process with one warning, and
// the program runs normally.
TEST(Runtime, BadLogSettingWarnsOnceAndTheProgramRuns) {
  Outcome o = run({"/bin/echo", "hi"}, {std::string("LD_AUDIT=") + SEALKIT_RUNTIME, "SEALKIT_LOG=relative/path"});
  EXPECT_EQ(o.status, 0);
  EXPECT_EQ(o.out, "hi\n");
  EXPECT_EQ(o.err, "sealkit: warning: SEALKIT_LOG must be an absolute path shorter than 512 bytes; not logging\n");
}

// The configuration's exclude-object leaves exactly that object unsealed;
// exclude-program leaves the whole process alone.
TEST(SealkitRun, ConfigurationExclusionsLeaveExactlyWhatTheyName) {
  const std::string conf = testing::TempDir() + "/sealkit-run-exclude.conf";
  std::ofstream(conf) << "exclude-object = libc.so*\n";
  chmod(conf.c_str(), 0644);
  {
    Live l;
    start_live(l, {SEALKIT_BIN, "run", "--config", conf, "--", ATTACK_TARGET, "--wait"});
    std::size_t libc_open = 0, libc_sealed = 0, others_open = 0;
    for (const Vma& v : smaps_of(l.pid)) {
      if (!is_elf_object_path(v.path, ATTACK_TARGET)) continue;
      if (v.path.find("/libc.so") != std::string::npos) (v.sealed ? libc_sealed : libc_open)++;
      else if (!v.sealed) ++others_open;
    }
    EXPECT_GT(libc_open, 0u);
    EXPECT_EQ(libc_sealed, 0u);
    EXPECT_EQ(others_open, 0u);
  }
  std::ofstream(conf) << "exclude-program = " << ATTACK_TARGET << "\n";
  Live l;
  start_live(l, {SEALKIT_BIN, "run", "--config", conf, "--", ATTACK_TARGET, "--wait"});
  std::size_t sealed = 0;
  for (const Vma& v : smaps_of(l.pid)) sealed += v.sealed;
  EXPECT_EQ(sealed, 0u);
}

TEST(SealkitRun, AConfigurationOthersCanWriteIsRefusedUpFront) {
  const std::string conf = testing::TempDir() + "/sealkit-run-open.conf";
  std::ofstream(conf) << "dlopen = off\n";
  chmod(conf.c_str(), 0666);
  Outcome o = run({SEALKIT_BIN, "run", "--config", conf, "--", "/bin/true"});
  EXPECT_EQ(o.status, 2);
  EXPECT_NE(o.err.find("is writable by its group or by others (chmod go-w)"), std::string::npos) << o.err;
}

// GNU_PROPERTY_MEMORY_SEAL is reported in the log, and `sealkit check` (a
// separate reader, libelf on the file) agrees about the same binary.
TEST(SealkitRun, MemorySealPropertyIsReportedInTheLog) {
  for (const auto& [exe, expected] : {std::pair<std::string, int>{MEMORY_SEAL_TARGET, 1}, {ATTACK_TARGET, 0}}) {
    const std::string log = testing::TempDir() + "/sealkit-property.log";
    std::remove(log.c_str());
    Outcome o = run({SEALKIT_BIN, "run", "--log", log, "--", exe});
    ASSERT_EQ(o.status, 0) << o.err;
    std::ifstream in(log);
    std::string line;
    ASSERT_TRUE(std::getline(in, line));
    EXPECT_EQ(nlohmann::json::parse(line)["objects_memory_seal_property"], expected) << exe << ": " << line;
    Outcome check = run({SEALKIT_BIN, "check", "--json", exe});
    auto j = nlohmann::json::parse(check.out);
    const auto& file = j.is_array() ? j[0] : j["files"][0];
    EXPECT_EQ(file["memory_seal_property"].get<bool>(), expected == 1) << check.out;
  }
}

// PT_GNU_MUTABLE on a real binary (mutable_target: two pages declared
// mutable after linking): those pages stay unsealed and usable, the rest of
// the program is sealed, and sealkit check counts the same segment.
TEST(SealkitRun, GnuMutablePagesStayUnsealedAndTheRestIsSealed) {
  Outcome control = run({MUTABLE_TARGET});
  ASSERT_EQ(control.status, 0) << control.err;
  auto c = parse_report(control.out);
  EXPECT_EQ(c["mutable_mprotect"], "ok");
  EXPECT_EQ(c["ordinary_mprotect"], "ok");

  Live l;
  start_live(l, {SEALKIT_BIN, "run", "--", MUTABLE_TARGET, "--wait"});
  // The program's one VMA left unsealed must be the mutable area: 2 pages, rw.
  std::size_t sealed = 0;
  std::vector<Vma> open;
  for (const Vma& v : smaps_of(l.pid)) {
    if (v.path != MUTABLE_TARGET) continue;
    if (v.sealed) ++sealed;
    else open.push_back(v);
  }
  EXPECT_GE(sealed, 4u) << "rodata, text, RELRO, data";
  ASSERT_EQ(open.size(), 1u) << "exactly the mutable area is left open";
  EXPECT_EQ(open[0].end - open[0].begin, 2 * 4096u) << open[0].range();
  EXPECT_EQ(open[0].perms, "rw-p");

  Outcome check = run({SEALKIT_BIN, "check", "--json", MUTABLE_TARGET});
  auto j = nlohmann::json::parse(check.out)["files"][0];
  EXPECT_EQ(j["gnu_mutable_segments"], 1) << check.out;
  EXPECT_EQ(j["run_leaves_bytes"], 2 * 4096) << check.out;
}

TEST(SealkitRun, GnuMutableProgramCanStillChangeItsMutableArea) {
  Outcome o = run({SEALKIT_BIN, "run", "--", MUTABLE_TARGET});
  ASSERT_EQ(o.status, 0) << o.err;
  auto r = parse_report(o.out);
  EXPECT_EQ(r["mutable_mprotect"], "ok");
  EXPECT_EQ(r["ordinary_mprotect"], "EPERM");
}
