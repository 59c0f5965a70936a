// `sealkit enable`, `disable` and `status` as an administrator runs them, on
// an installed sealkit: in a private mount namespace whose /usr, /etc and
// /var/lib are overlays (and ldconfig's aux-cache a tmpfs), this build tree is
// installed with `cmake --install --prefix /usr`, as docs/runtime.md says, and
// the installed /usr/bin/sealkit is run. The host's files are never touched.
// Root only; skipped with the reason otherwise (a main path:
// tests/must-not-skip.txt).
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/live_process.hpp"
#include "runtime/private_mounts.hpp"
#include "runtime/subprocess.hpp"

namespace {

namespace fs = std::filesystem;
using sealkit::test::Captured;

constexpr const char* kFile = "/etc/ld.so.preload";
constexpr const char* kLine = "libsealkit-preload.so\n";
// Another preload a machine may have: real objects of both classes (ld.so
// expands $LIB per process), named with a '/' so that secure execution loads
// them without the set-user-ID bit, one comment (glibc's ld.so sees only the
// first reliably: preload_file.hpp), odd spacing, and no newline at the end.
const std::string kOther = "# preloads of this machine\n  /usr/$LIB/libm.so.6 :\t\n\n/usr/$LIB/libm.so.6";

std::string read_file(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& p, const std::string& text, mode_t mode = 0644) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
  ::chmod(p.c_str(), mode);
}

mode_t mode_of(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

struct stat stat_of(const std::string& p) {
  struct stat st {};
  ::lstat(p.c_str(), &st);
  return st;
}

// What `cat /proc/self/status /proc/self/smaps` (or smaps alone) shows of
// sealing: whether the program's text VMA is sealed and the preload object
// mapped.
struct Seen {
  bool text_sealed = false, text_found = false, preload_mapped = false;
};
Seen seen_in(const std::string& out, const std::string& program) {
  Seen s;
  std::istringstream lines(out);
  std::string line;
  bool in_text = false;
  while (std::getline(lines, line)) {
    std::istringstream f(line);
    std::string range, perms, offset, dev, inode, path;
    if (f >> range >> perms >> offset >> dev >> inode && range.find('-') != std::string::npos && perms.size() == 4) {
      f >> path;
      in_text = path == program && perms[2] == 'x';
      s.text_found = s.text_found || in_text;
      if (fs::path(path).filename() == "libsealkit-preload.so") s.preload_mapped = true;
    } else if (in_text && line.rfind("VmFlags:", 0) == 0) {
      s.text_sealed = (line + " ").find(" sl ") != std::string::npos;
    }
  }
  return s;
}

class SealkitEnable : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!entered_) ready_ = enter();
    entered_ = true;
  }
  static bool enter() {
    if (!sealkit::test::enter_private_mounts({"/etc", "/usr", "/var/lib"}, dir_, why_)) return false;
    errno = 0;
    if (fs::is_directory("/var/cache/ldconfig") &&
        ::mount("sealkit-test", "/var/cache/ldconfig", "tmpfs", 0, "mode=0700") != 0) {
      why_ = std::string("tmpfs on /var/cache/ldconfig: ") + std::strerror(errno);
      return false;
    }
    auto o = sealkit::test::run_captured({CMAKE_COMMAND, "--install", PROJECT_BINARY_DIR, "--prefix", "/usr"},
                                         {"DESTDIR="});
    if (o.status != 0) {
      why_ = "cmake --install --prefix /usr: " + o.err;
      return false;
    }
    objects_ = {"/usr/" SEALKIT_RUNTIME_LIBDIR "/sealkit/libsealkit-preload.so"};
    links_ = {"/usr/" SEALKIT_RUNTIME_LIBDIR "/libsealkit-preload.so"};
    if (fs::exists("/usr/" SEALKIT_RUNTIME_LIBDIR_I386 "/sealkit/libsealkit-preload.so")) {
      objects_.push_back("/usr/" SEALKIT_RUNTIME_LIBDIR_I386 "/sealkit/libsealkit-preload.so");
      links_.push_back("/usr/" SEALKIT_RUNTIME_LIBDIR_I386 "/libsealkit-preload.so");
    }
    fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
    return true;
  }
  // Every test starts from a machine where sealing is off, as the install leaves it.
  void SetUp() override {
    if (!ready_) GTEST_SKIP() << why_;
    std::error_code ec;
    fs::remove(kFile, ec);
    fs::remove_all("/var/lib/sealkit", ec);
    for (const std::string& o : objects_) ::chmod(o.c_str(), 0644);
    for (const std::string& l : links_) {
      if (!fs::is_symlink(l)) fs::create_symlink("sealkit/libsealkit-preload.so", l, ec);
    }
  }

  // The installed sealkit (the sanitizer build's runtime does not come first
  // in processes that preload the object: it is told that this is fine).
  static Captured sealkit(const std::vector<std::string>& args, const std::string& bin = "/usr/bin/sealkit") {
    std::vector<std::string> argv{bin};
    argv.insert(argv.end(), args.begin(), args.end());
    return sealkit::test::run_captured(argv, {sealkit::test::asan_options_with("verify_asan_link_order=0")});
  }
  static Captured enable(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> a{"enable"};
    a.insert(a.end(), extra.begin(), extra.end());
    return sealkit(a);
  }
  static Captured disable(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> a{"disable"};
    a.insert(a.end(), extra.begin(), extra.end());
    return sealkit(a);
  }
  static bool backup_left() {
    return fs::exists("/var/lib/sealkit/ld.so.preload.before") || fs::exists("/var/lib/sealkit/ld.so.preload.absent");
  }
  void expect_bits(bool set) {
    for (const std::string& o : objects_) EXPECT_EQ(mode_of(o), set ? 04644u : 0644u) << o;
  }

  static inline bool entered_ = false, ready_ = false;
  static inline std::string why_, dir_;
  static inline std::vector<std::string> objects_, links_;
};

