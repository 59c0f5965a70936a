// The dlopen wrapper must not change which object a dlopen finds: glibc
// resolves "$ORIGIN", DT_RUNPATH and secure execution's rules from the
// calling object, and the wrapper stands between that object and glibc
// (src/runtime/preload/as_caller.hpp). Each case runs origin_host without
// sealkit and with it, and expects the same plugin, sealed.
//
// The attack: a setuid-root program in a trusted library directory that
// loads "$ORIGIN/plugin.so", started by nobody with an argv[0] in a directory
// nobody controls (bash's `exec -a`). glibc takes $ORIGIN from the kernel's
// record of the executable, never from argv[0].
#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/private_mounts.hpp"
#include "runtime/subprocess.hpp"

namespace {

namespace fs = std::filesystem;
using sealkit::test::run_captured;

constexpr const char* kPluginName = "libsealkit_origin_plugin.so";

// A directory that holds the host program and the legitimate plugin, and
// one that holds the attacker's plugin under the same name.
struct Layout {
  fs::path base, legit_dir, evil_dir;
  explicit Layout(const fs::path& under) : base(under) {
    legit_dir = base / "app";
    evil_dir = base / "evil";
    fs::create_directories(legit_dir);
    fs::create_directories(evil_dir);
    fs::copy_file(ORIGIN_HOST, legit_dir / "origin_host", fs::copy_options::overwrite_existing);
    fs::copy_file(ORIGIN_PLUGIN_LEGIT, legit_dir / kPluginName, fs::copy_options::overwrite_existing);
    fs::copy_file(ORIGIN_PLUGIN_EVIL, evil_dir / kPluginName, fs::copy_options::overwrite_existing);
    for (const fs::path& p : {base, legit_dir, evil_dir}) chmod(p.c_str(), 0755);
  }
};

class DlopenAsCaller : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sealkit-origin-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  static std::vector<std::string> sealkit_run(std::vector<std::string> argv) {
    argv.insert(argv.begin(), {SEALKIT_BIN, "run", "--"});
    return argv;
  }
  fs::path dir_;
};

// A symbolic link to the program in another directory: $ORIGIN is the
// directory of the program's file, not of the link.
TEST_F(DlopenAsCaller, ASymlinkedProgramLoadsThePluginBesideItsFile) {
  Layout l(dir_);
  const fs::path link = l.evil_dir / "origin_host";
  fs::create_symlink(l.legit_dir / "origin_host", link);
  const auto plain = run_captured({link.string()});
  ASSERT_EQ(plain.out, "loaded legit open\n") << "the control, without sealkit: " << plain.err;
  const auto sealed = run_captured(sealkit_run({link.string()}));
  EXPECT_EQ(sealed.status, 0) << sealed.err;
  EXPECT_EQ(sealed.out, "loaded legit sealed\n") << sealed.err;
}

// A program found through PATH: argv[0] has no directory at all.
TEST_F(DlopenAsCaller, AProgramFoundThroughPathLoadsThePluginBesideIt) {
  Layout l(dir_);
  const std::string path = "PATH=" + l.legit_dir.string() + ":/usr/bin:/bin";
  const auto plain = run_captured({"env", path, "origin_host"});
  ASSERT_EQ(plain.out, "loaded legit open\n") << "the control, without sealkit: " << plain.err;
  const auto sealed = run_captured({"env", path, SEALKIT_BIN, "run", "--", "origin_host"});
  EXPECT_EQ(sealed.status, 0) << sealed.err;
  EXPECT_EQ(sealed.out, "loaded legit sealed\n") << sealed.err;
}

// An argv[0] that names the attacker's directory, under `sealkit run`.
TEST_F(DlopenAsCaller, Argv0DoesNotChooseTheOrigin) {
  Layout l(dir_);
  const std::string fake = (l.evil_dir / "x").string();
  const std::string host = (l.legit_dir / "origin_host").string();
  const auto plain = run_captured({"bash", "-c", "exec -a \"$0\" \"$1\"", fake, host});
  ASSERT_EQ(plain.out, "loaded legit open\n") << "the control, without sealkit: " << plain.err;
  const auto sealed = run_captured(sealkit_run({"bash", "-c", "exec -a \"$0\" \"$1\"", fake, host}));
  EXPECT_EQ(sealed.status, 0) << sealed.err;
  EXPECT_EQ(sealed.out, "loaded legit sealed\n") << sealed.err;
}

