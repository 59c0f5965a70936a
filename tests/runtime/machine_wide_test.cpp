// Machine-wide deployment: the preload object named in /etc/ld.so.preload
// (with $LIB in its path, or by its bare soname through ld.so's cache), with
// no LD_AUDIT and no sealkit run. Done in a
// private mount namespace: an overlay over /etc holds this test's
// /etc/ld.so.preload and /etc/sealkit/runtime.conf, and a tmpfs holds the
// object and the setuid copies; the host's own files are never touched.
#include <dlfcn.h>
#include <link.h>
#include <sched.h>
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
#include "runtime/subprocess.hpp"

namespace {

namespace fs = std::filesystem;
using sealkit::test::Live;
using sealkit::test::smaps_of;
using sealkit::test::Vma;

// ld.so's $LIB: the directory of libc relative to the root or /usr (glibc
// defines it as the directory it installs libc into: lib/x86_64-linux-gnu on
// Debian, lib64 on Fedora). Whether it is right is checked below: the object
// must appear in the processes' maps.
std::string ld_so_lib() {
  Dl_info info{};
  if (!dladdr(reinterpret_cast<void*>(&::strlen), &info) || !info.dli_fname) return "lib";
  std::string dir = fs::path(info.dli_fname).parent_path().string();
  for (const char* prefix : {"/usr/", "/"})
    if (dir.rfind(prefix, 0) == 0) return dir.substr(std::strlen(prefix));
  return dir;
}

// The same for 32-bit programs: the directory of the libc a running 32-bit
// program mapped (Debian amd64: /usr/lib32, so $LIB is "lib32" there, not
// lib/i386-linux-gnu as on an i386 system). Empty when it cannot be told.
std::string ld_so_lib_of(pid_t pid) {
  for (const Vma& v : smaps_of(pid)) {
    const fs::path p(v.path);
    if (p.filename() != "libc.so.6") continue;
    std::string dir = p.parent_path().string();
    for (const char* prefix : {"/usr/", "/"})
      if (dir.rfind(prefix, 0) == 0) return dir.substr(std::strlen(prefix));
  }
  return {};
}

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