TEST_F(SealkitEnable, EnableThenDisableRestoresAnAbsentFile) {
  auto on = enable();
  ASSERT_EQ(on.status, 0) << on.out << on.err;
  EXPECT_NE(on.out.find("enabled: every dynamically linked program"), std::string::npos) << on.out;
  EXPECT_EQ(read_file(kFile), kLine);
  EXPECT_EQ(mode_of(kFile), 0644u) << "every user's ld.so must read it";
  expect_bits(true);
  EXPECT_TRUE(fs::exists("/var/lib/sealkit/ld.so.preload.absent"));

  auto off = disable();
  ASSERT_EQ(off.status, 0) << off.out << off.err;
  EXPECT_FALSE(fs::exists(kFile)) << "enable created it; disable removes it: " << read_file(kFile);
  expect_bits(false);
  EXPECT_FALSE(backup_left());
}

TEST_F(SealkitEnable, EnableThenDisableRestoresAFileWithOtherEntriesByteForByte) {
  for (const std::string& before : {kOther, kOther + "\n", std::string("/usr/$LIB/libm.so.6\n")}) {
    SetUp();
    write_file(kFile, before, 0644);
    auto on = enable();
    ASSERT_EQ(on.status, 0) << before << "\n" << on.out << on.err;
    EXPECT_EQ(read_file(kFile), before + (before.back() == '\n' ? "" : "\n") + kLine);
    expect_bits(true);
    EXPECT_EQ(read_file("/var/lib/sealkit/ld.so.preload.before"), before);
    auto off = disable();
    ASSERT_EQ(off.status, 0) << off.out << off.err;
    EXPECT_EQ(read_file(kFile), before) << "byte for byte";
    expect_bits(false);
    EXPECT_FALSE(backup_left());
  }
}