// A name the program's own DT_RUNPATH ($ORIGIN/plugins) finds, and one it
// does not: the same answer with and without the wrapper.
TEST_F(DlopenAsCaller, TheProgramsOwnRunpathFindsWhatItFindsWithoutSealkit) {
  Layout l(dir_);
  fs::create_directories(l.legit_dir / "plugins");
  fs::copy_file(ORIGIN_PLUGIN_LEGIT, l.legit_dir / "plugins" / kPluginName);
  fs::copy_file(ORIGIN_HOST_RUNPATH, l.legit_dir / "origin_host_runpath");
  const std::string host = (l.legit_dir / "origin_host_runpath").string();
  const auto plain = run_captured({host, kPluginName});
  ASSERT_EQ(plain.out, "loaded legit open\n") << "the control, without sealkit: " << plain.err;
  const auto sealed = run_captured(sealkit_run({host, kPluginName}));
  EXPECT_EQ(sealed.out, "loaded legit sealed\n") << sealed.err;
  const auto missing_plain = run_captured({host, "libsealkit_no_such_plugin.so"});
  const auto missing = run_captured(sealkit_run({host, "libsealkit_no_such_plugin.so"}));
  EXPECT_EQ(missing.out, missing_plain.out) << "dlerror() as without sealkit";
}

// Machine-wide (/etc/ld.so.preload), in a private mount namespace: a
// setuid-root copy of the host in ld.so's trusted directory, where secure
// execution allows "$ORIGIN", run by nobody with argv[0] in the attacker's
// directory.
class DlopenAsCallerMachineWide : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Dl_info info{};
    if (!dladdr(reinterpret_cast<void*>(&::strlen), &info) || !info.dli_fname) {
      why_ = "cannot tell libc's directory";
      return;
    }
    trusted_ = fs::path(info.dli_fname).parent_path().string();  // e.g. /usr/lib/x86_64-linux-gnu
    if (!sealkit::test::enter_private_mounts({"/etc", trusted_}, scratch_, why_)) return;
    ready_ = true;
  }
  void SetUp() override {
    if (!ready_) GTEST_SKIP() << why_;
  }

  static inline bool ready_ = false;
  static inline std::string why_, trusted_, scratch_;
};

TEST_F(DlopenAsCallerMachineWide, SetuidProgramStartedByNobodyWithAForgedArgv0LoadsTheLegitimatePlugin) {
  Layout l(scratch_);
  const std::string host = trusted_ + "/sealkit-test-origin-host";
  fs::copy_file(ORIGIN_HOST, host, fs::copy_options::overwrite_existing);
  fs::copy_file(ORIGIN_PLUGIN_LEGIT, trusted_ + "/" + kPluginName, fs::copy_options::overwrite_existing);
  ASSERT_EQ(chown(host.c_str(), 0, 0), 0);
  ASSERT_EQ(chmod(host.c_str(), 04755), 0);
  const std::string fake = (l.evil_dir / "x").string();
  const std::vector<std::string> as_nobody = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                              "bash",    "-c",             "exec -a \"$0\" \"$1\"", fake, host};
  std::ofstream("/etc/ld.so.preload", std::ios::trunc).close();
  const auto plain = run_captured(as_nobody);
  ASSERT_EQ(plain.out, "loaded legit open\n") << "the control, without sealkit: " << plain.err;

  const fs::path lib = l.base / "lib" / "sealkit";
  fs::create_directories(lib);
  fs::copy_file(SEALKIT_PRELOAD, lib / "libsealkit-preload.so");
  std::ofstream("/etc/ld.so.preload") << (lib / "libsealkit-preload.so").string() << "\n";
  const auto sealed = run_captured(as_nobody);
  std::ofstream("/etc/ld.so.preload", std::ios::trunc).close();
  EXPECT_EQ(sealed.out, "loaded legit sealed\n") << sealed.err;
  EXPECT_EQ(sealed.err, "");
}

}  // namespace
