// The administrator's /etc/sealkit/runtime.conf against the environment and a
// user's SEALKIT_CONFIG (docs/runtime.md, "Configuration"): they may only seal
// more than it says, and it is read only when its whole path is root's.
// Done in a private mount namespace (root only): an overlay over /etc holds
// this test's system file; the host's /etc is never touched. The programs run
// under `sealkit run` from the build tree, as a user would run them.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/private_mounts.hpp"
#include "runtime/subprocess.hpp"

namespace {

namespace fs = std::filesystem;
using sealkit::test::Captured;

constexpr const char* kSystemFile = "/etc/sealkit/runtime.conf";

std::map<std::string, std::string> report_lines(const std::string& out) {
  std::map<std::string, std::string> m;
  std::istringstream in(out);
  std::string name, result;
  while (in >> name && std::getline(in >> std::ws, result)) m[name] = result;
  return m;
}

// The attack target's eight attacks all refused: everything it attacks is sealed.
void expect_sealed(const Captured& o) {
  ASSERT_EQ(o.status, 0) << o.err;
  const auto r = report_lines(o.out);
  EXPECT_EQ(r.size(), 8u) << o.out;
  for (const auto& [attack, result] : r) {
    if (attack != "madvise_dontneed_program_text") {
      EXPECT_EQ(result, "EPERM") << attack;
    }
  }
}

void expect_unsealed(const Captured& o) {
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(report_lines(o.out)["mprotect_program_text"], "ok") << o.out;
}

class AdministratorConfig : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string why;
    if (!sealkit::test::enter_private_mounts({"/etc"}, dir_, why)) {
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
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all("/etc/sealkit", ec);
    fs::remove_all("/etc/sealkit-real", ec);
  }

  static void write(const std::string& path, const std::string& text, mode_t mode = 0644) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path) << text;
    chmod(path.c_str(), mode);
  }
  static void write_system_file(const std::string& text) {
    write(kSystemFile, text);
    chmod("/etc/sealkit", 0755);
  }
  // A user's configuration in this test's scratch directory (root's, 0755).
  static std::string user_file(const std::string& name, const std::string& text) {
    const std::string p = dir_ + "/" + name;
    write(p, text);
    return p;
  }
  static Captured sealkit_run(const std::vector<std::string>& options, const std::vector<std::string>& command,
                              const std::vector<std::string>& env = {}) {
    std::vector<std::string> argv{SEALKIT_BIN, "run"};
    argv.insert(argv.end(), options.begin(), options.end());
    argv.push_back("--");
    argv.insert(argv.end(), command.begin(), command.end());
    return sealkit::test::run_captured(argv, env);
  }

  static inline bool ready_ = false;
  static inline std::string why_, dir_;
};

// A user's file cannot exclude what the administrator's file seals: with
// `exclude-program = /*` (every program) and an exclude-object, under a system
// file that excludes nothing, the program is still sealed, and each line is
// refused with a warning. Without the system file the same user file is
// honoured (the user chose to inject the runtime; nobody decided otherwise).
TEST_F(AdministratorConfig, AUserFileCannotExcludeWhatTheSystemFileSeals) {
  const std::string user = user_file("exclude-all.conf", "exclude-program = /*\nexclude-object = libc.so*\n");
  const std::string user_program = user_file("exclude-this.conf", std::string("exclude-program = ") + ATTACK_TARGET + "\n");
  write_system_file("dlopen = promote\n");
  Captured o = sealkit_run({"--config", user}, {ATTACK_TARGET});
  expect_sealed(o);
  EXPECT_NE(o.err.find(user + ":1: exclude-program is taken only from /etc/sealkit/runtime.conf"), std::string::npos)
      << o.err;
  EXPECT_NE(o.err.find(user + ":2: exclude-object is taken only from"), std::string::npos) << o.err;
  // SEALKIT_CONFIG set by hand, and a pattern naming the program itself: the same.
  expect_sealed(sealkit_run({}, {ATTACK_TARGET}, {"SEALKIT_CONFIG=" + user_program}));
  // An empty system file is a decision too.
  write_system_file("");
  expect_sealed(sealkit_run({"--config", user_program}, {ATTACK_TARGET}));

  // The control: no administrator's file, no machine-wide preload.
  fs::remove_all("/etc/sealkit");
  Captured free = sealkit_run({"--config", user_program}, {ATTACK_TARGET});
  expect_unsealed(free);
  EXPECT_EQ(free.err, "");
}