  static bool enter_namespace() {
    if (geteuid() != 0) {
      why_ = "needs root: a private mount namespace, an overlay on /etc and setuid files";
      return false;
    }
    errno = 0;
    if (unshare(CLONE_NEWNS) != 0) return fail("unshare(CLONE_NEWNS)");
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return fail("making / private");
    char tmpl[] = "/tmp/sealkit-machine-wide-XXXXXX";
    if (!mkdtemp(tmpl)) return fail("mkdtemp");
    dir_ = tmpl;
    // Everything below lives in this namespace only and is gone with it.
    if (mount("sealkit-test", dir_.c_str(), "tmpfs", 0, "mode=0755") != 0) return fail("tmpfs on " + dir_);
    fs::create_directories(dir_ + "/upper");
    fs::create_directories(dir_ + "/work");
    const std::string opts = "lowerdir=/etc,upperdir=" + dir_ + "/upper,workdir=" + dir_ + "/work";
    if (mount("overlay", "/etc", "overlay", 0, opts.c_str()) != 0) return fail("overlay on /etc");
    lib_dir_ = dir_ + "/" + ld_so_lib() + "/sealkit";
    fs::create_directories(lib_dir_);
    fs::copy_file(SEALKIT_PRELOAD, lib_dir_ + "/libsealkit-preload.so");
#ifdef SEALKIT_PRELOAD_I386
    // The 32-bit class is checked where the kernel executes 32-bit programs;
    // the 64-bit checks run either way.
    if (std::string why; !sealkit::test::kernel_executes(ATTACK_TARGET_I386, why)) {
      why32_ = why;
    } else {
      // Where a 32-bit ld.so's $LIB points, read from a 32-bit program before
      // the preload line exists.
      Live l;
      if (!sealkit::test::start_live(l, {ATTACK_TARGET_I386, "--wait"}, {}, why)) return fail("32-bit target: " + why);
      lib32_ = ld_so_lib_of(l.pid);
      if (lib32_.empty()) return fail("no libc.so.6 in the 32-bit target's maps");
      lib32_dir_ = dir_ + "/" + lib32_ + "/sealkit";
      fs::create_directories(lib32_dir_);
      fs::copy_file(SEALKIT_PRELOAD_I386, lib32_dir_ + "/libsealkit-preload.so");
      target32_ = dir_ + "/attack_target_i386";
      fs::copy_file(ATTACK_TARGET_I386, target32_);
    }
#else
    why32_ = "no i386 build of the preload object (configure says why: g++-multilib?)";
#endif
    std::ofstream("/etc/ld.so.preload") << dir_ << "/$LIB/sealkit/libsealkit-preload.so\n";
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

  static std::string read_file(const std::string& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  // Object VMAs (the program, .so files) and system mappings: sealed or not.
  struct Tally {
    std::size_t sealed = 0, open = 0;
    bool preload_mapped = false;
    std::string first_open;
  };
  static Tally tally(pid_t pid, const std::string& exe) {
    Tally t;
    for (const Vma& v : smaps_of(pid)) {
      const bool object = v.path == exe || v.path.find(".so") != std::string::npos;
      const bool system = v.path == "[vdso]" || v.path == "[vvar]" || v.path == "[vvar_vclock]" || v.path == "[stack]";
      if (!object && !system) continue;
      if (v.path == lib_dir_ + "/libsealkit-preload.so" ||
          (!lib32_dir_.empty() && v.path == lib32_dir_ + "/libsealkit-preload.so"))
        t.preload_mapped = true;
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
    EXPECT_TRUE(t.preload_mapped) << "ld.so did not load " << lib << "/libsealkit-preload.so: is $LIB right?";
    EXPECT_GE(t.sealed, 16u) << "program, libc, ld.so, the preload object, [vdso], [vvar], [stack]";
    EXPECT_EQ(t.open, 0u) << "first unsealed: " << t.first_open;
  }

  // The bare soname in /etc/ld.so.preload, with the object's directories in
  // ld.so's cache (`ldconfig`; one entry per class under one name): `target`
  // maps the object from `lib` and is sealed.
  static void check_bare_soname(const std::string& target, const std::string& lib) {
    // ldconfig writes /etc/ld.so.cache (the overlay's) and its aux-cache in
    // /var/cache/ldconfig: a tmpfs of this namespace, not the host's file.
    ASSERT_EQ(mount("sealkit-test", "/var/cache/ldconfig", "tmpfs", 0, "mode=0700"), 0) << std::strerror(errno);
    std::ofstream conf("/etc/ld.so.conf.d/zz-sealkit-test.conf");
    conf << lib_dir_ << "\n";
    if (!lib32_dir_.empty()) conf << lib32_dir_ << "\n";
    conf.close();
    auto cache = sealkit::test::run_captured({"ldconfig", "-X"});
    ASSERT_EQ(cache.status, 0) << cache.err;
    const std::string dollar_lib_line = read_file("/etc/ld.so.preload");
    std::ofstream("/etc/ld.so.preload") << "libsealkit-preload.so\n";
    {
      Live l;
      std::string why;
      ASSERT_TRUE(sealkit::test::start_live(l, {target, "--wait"}, {}, why)) << why;
      expect_fully_sealed(tally(l.pid, target), lib);
    }
    auto o = sealkit::test::run_captured({target});
    EXPECT_EQ(o.status, 0) << o.err;
    expect_attacks_refused(o);
    std::ofstream("/etc/ld.so.preload") << dollar_lib_line;
  }

  static inline bool entered_ = false, ready_ = false;
  static inline std::string why_, dir_, lib_dir_, target_, suid_target_;
  static inline std::string lib32_, lib32_dir_, target32_;  // empty when the 32-bit class is not checked
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

// The other documented line: the bare soname, found by ld.so in its cache,
// which the directories of the installed ld.so.conf.d file put there
// (`ldconfig`; a 64-bit and a 32-bit entry under one name). No $ token, so
// no readlink of /proc/self/exe in every process (docs/runtime.md).
TEST_F(MachineWide, TheBareSonameFromLdSoCacheIsSealed) { check_bare_soname(target_, lib_dir_); }
TEST_F(MachineWideI386, TheBareSonameFromLdSoCacheFindsTheI386Object) { check_bare_soname(target32_, lib32_dir_); }

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
  // (the program is excluded, nothing sealed, and the log written).
  Live l;
  std::string why;
  ASSERT_TRUE(sealkit::test::start_live(l, {target_, "--wait"}, env, why)) << why;
  const Tally t = tally(l.pid, target_);
  EXPECT_EQ(t.sealed, 0u);
  EXPECT_GT(t.open, 0u);
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