// What the administrator added after enable stays; enable had created the
// file, but something else is in it now, so it stays too.
TEST_F(SealkitEnable, DisableKeepsWhatWasAddedAfterEnable) {
  ASSERT_EQ(enable().status, 0);
  write_file(kFile, read_file(kFile) + "/usr/$LIB/libm.so.6\n");
  auto off = disable();
  ASSERT_EQ(off.status, 0) << off.out << off.err;
  EXPECT_EQ(read_file(kFile), "/usr/$LIB/libm.so.6\n");
  EXPECT_NE(off.out.find("-libsealkit-preload.so"), std::string::npos) << off.out;
  expect_bits(false);
  auto again = disable();
  EXPECT_EQ(again.status, 0);
  EXPECT_NE(again.out.find("already disabled"), std::string::npos) << again.out;
  EXPECT_EQ(read_file(kFile), "/usr/$LIB/libm.so.6\n");
}

TEST_F(SealkitEnable, EnablingTwiceChangesNothingTheSecondTime) {
  write_file(kFile, kOther);
  ASSERT_EQ(enable().status, 0);
  const std::string text = read_file(kFile);
  const struct stat file = stat_of(kFile), backup = stat_of("/var/lib/sealkit/ld.so.preload.before");
  auto again = enable();
  ASSERT_EQ(again.status, 0) << again.out << again.err;
  EXPECT_NE(again.out.find("already enabled"), std::string::npos) << again.out;
  EXPECT_EQ(read_file(kFile), text);
  const struct stat file2 = stat_of(kFile), backup2 = stat_of("/var/lib/sealkit/ld.so.preload.before");
  EXPECT_EQ(file2.st_ino, file.st_ino) << "the file was rewritten";
  EXPECT_EQ(file2.st_mtim.tv_nsec, file.st_mtim.tv_nsec);
  EXPECT_EQ(backup2.st_ino, backup.st_ino) << "the backup was rewritten";
  expect_bits(true);
}

