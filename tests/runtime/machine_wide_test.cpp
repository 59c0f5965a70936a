// Machine-wide deployment: the preload object named in /etc/ld.so.preload
// (with $LIB in its path, or by its bare soname through ld.so's cache), with
// no LD_AUDIT and no sealkit run. Done in a
// private mount namespace: an overlay over /etc holds this test's
// /etc/ld.so.preload and /etc/sealkit/runtime.conf, and a tmpfs holds the
// object and the setuid copies; the host's own files are never touched.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/live_process.hpp"
#include "runtime/private_mounts.hpp"
#include "runtime/subprocess.hpp"
#include "runtime/syslog_receiver.hpp"

namespace {

namespace fs = std::filesystem;
using sealkit::test::Live;
using sealkit::test::smaps_of;
using sealkit::test::Vma;

// The attack target's report (one "<attack> <result>" line each, eight of
// them): every attack refused, and nothing on stderr from ld.so or the runtime.
void expect_attacks_refused(const sealkit::test::Captured& o) {
  EXPECT_TRUE(o.err.empty()) << "ld.so or the runtime complained: " << o.err;
  std::istringstream in(o.out);
  std::string name, result;
  std::size_t n = 0;
  while (in >> name >> result) {
    ++n;
    // File-backed text may be discarded under the kernel's rules, sealed or not.
    if (name != "madvise_dontneed_program_text") {
      EXPECT_EQ(result, "EPERM") << name;
    }
  }
  EXPECT_EQ(n, 8u) << o.out;
}

// One SEALKIT_LOG line of the preload object's start-up pass that sealed everything.
void expect_everything_sealed_by_preload(const nlohmann::json& j) {
  EXPECT_EQ(j["injected_as"], "preload");
  EXPECT_EQ(j["mseal_failures"], 0);
  EXPECT_EQ(j["objects_sealed"].get<int>() + j["objects_skipped"].get<int>(), j["objects_seen"].get<int>()) << j;
  EXPECT_EQ(j["stack_sealed"], true);
}

class MachineWide : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!entered_) ready_ = enter_namespace();
    entered_ = true;
  }
  void SetUp() override {
    if (!ready_) GTEST_SKIP() << why_;
  }

  static bool fail(const std::string& what) {
    why_ = what + (errno ? std::string(": ") + std::strerror(errno) : std::string());
    return false;
  }

  // Installs sealkit into this namespace's /usr and switches it on exactly
  // as docs/runtime.md ("Machine-wide") says: `cmake --install --prefix
  // /usr`, `ldconfig`, the set-user-ID bit on each class's preload object,
  // and the line the install ships in /usr/share/sealkit/ld.so.preload.
  static bool enter_namespace() {
    std::string why;
    // /run and /dev too: the system log's stamp and socket (syslog_receiver.hpp).
    if (!sealkit::test::enter_private_mounts({"/etc", "/usr", "/run"}, dir_, why) ||
        !sealkit::test::SyslogReceiver::overlay_dev(dir_, why) || !log_.listen(why)) {
      why_ = why;
      return false;
    }
    errno = 0;
    // ldconfig's aux-cache: a tmpfs of this namespace, not the host's file.
    if (fs::is_directory("/var/cache/ldconfig") &&
        mount("sealkit-test", "/var/cache/ldconfig", "tmpfs", 0, "mode=0700") != 0)
      return fail("tmpfs on /var/cache/ldconfig");
    if (!install("/usr")) return false;
    lib_dir_ = "/usr/" SEALKIT_RUNTIME_LIBDIR "/sealkit";
    if (chmod((lib_dir_ + "/libsealkit-preload.so").c_str(), 04644) != 0) return fail("chmod u+s (64-bit)");
#ifdef SEALKIT_PRELOAD_I386
    // The 32-bit class is checked where the kernel executes 32-bit programs;
    // the 64-bit checks run either way.
    if (!sealkit::test::kernel_executes(ATTACK_TARGET_I386, why)) {
      why32_ = why;
    } else {
      lib32_dir_ = "/usr/" SEALKIT_RUNTIME_LIBDIR_I386 "/sealkit";
      if (chmod((lib32_dir_ + "/libsealkit-preload.so").c_str(), 04644) != 0) return fail("chmod u+s (32-bit)");
      target32_ = dir_ + "/attack_target_i386";
      suid_target32_ = dir_ + "/attack_target_i386_suid";
      fs::copy_file(ATTACK_TARGET_I386, target32_);
      fs::copy_file(ATTACK_TARGET_I386, suid_target32_);
      if (chown(suid_target32_.c_str(), 0, 0) != 0 || chmod(suid_target32_.c_str(), 04755) != 0)
        return fail("making a setuid copy (32-bit)");
    }
#else
    why32_ = "no i386 build of the preload object (configure says why: g++-multilib?)";
#endif
    auto cache = sealkit::test::run_captured({"ldconfig"});
    if (cache.status != 0) return fail("ldconfig: " + cache.err);
    shipped_line_ = read_file("/usr/share/sealkit/ld.so.preload");
    if (shipped_line_ != "libsealkit-preload.so\n") return fail("the installed ld.so.preload line: " + shipped_line_);
    std::ofstream("/etc/ld.so.preload") << shipped_line_;
    // Copies of the attack target: a setuid-root one, run by nobody (secure
    // execution), and one under a name the system configuration excludes.
    target_ = dir_ + "/attack_target";
    suid_target_ = dir_ + "/attack_target_suid";
    fs::copy_file(ATTACK_TARGET, target_);
    fs::copy_file(ATTACK_TARGET, suid_target_);
    if (chown(suid_target_.c_str(), 0, 0) != 0 || chmod(suid_target_.c_str(), 04755) != 0)
      return fail("making a setuid copy");
    fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
    return true;
  }

  // `cmake --install` of this build tree under `prefix`, in this namespace.
  static bool install(const std::string& prefix) {
    auto o = sealkit::test::run_captured({CMAKE_COMMAND, "--install", PROJECT_BINARY_DIR, "--prefix", prefix},
                                         {"DESTDIR="});
    if (o.status != 0) return fail("cmake --install --prefix " + prefix + ": " + o.err);
    return true;
  }

  // The program run by nobody: secure execution for a setuid one.
  static std::vector<std::string> as_nobody(const std::string& program) {
    return {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", program};
  }

  static std::string read_file(const std::string& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  // Object VMAs (the program, .so files) and system mappings: sealed or not.
  struct Tally {
    std::size_t sealed = 0, open = 0;
    std::string preload;  // where the preload object was mapped from
    std::string first_open;
  };
  static Tally tally(pid_t pid, const std::string& exe) {
    Tally t;
    for (const Vma& v : smaps_of(pid)) {
      const bool object = v.path == exe || v.path.find(".so") != std::string::npos;
      const bool system = v.path == "[vdso]" || v.path == "[vvar]" || v.path == "[vvar_vclock]" || v.path == "[stack]";
      if (!object && !system) continue;
      if (fs::path(v.path).filename() == "libsealkit-preload.so") t.preload = v.path;
      if (v.sealed) {
        ++t.sealed;
      } else {
        ++t.open;
        if (t.first_open.empty()) t.first_open = v.range() + " " + v.perms + " " + v.path;
      }
    }
    return t;
  }

  // Every object VMA and system mapping sealed, the preload object among them
  // (`lib` is the directory it was expected in).
  static void expect_fully_sealed(const Tally& t, const std::string& lib) {
    EXPECT_EQ(t.preload, lib + "/libsealkit-preload.so") << "ld.so did not load the object from " << lib;
    EXPECT_GE(t.sealed, 16u) << "program, libc, ld.so, the preload object, [vdso], [vvar], [stack]";
    EXPECT_EQ(t.open, 0u) << "first unsealed: " << t.first_open;
  }

  static inline sealkit::test::SyslogReceiver log_;  // this namespace's /dev/log
  static inline bool entered_ = false, ready_ = false;
  static inline std::string why_, dir_, lib_dir_, target_, suid_target_, shipped_line_;
  static inline std::string lib32_dir_, target32_, suid_target32_;  // empty when the 32-bit class is not checked
  static inline std::string why32_;                          // and why not
};

// The same deployment seen by 32-bit programs, where the kernel executes them
// (the 64-bit checks above run either way).
class MachineWideI386 : public MachineWide {
 protected:
  void SetUp() override {
    MachineWide::SetUp();
    if (!IsSkipped() && target32_.empty()) GTEST_SKIP() << why32_;
  }
};

TEST_F(MachineWide, EveryObjectOfAnUnmodifiedProgramIsSealed) {
  Live l;
  std::string why;
  ASSERT_TRUE(sealkit::test::start_live(l, {target_, "--wait"}, {}, why)) << why;
  const Tally t = tally(l.pid, target_);
  expect_fully_sealed(t, lib_dir_);
}

TEST_F(MachineWide, AttacksFailWithEperm) {
  auto o = sealkit::test::run_captured({target_});
  ASSERT_EQ(o.status, 0) << o.err;
  expect_attacks_refused(o);
}

// Secure execution with the shipped line: a setuid-root program started by
// nobody. ld.so looks a bare preload name up in its trusted directories only,
// never in its cache, and takes the file only if it has the set-user-ID bit
// (the enabling step in docs/runtime.md); then nothing on stderr and
// everything sealed, in both classes.
void expect_setuid_run_by_nobody_sealed(const std::vector<std::string>& argv) {
  auto o = sealkit::test::run_captured(argv);
  ASSERT_EQ(o.status, 0) << o.err;
  expect_attacks_refused(o);
}

TEST_F(MachineWide, SetuidProgramRunByNobodyIsSealedWithTheShippedLine) {
  expect_setuid_run_by_nobody_sealed(as_nobody(suid_target_));
  Live l;
  std::string why;
  ASSERT_TRUE(sealkit::test::start_live(l, {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                            suid_target_, "--wait"}, {}, why)) << why;
  expect_fully_sealed(tally(l.pid, suid_target_), lib_dir_);
}

TEST_F(MachineWideI386, ASetuid32BitProgramRunByNobodyIsSealedWithTheShippedLine) {
  expect_setuid_run_by_nobody_sealed(as_nobody(suid_target32_));
  Live l;
  std::string why;
  ASSERT_TRUE(sealkit::test::start_live(l, {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                            suid_target32_, "--wait"}, {}, why)) << why;
  expect_fully_sealed(tally(l.pid, suid_target32_), lib32_dir_);
}

// Why the enabling step sets that bit: without it ld.so skips the object in
// secure execution, says so on the program's stderr, and the program runs
// unsealed. (A check of glibc's rule, so that a change in it is noticed.)
TEST_F(MachineWide, WithoutTheSetUserIdBitLdSoSkipsTheObjectInSecureExecution) {
  const std::string object = lib_dir_ + "/libsealkit-preload.so";
  ASSERT_EQ(chmod(object.c_str(), 0644), 0) << std::strerror(errno);
  auto o = sealkit::test::run_captured(as_nobody(suid_target_));
  auto plain = sealkit::test::run_captured({target_});
  ASSERT_EQ(chmod(object.c_str(), 04644), 0) << std::strerror(errno);
  EXPECT_NE(o.err.find("cannot be preloaded"), std::string::npos) << o.err;
  EXPECT_NE(o.out.find("mprotect_program_text ok"), std::string::npos) << o.out;
  EXPECT_EQ(plain.err, "") << "outside secure execution the cache finds it either way";
  expect_attacks_refused(plain);
}

// The line a prefix other than /usr ships: the objects named through $LIB
// (no trusted directory to find a bare name in). Setuid programs too.
TEST_F(MachineWide, TheLineOfAnotherPrefixNamesTheObjectsThroughLib) {
  const std::string prefix = dir_ + "/opt";
  ASSERT_TRUE(install(prefix)) << why_;
  const std::string line = read_file(prefix + "/share/sealkit/ld.so.preload");
  EXPECT_EQ(line, prefix + "/$LIB/sealkit/libsealkit-preload.so\n");
  std::ofstream("/etc/ld.so.preload") << line;
  {
    Live l;
    std::string why;
    ASSERT_TRUE(sealkit::test::start_live(l, {target_, "--wait"}, {}, why)) << why;
    expect_fully_sealed(tally(l.pid, target_), prefix + "/" SEALKIT_RUNTIME_LIBDIR "/sealkit");
  }
  expect_setuid_run_by_nobody_sealed(as_nobody(suid_target_));
  std::ofstream("/etc/ld.so.preload") << shipped_line_;
}

TEST_F(MachineWide, TheLogSaysPreloadAndEveryObjectWasSealed) {
  const std::string log = dir_ + "/plain.log";
  auto o = sealkit::test::run_captured({target_}, {"SEALKIT_LOG=" + log});
  ASSERT_EQ(o.status, 0) << o.err;
  std::istringstream lines(read_file(log));
  std::string line;
  std::size_t n = 0;
  while (std::getline(lines, line)) {
    ++n;
    expect_everything_sealed_by_preload(nlohmann::json::parse(line));
  }
  EXPECT_EQ(n, 1u);
}

// Secure execution: a setuid program started by an ordinary user. ld.so
// still loads /etc/ld.so.preload objects; the runtime must ignore the
// environment (SEALKIT_LOG, SEALKIT_CONFIG) and seal.
TEST_F(MachineWide, SetuidProgramIsSealedAndIgnoresTheEnvironment) {
  const std::string conf = dir_ + "/exclude-everything.conf";
  std::ofstream(conf) << "exclude-program = attack_target_suid\nexclude-program = attack_target\n";
  const std::string log = dir_ + "/suid.log";
  const std::vector<std::string> env = {"SEALKIT_LOG=" + log, "SEALKIT_CONFIG=" + conf};
  {
    Live l;
    std::string why;
    ASSERT_TRUE(sealkit::test::start_live(
        l, {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", suid_target_, "--wait"}, env, why))
        << why;
    const Tally t = tally(l.pid, suid_target_);
    expect_fully_sealed(t, lib_dir_);
    EXPECT_NE(read_file("/proc/" + std::to_string(l.pid) + "/status").find("Uid:\t65534\t0\t"), std::string::npos)
        << "not really setuid?";
  }
  // setpriv (not setuid, the same pid before it execs) logs; the setuid program,
  // same environment, must not.
  std::istringstream lines(read_file(log));
  std::string line;
  std::vector<std::string> exes;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line);
    EXPECT_NE(j["exe"], suid_target_) << "SEALKIT_LOG was honoured in secure execution: " << line;
    exes.push_back(j["exe"]);
  }
  EXPECT_EQ(exes, (std::vector<std::string>{"/usr/bin/setpriv"})) << "the control: setpriv logs";

  // The control: the same environment without secure execution is honoured
  // where it may be (the log is written), and the user's exclusions are not:
  // under the machine-wide preload they cannot lower what the machine seals.
  {
    Live l;
    std::string why;
    ASSERT_TRUE(sealkit::test::start_live(l, {target_, "--wait"}, env, why)) << why;
    expect_fully_sealed(tally(l.pid, target_), lib_dir_);
  }
  std::istringstream after(read_file(log));
  std::size_t target_lines = 0;
  while (std::getline(after, line)) target_lines += nlohmann::json::parse(line)["exe"] == target_;
  EXPECT_EQ(target_lines, 1u) << "SEALKIT_LOG is honoured outside secure execution";
}

// Machine-wide, with no /etc/sealkit/runtime.conf at all: a user's
// SEALKIT_CONFIG still cannot exclude anything (`exclude-program = /*` would be
// every program), nor SEALKIT_DLOPEN lower the policy. One warning each, in
// the system log (the program's stderr stays its own).
TEST_F(MachineWide, AUserFileCannotExcludeUnderTheMachineWidePreload) {
  ASSERT_FALSE(fs::exists("/etc/sealkit/runtime.conf"));
  const std::string conf = dir_ + "/exclude-all.conf";
  std::ofstream(conf) << "exclude-program = /*\n";
  chmod(conf.c_str(), 0644);
  log_.take();
  auto o = sealkit::test::run_captured({target_}, {"SEALKIT_CONFIG=" + conf});
  ASSERT_EQ(o.status, 0) << o.err;
  expect_attacks_refused(o);
  const auto said = log_.take();
  ASSERT_EQ(said.size(), 1u);
  EXPECT_NE(said[0].find("]: " + conf +
                         ":1: exclude-program is taken only from /etc/sealkit/runtime.conf where an administrator's "
                         "file exists or /etc/ld.so.preload seals every process; line ignored"),
            std::string::npos)
      << said[0];
  EXPECT_EQ(said[0].rfind("<12>sealkit[", 0), 0u) << said[0];
  Live l;
  std::string why;
  ASSERT_TRUE(sealkit::test::start_live(l, {target_, "--wait"}, {"SEALKIT_CONFIG=" + conf}, why)) << why;
  expect_fully_sealed(tally(l.pid, target_), lib_dir_);
}

// An excluded program is left alone, and the log says so, as docs/runtime.md
// says: one line with "program_excluded":true, written by the preload object.
TEST_F(MachineWide, AnExcludedProgramIsLogged) {
  fs::create_directories("/etc/sealkit");
  std::ofstream("/etc/sealkit/runtime.conf") << "exclude-program = attack_target\n";
  chmod("/etc/sealkit/runtime.conf", 0644);
  const std::string log = dir_ + "/excluded.log";
  auto o = sealkit::test::run_captured({target_}, {"SEALKIT_LOG=" + log});
  fs::remove("/etc/sealkit/runtime.conf");
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_NE(o.out.find("mprotect_program_text ok"), std::string::npos) << "excluded: nothing sealed: " << o.out;
  std::istringstream lines(read_file(log));
  std::string line;
  std::vector<nlohmann::json> got;
  while (std::getline(lines, line)) got.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(got.size(), 1u) << read_file(log);
  EXPECT_EQ(got[0]["exe"], target_);
  EXPECT_EQ(got[0]["injected_as"], "preload");
  EXPECT_EQ(got[0]["program_excluded"], true);
  EXPECT_EQ(got[0]["config"], "loaded");
  EXPECT_EQ(got[0]["objects_sealed"], 0);
  EXPECT_EQ(got[0]["mseal_calls"], 0);
}

TEST_F(MachineWide, TheSystemConfigurationIsReadInSecureExecutionToo) {
  fs::create_directories("/etc/sealkit");
  std::ofstream("/etc/sealkit/runtime.conf") << "exclude-program = attack_target_suid\n";
  chmod("/etc/sealkit/runtime.conf", 0644);
  Live l;
  std::string why;
  ASSERT_TRUE(sealkit::test::start_live(
      l, {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", suid_target_, "--wait"}, {}, why))
      << why;
  const Tally excluded = tally(l.pid, suid_target_);
  Live other;
  ASSERT_TRUE(sealkit::test::start_live(other, {target_, "--wait"}, {}, why)) << why;
  const Tally sealed = tally(other.pid, target_);
  fs::remove("/etc/sealkit/runtime.conf");
  EXPECT_EQ(excluded.sealed, 0u) << "exclude-program in the system file applies to setuid programs";
  EXPECT_EQ(sealed.open, 0u) << "other programs are still sealed: " << sealed.first_open;
}

// sealkit run on a machine that already preloads the object machine-wide:
// the audit module seals, the preloaded copy notices and does not again.
TEST_F(MachineWide, SealkitRunOnTopLogsOnceAsAudit) {
  const std::string log = dir_ + "/run.log";
  // /etc/ld.so.preload reaches the sealkit binary itself too, which in the
  // sanitizer build wants its ASan runtime first in the list: tell it that
  // the preloaded object (no malloc of its own) is fine ahead of it.
  auto o = sealkit::test::run_captured({SEALKIT_BIN, "run", "--log", log, "--", target_},
                                       {sealkit::test::asan_options_with("verify_asan_link_order=0")});
  ASSERT_EQ(o.status, 0) << o.err;
  std::istringstream lines(read_file(log));
  std::string line;
  std::vector<std::string> modes;
  while (std::getline(lines, line)) modes.push_back(nlohmann::json::parse(line)["injected_as"]);
  EXPECT_EQ(modes, (std::vector<std::string>{"audit"}));
}

// A 32-bit program on the same machine: ld.so (32-bit) expands the same line's
// $LIB to its own directory and finds the i386 build there.
TEST_F(MachineWideI386, A32BitProgramFindsTheI386ObjectAndIsSealed) {
  {
    Live l;
    std::string why;
    ASSERT_TRUE(sealkit::test::start_live(l, {target32_, "--wait"}, {}, why)) << why;
    const Tally t = tally(l.pid, target32_);
    expect_fully_sealed(t, lib32_dir_);
  }
  const std::string log = dir_ + "/i386.log";
  auto o = sealkit::test::run_captured({target32_}, {"SEALKIT_LOG=" + log});
  ASSERT_EQ(o.status, 0) << o.err;
  expect_attacks_refused(o);
  expect_everything_sealed_by_preload(nlohmann::json::parse(read_file(log)));
}

}  // namespace