// SEALKIT_DLOPEN (and `sealkit run --policy dlopen=`, which sets it, and a
// user file's `dlopen =`) may pick a policy that seals at least as much as the
// system file's, never less: under `dlopen = promote` an object loaded later
// with a plain dlopen is still sealed, with one warning saying why.
TEST_F(AdministratorConfig, SealkitDlopenCannotLowerTheSystemPolicy) {
  const std::vector<std::string> command{DLOPEN_TARGET, "open", "plain", "now", DLOPEN_LIB, "sealkit_test_value"};
  write_system_file("dlopen = promote\n");
  Captured env = sealkit_run({}, command, {"SEALKIT_DLOPEN=off"});
  ASSERT_EQ(env.status, 0) << env.err;
  EXPECT_EQ(report_lines(env.out)["plain"], "sealed") << env.out;
  EXPECT_EQ(env.err,
            "sealkit: warning: SEALKIT_DLOPEN=off would seal less than the administrator's dlopen = promote "
            "(/etc/sealkit/runtime.conf or its default); using promote\n");
  Captured option = sealkit_run({"--policy", "dlopen=nodelete"}, command);
  EXPECT_EQ(report_lines(option.out)["plain"], "sealed") << option.out << option.err;
  const std::string user = user_file("off.conf", "dlopen = off\n");
  Captured file = sealkit_run({"--config", user}, command);
  EXPECT_EQ(report_lines(file.out)["plain"], "sealed") << file.out << file.err;
  EXPECT_NE(file.err.find(user + ":1: dlopen = off would seal less than the administrator's dlopen = promote"),
            std::string::npos)
      << file.err;

  // Sealing more than the system file is allowed: nodelete there, promote here.
  write_system_file("dlopen = nodelete\n");
  Captured more = sealkit_run({"--policy", "dlopen=promote"}, command);
  EXPECT_EQ(report_lines(more.out)["plain"], "sealed") << more.out << more.err;
  EXPECT_EQ(more.err, "");
  Captured system_only = sealkit_run({}, command);
  EXPECT_EQ(report_lines(system_only.out)["plain"], "open") << "the control: nodelete leaves a plain dlopen open";

  // Without an administrator's file the user's choice stands.
  fs::remove_all("/etc/sealkit");
  Captured free = sealkit_run({}, command, {"SEALKIT_DLOPEN=off"});
  EXPECT_EQ(report_lines(free.out)["plain"], "open") << free.out << free.err;
}

// The system file is read only when no link and no directory someone else can
// write to stands between / and it. Otherwise it is ignored with one warning,
// and the defaults apply (everything sealed), which the environment still
// cannot lower.
TEST_F(AdministratorConfig, ASymlinkedOrGroupWritableSystemPathIsIgnoredWithAWarning) {
  const std::string exclude = std::string("exclude-program = ") + ATTACK_TARGET + "\n";
  // /etc/sealkit -> /etc/sealkit-real: the kernel would follow it.
  write("/etc/sealkit-real/runtime.conf", exclude);
  chmod("/etc/sealkit-real", 0755);
  fs::create_directory_symlink("/etc/sealkit-real", "/etc/sealkit");
  Captured linked = sealkit_run({}, {ATTACK_TARGET});
  expect_sealed(linked);
  EXPECT_EQ(linked.err,
            "sealkit: warning: /etc/sealkit/runtime.conf: /etc/sealkit is a symbolic link (name the real path: no "
            "link may stand on the way); using the defaults\n");
  const std::string user = user_file("off.conf", "dlopen = off\nexclude-program = /*\n");
  expect_sealed(sealkit_run({"--config", user}, {ATTACK_TARGET}));
  fs::remove("/etc/sealkit");

  // A group-writable /etc/sealkit: its group could swap the file.
  write(kSystemFile, exclude);
  chmod("/etc/sealkit", 0775);
  Captured open_dir = sealkit_run({}, {ATTACK_TARGET});
  expect_sealed(open_dir);
  EXPECT_EQ(open_dir.err,
            "sealkit: warning: /etc/sealkit/runtime.conf: /etc/sealkit is writable by its group or by others and "
            "has no sticky bit; using the defaults\n");

  // The file itself a link to a good file: refused too.
  fs::remove_all("/etc/sealkit");
  write_system_file("");
  fs::remove(kSystemFile);
  fs::create_symlink("/etc/sealkit-real/runtime.conf", kSystemFile);
  Captured linked_file = sealkit_run({}, {ATTACK_TARGET});
  expect_sealed(linked_file);
  EXPECT_NE(linked_file.err.find("/etc/sealkit/runtime.conf: is a symbolic link"), std::string::npos)
      << linked_file.err;

  // The control: the same file at a real, root-only path is honoured.
  fs::remove(kSystemFile);
  write_system_file(exclude);
  Captured honoured = sealkit_run({}, {ATTACK_TARGET});
  expect_unsealed(honoured);
  EXPECT_EQ(honoured.err, "");
}

}  // namespace