TEST_F(SealkitEnable, DryRunChangesNothing) {
  write_file(kFile, kOther);
  const struct stat before = stat_of(kFile);
  auto dry = enable({"--dry-run"});
  ASSERT_EQ(dry.status, 0) << dry.out << dry.err;
  EXPECT_NE(dry.out.find(" # preloads of this machine\n"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("+libsealkit-preload.so\n"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("  ok      64-bit setuid program run by nobody"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("nothing was changed"), std::string::npos) << dry.out;
  EXPECT_EQ(read_file(kFile), kOther);
  EXPECT_EQ(stat_of(kFile).st_ino, before.st_ino);
  expect_bits(false);
  EXPECT_FALSE(fs::exists("/var/lib/sealkit"));

  ASSERT_EQ(enable().status, 0);
  const std::string on = read_file(kFile);
  auto dry_off = disable({"--dry-run"});
  ASSERT_EQ(dry_off.status, 0) << dry_off.out << dry_off.err;
  EXPECT_NE(dry_off.out.find("-libsealkit-preload.so\n"), std::string::npos) << dry_off.out;
  EXPECT_EQ(read_file(kFile), on);
  expect_bits(true);
  EXPECT_TRUE(backup_left());
}

// ld.so's cache does not list the object (the install runs no ldconfig): the
// dry run tries it with the namespace's own cache and leaves the machine's
// alone; enable runs ldconfig and says so.
TEST_F(SealkitEnable, EnableRunsLdconfigWhenTheCacheDoesNotListTheObject) {
  for (const std::string& l : links_) fs::remove(l);
  ASSERT_EQ(sealkit::test::run_captured({"ldconfig"}).status, 0);
  for (const std::string& l : links_) fs::create_symlink("sealkit/libsealkit-preload.so", l);
  ASSERT_EQ(sealkit::test::run_captured({"ldconfig", "-p"}).out.find("libsealkit-preload.so"), std::string::npos);
  const struct stat cache = stat_of("/etc/ld.so.cache");

  auto dry = enable({"--dry-run"});
  ASSERT_EQ(dry.status, 0) << dry.out << dry.err;
  EXPECT_NE(dry.out.find("ldconfig will be run"), std::string::npos) << dry.out;
  EXPECT_EQ(stat_of("/etc/ld.so.cache").st_ino, cache.st_ino) << "the dry run rebuilt the machine's cache";
  EXPECT_EQ(stat_of("/etc/ld.so.cache").st_mtim.tv_nsec, cache.st_mtim.tv_nsec);

  auto on = enable();
  ASSERT_EQ(on.status, 0) << on.out << on.err;
  EXPECT_NE(on.out.find("ran ldconfig"), std::string::npos) << on.out;
  EXPECT_NE(sealkit::test::run_captured({"ldconfig", "-p"}).out.find("libsealkit-preload.so"), std::string::npos);
}

// A failed check: exit 1, what failed and what to do, and nothing changed:
// no file, no bit, no backup.
TEST_F(SealkitEnable, AFailedCheckChangesNothing) {
  auto expect_nothing_changed = [&](const Captured& o, const std::string& message) {
    EXPECT_EQ(o.status, 1) << o.out << o.err;
    EXPECT_NE(o.out.find(message), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("nothing was changed"), std::string::npos) << o.out;
    EXPECT_FALSE(backup_left());
    for (std::size_t i = 1; i < objects_.size(); ++i) EXPECT_EQ(mode_of(objects_[i]), 0644u) << objects_[i];
  };
  // The object writable by its group.
  ::chmod(objects_[0].c_str(), 0664);
  expect_nothing_changed(enable(), "FAILED  64-bit preload object " + objects_[0] + ": " + objects_[0] +
                                       " is writable by its group or by others");
  EXPECT_EQ(mode_of(objects_[0]), 0664u);
  EXPECT_FALSE(fs::exists(kFile));
  ::chmod(objects_[0].c_str(), 0644);

  // The link in ld.so's trusted directory missing.
  fs::remove(links_[0]);
  expect_nothing_changed(enable(), "FAILED  64-bit link " + links_[0] + ": is missing");
  EXPECT_EQ(mode_of(objects_[0]), 0644u);
  EXPECT_FALSE(fs::exists(kFile));
  fs::create_symlink("sealkit/libsealkit-preload.so", links_[0]);

  // A canary that ld.so complains in: an entry of the file's that does not exist.
  write_file(kFile, "libsealkit-test-not-there.so\n");
  expect_nothing_changed(enable(), "printed on stderr: ERROR: ld.so: object 'libsealkit-test-not-there.so'");
  EXPECT_EQ(mode_of(objects_[0]), 0644u);
  EXPECT_EQ(read_file(kFile), "libsealkit-test-not-there.so\n");
}

TEST_F(SealkitEnable, NewProcessesAreSealedAfterEnable) {
  ASSERT_EQ(enable().status, 0);
  const std::string cat = fs::canonical("/bin/cat").string();
  auto plain = sealkit::test::run_captured({cat, "/proc/self/smaps"});
  ASSERT_EQ(plain.status, 0) << plain.err;
  EXPECT_EQ(plain.err, "");
  const Seen p = seen_in(plain.out, cat);
  EXPECT_TRUE(p.preload_mapped);
  EXPECT_TRUE(p.text_found);
  EXPECT_TRUE(p.text_sealed) << "the text of " << cat << " has no sl in VmFlags";

  // A setuid-root copy started by nobody: secure execution.
  const std::string suid = dir_ + "/cat-setuid";
  fs::copy_file(cat, suid, fs::copy_options::overwrite_existing);
  ASSERT_EQ(::chown(suid.c_str(), 0, 0), 0);
  ASSERT_EQ(::chmod(suid.c_str(), 04755), 0);
  auto setuid = sealkit::test::run_captured(
      {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", suid, "/proc/self/status", "/proc/self/smaps"});
  ASSERT_EQ(setuid.status, 0) << setuid.err;
  EXPECT_EQ(setuid.err, "") << "ld.so or the runtime complained";
  EXPECT_NE(setuid.out.find("\nUid:\t65534\t0\t"), std::string::npos) << "not secure execution";
  const Seen s = seen_in(setuid.out, suid);
  EXPECT_TRUE(s.preload_mapped);
  EXPECT_TRUE(s.text_found);
  EXPECT_TRUE(s.text_sealed);
}

TEST_F(SealkitEnable, StatusSaysOffOrOnAndListsProcessesStartedBeforeEnable) {
  sealkit::test::Live before;
  std::string why;
  ASSERT_TRUE(sealkit::test::start_live(before, {ATTACK_TARGET, "--wait"}, {}, why)) << why;
  auto off = sealkit({"status"});
  EXPECT_EQ(off.status, 1) << off.out << off.err;
  EXPECT_NE(off.out.find("machine-wide sealing: off"), std::string::npos) << off.out;

  ASSERT_EQ(enable().status, 0);
  sealkit::test::Live after;
  ASSERT_TRUE(sealkit::test::start_live(after, {ATTACK_TARGET, "--wait"}, {}, why)) << why;
  auto on = sealkit({"status", "--json"});
  ASSERT_EQ(on.status, 0) << on.out << on.err;
  const auto j = nlohmann::json::parse(on.out);
  EXPECT_EQ(j["enabled"], true);
  EXPECT_EQ(j["consistent"], true) << j["problems"];
  EXPECT_EQ(j["classes"][0]["setuid"], true);
  EXPECT_FALSE(j["classes"][0]["ld_so_cache"].is_null());
  std::vector<int> unsealed;
  for (const auto& p : j["unsealed_processes"]) unsealed.push_back(p["pid"].get<int>());
  EXPECT_NE(std::find(unsealed.begin(), unsealed.end(), before.pid), unsealed.end())
      << "a process started before enable needs a restart";
  EXPECT_EQ(std::find(unsealed.begin(), unsealed.end(), after.pid), unsealed.end())
      << "a process started after enable is sealed";
  auto text = sealkit({"status"});
  EXPECT_NE(text.out.find("machine-wide sealing: on"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(" " + std::to_string(before.pid) + " "), std::string::npos) << text.out;

  // Inconsistent: a new install cleared the set-user-ID bit.
  ::chmod(objects_[0].c_str(), 0644);
  auto broken = sealkit({"status"});
  EXPECT_EQ(broken.status, 1) << broken.out;
  EXPECT_NE(broken.out.find("has no set-user-ID bit"), std::string::npos) << broken.out;
}

// A process the line reached but whose seccomp filter answers mseal with
// ENOSYS (systemd 252's @system-service list, as allowlist_exec installs it):
// status lists it as kept from sealing, with its unit, and the audit says what
// its filters answer mseal. A process without a filter is not listed.
TEST_F(SealkitEnable, StatusAndAuditNameTheProcessesAFilterKeepsFromSealing) {
  ASSERT_EQ(enable().status, 0);
  std::string why;
  sealkit::test::Live filtered, plain;
  ASSERT_TRUE(sealkit::test::start_live(filtered, {ALLOWLIST_EXEC, ATTACK_TARGET, "--wait"}, {}, why)) << why;
  ASSERT_TRUE(sealkit::test::start_live(plain, {ATTACK_TARGET, "--wait"}, {}, why)) << why;
  auto on = sealkit({"status", "--json"});
  const auto j = nlohmann::json::parse(on.out);
  std::vector<int> listed;
  for (const auto& p : j["filtered_processes"]) {
    listed.push_back(p["pid"].get<int>());
    if (p["pid"] == filtered.pid) {
      EXPECT_GE(p["filters"].get<int>(), 1) << p;
    }
  }
  EXPECT_NE(std::find(listed.begin(), listed.end(), filtered.pid), listed.end()) << j["filtered_processes"];
  EXPECT_EQ(std::find(listed.begin(), listed.end(), plain.pid), listed.end()) << "sealed, no filter";
  auto text = sealkit({"status"});
  EXPECT_NE(text.out.find("processes a seccomp filter keeps from sealing"), std::string::npos) << text.out;

  auto audit = sealkit({"audit", std::to_string(filtered.pid), std::to_string(plain.pid), "--json"});
  ASSERT_EQ(audit.status, 0) << audit.err;
  const auto a = nlohmann::json::parse(audit.out);
  for (const auto& p : a["processes"]) {
    if (p["pid"] == filtered.pid) {
      EXPECT_EQ(p["filters"]["mseal"], "ENOSYS") << p;
    } else {
      EXPECT_EQ(p["filters"]["status"], "none") << p;
    }
  }
  EXPECT_EQ(a["totals"]["filters"]["refuse_mseal"], 1) << a["totals"];

  // A program the administrator excludes runs unsealed on purpose: under a filter too, it is not listed as kept
  // from sealing by it.
  const std::string copy = dir_ + "/excluded-target";
  fs::copy_file(ATTACK_TARGET, copy, fs::copy_options::overwrite_existing);
  fs::create_directories("/etc/sealkit");
  ::chmod("/etc/sealkit", 0755);
  write_file("/etc/sealkit/runtime.conf", "exclude-program = " + copy + "\n");
  ::chmod("/etc/sealkit/runtime.conf", 0644);
  sealkit::test::Live excluded;
  ASSERT_TRUE(sealkit::test::start_live(excluded, {ALLOWLIST_EXEC, copy, "--wait"}, {}, why)) << why;
  const auto again = nlohmann::json::parse(sealkit({"status", "--json"}).out);
  listed.clear();
  for (const auto& p : again["filtered_processes"]) listed.push_back(p["pid"].get<int>());
  EXPECT_NE(std::find(listed.begin(), listed.end(), filtered.pid), listed.end()) << again["filtered_processes"];
  EXPECT_EQ(std::find(listed.begin(), listed.end(), excluded.pid), listed.end()) << "excluded, not kept from sealing";
  fs::remove_all("/etc/sealkit");
}

// What the kernel seals itself is read from a process that sealkit's runtime
// has not touched: the same answer before and after enable, when the CLI's own
// [vdso] is sealed by the preload object.
TEST_F(SealkitEnable, TheKernelsOwnSealsAreTheSameBeforeAndAfterEnable) {
  auto fact = [&](const std::string& cmd) {
    auto o = sealkit({cmd, "--json"});
    const auto j = nlohmann::json::parse(o.out);
    return cmd == "probe" ? j["facts"]["system_mappings_sealed"]["value"]
                          : j["kernel"]["seals_system_mappings"]["value"];
  };
  const auto probe_before = fact("probe"), status_before = fact("status");
  ASSERT_FALSE(probe_before.is_null());
  EXPECT_EQ(status_before, probe_before);
  ASSERT_EQ(enable().status, 0);
  EXPECT_EQ(fact("probe"), probe_before);
  EXPECT_EQ(fact("status"), probe_before);
}

// Another prefix ships the $LIB line: no link, no cache, no set-user-ID bit.
TEST_F(SealkitEnable, TheLineOfAnotherPrefixIsEnabledWithoutTheBit) {
  const std::string prefix = dir_ + "/opt";
  auto install = sealkit::test::run_captured({CMAKE_COMMAND, "--install", PROJECT_BINARY_DIR, "--prefix", prefix},
                                             {"DESTDIR="});
  ASSERT_EQ(install.status, 0) << install.err;
  auto on = sealkit({"enable"}, prefix + "/bin/sealkit");
  ASSERT_EQ(on.status, 0) << on.out << on.err;
  EXPECT_EQ(read_file(kFile), prefix + "/$LIB/sealkit/libsealkit-preload.so\n");
  EXPECT_EQ(mode_of(prefix + "/" SEALKIT_RUNTIME_LIBDIR "/sealkit/libsealkit-preload.so"), 0644u);
  EXPECT_NE(on.out.find("  ok      64-bit setuid program run by nobody"), std::string::npos) << on.out;
  auto off = sealkit({"disable"}, prefix + "/bin/sealkit");
  ASSERT_EQ(off.status, 0) << off.out << off.err;
  EXPECT_FALSE(fs::exists(kFile));
}

TEST_F(SealkitEnable, ConfigCheckSaysWhetherTheSystemFileIsTrusted) {
  fs::create_directories("/etc/sealkit");
  write_file("/etc/sealkit/runtime.conf", "dlopen = nodelete\nexclude-program = criu\n");
  auto good = sealkit({"config", "check", "/etc/sealkit/runtime.conf"});
  EXPECT_EQ(good.status, 0) << good.out << good.err;
  EXPECT_NE(good.out.find("trusted as the system file: yes"), std::string::npos) << good.out;
  ::chmod("/etc/sealkit", 0775);
  auto exposed = sealkit({"config", "check", "/etc/sealkit/runtime.conf"});
  ::chmod("/etc/sealkit", 0755);
  EXPECT_EQ(exposed.status, 1) << exposed.out;
  EXPECT_NE(exposed.out.find("trusted as the system file: no: /etc/sealkit is writable by its group or by others"),
            std::string::npos)
      << exposed.out;
  fs::remove_all("/etc/sealkit");
}

TEST_F(SealkitEnable, OnlyRootMayEnableOrDisable) {
  for (const char* cmd : {"enable", "disable"}) {
    auto o = sealkit::test::run_captured({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                          "/usr/bin/sealkit", cmd, "--dry-run"},
                                         {sealkit::test::asan_options_with("verify_asan_link_order=0")});
    EXPECT_EQ(o.status, 2) << cmd;
    EXPECT_NE(o.err.find("must run as root"), std::string::npos) << o.err;
  }
  EXPECT_FALSE(fs::exists(kFile));
}

// `sealkit config check` needs no root.
struct Checked {
  int status;
  std::string out, err;
};
Checked config_check(const std::string& text, const std::string& name = "runtime.conf") {
  const std::string dir = fs::temp_directory_path() / ("sealkit-config-check-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = dir + "/" + name;
  write_file(path, text);
  auto o = sealkit::test::run_captured({SEALKIT_BIN, "config", "check", path});
  fs::remove_all(dir);
  return {o.status, o.out, o.err};
}

TEST(ConfigCheck, AGoodFileIsValid) {
  auto o = config_check("# the administrator's\ndlopen = promote\nexclude-object = libhotpatch.so*\n");
  EXPECT_EQ(o.status, 0) << o.out << o.err;
  EXPECT_NE(o.out.find("runtime.conf: valid\n"), std::string::npos) << o.out;
}

// `log = syslog | off`: the start-up line in the system log (docs/runtime.md, "Warnings").
TEST(ConfigCheck, TheLogSettingIsKnownAndChecked) {
  auto good = config_check("log = syslog\nlog = off\n");
  EXPECT_EQ(good.status, 0) << good.out << good.err;
  EXPECT_NE(good.out.find("runtime.conf: valid\n"), std::string::npos) << good.out;
  auto bad = config_check("log = journal\n");
  EXPECT_EQ(bad.status, 1) << bad.out << bad.err;
  EXPECT_NE(bad.out.find("runtime.conf:1: log must be syslog or off"), std::string::npos) << bad.out;
}

TEST(ConfigCheck, EachProblemIsNamedWithItsLineNumber) {
  auto o = config_check("dlopen = promote\n\nfoo = bar\ndlopen = never\nexclude-program = /*\n");
  EXPECT_EQ(o.status, 1) << o.out << o.err;
  EXPECT_NE(o.out.find("runtime.conf:3: unknown setting 'foo'"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("runtime.conf:4: dlopen must be promote, nodelete or off"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("runtime.conf:5: exclude-program value would match everything"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("runtime.conf: 3 problem(s)"), std::string::npos) << o.out;
}

TEST(ConfigCheck, AFileTheRuntimeWouldIgnoreWholeIsAProblem) {
  auto o = config_check(std::string(16385, '#'));
  EXPECT_EQ(o.status, 1) << o.out;
  EXPECT_NE(o.out.find("larger than 16384 bytes"), std::string::npos) << o.out;
}

TEST(ConfigCheck, AMissingFileOrNoneIsAnError) {
  auto missing = sealkit::test::run_captured({SEALKIT_BIN, "config", "check", "/nonexistent/runtime.conf"});
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.err.find("/nonexistent/runtime.conf: No such file or directory"), std::string::npos)
      << missing.err;
  EXPECT_EQ(sealkit::test::run_captured({SEALKIT_BIN, "config", "check"}).status, 2);
  EXPECT_EQ(sealkit::test::run_captured({SEALKIT_BIN, "config"}).status, 2);
}

}  // namespace
