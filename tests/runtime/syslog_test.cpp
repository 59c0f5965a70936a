// The runtime's warnings outside `sealkit run` (docs/runtime.md, "Warnings"):
// the preload object alone (machine-wide, or LD_PRELOAD by hand) sends them to
// the system log, rate-limited, and leaves the program's stderr alone; under
// `sealkit run` they stay on stderr. Done in a private mount namespace (root
// only): overlays over /etc (the administrator's file), /run (the rate
// limit's stamp) and /dev (this test's own socket at /dev/log, which receives
// the datagrams); the host's files and its system log are never touched.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/private_mounts.hpp"
#include "runtime/subprocess.hpp"
#include "runtime/syslog_receiver.hpp"

namespace {

namespace fs = std::filesystem;
using sealkit::test::Captured;
using sealkit::test::run_captured;

constexpr const char* kSystemFile = "/etc/sealkit/runtime.conf";
constexpr const char* kStamp = "/run/sealkit/config-warning";
const std::string kPreload = std::string("LD_PRELOAD=") + SEALKIT_PRELOAD;
const std::string kBadLog = "SEALKIT_LOG=relative/path";
const std::string kBadLogWarning = "SEALKIT_LOG must be an absolute path shorter than 512 bytes; not logging";

// "<12>sealkit[PID]: MESSAGE": LOG_USER | LOG_WARNING, the program name, the pid.
struct Datagram {
  bool well_formed = false;
  std::string pid, message;
};

Datagram parse(const std::string& d) {
  static const std::regex form(R"(<12>sealkit\[([0-9]+)\]: (.*))");
  std::smatch m;
  Datagram out;
  if (!std::regex_match(d, m, form)) return out;
  return {true, m[1], m[2]};
}

class SystemLog : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (entered_) return;
    entered_ = true;
    if (!sealkit::test::enter_private_mounts({"/etc", "/run"}, dir_, why_)) return;
    if (!sealkit::test::SyslogReceiver::overlay_dev(dir_, why_)) return;
    ready_ = true;
  }
  void SetUp() override {
    if (!ready_) GTEST_SKIP() << why_;
    clean();
    std::string why;
    ASSERT_TRUE(log_.listen(why)) << why;
  }
  void TearDown() override { clean(); }
  static void clean() {
    std::error_code ec;
    fs::remove_all("/etc/sealkit", ec);
    fs::remove("/etc/ld.so.preload", ec);  // this namespace's copy: the preload object comes from LD_PRELOAD here
    fs::remove_all("/run/sealkit", ec);
  }

  static void write(const std::string& path, const std::string& text, mode_t mode = 0644) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path) << text;
    chmod(path.c_str(), mode);
  }
  // A broken administrator's file: one warning in every process that reads it.
  static void write_broken_system_file() {
    write(kSystemFile, "not a setting\n");
    chmod("/etc/sealkit", 0755);
  }
  static std::string user_file(const std::string& name, const std::string& text) {
    const std::string p = dir_ + "/" + name;
    write(p, text);
    return p;
  }
  static std::vector<std::string> as_nobody(std::vector<std::string> argv) {
    argv.insert(argv.begin(), {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
    return argv;
  }

  static inline bool entered_ = false, ready_ = false;
  static inline std::string why_, dir_;
  static inline sealkit::test::SyslogReceiver log_;
};

}  // namespace

// The preload object alone: the warning is one datagram of the process's own
// pid, and the program's stderr is the program's.
TEST_F(SystemLog, PreloadAloneWarnsInTheSystemLogNotOnStderr) {
  const Captured o = run_captured({"/bin/sh", "-c", "echo $$"}, {kPreload, kBadLog});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.err, "");
  const auto lines = log_.take();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "<12>sealkit[" + o.out.substr(0, o.out.size() - 1) + "]: " + kBadLogWarning);

  // A warning of the dlopen wrappers, after start-up: the same way.
  const Captured d = run_captured({DLOPEN_TARGET, "open", "x", "now", DLOPEN_LIB, "sealkit_test_value"},
                                  {kPreload, "SEALKIT_DLOPEN=sometimes"});
  ASSERT_EQ(d.status, 0) << d.err;
  EXPECT_EQ(d.err, "");
  EXPECT_NE(d.out.find("x sealed"), std::string::npos) << d.out;
  const auto later = log_.take();
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(parse(later[0]).message, "SEALKIT_DLOPEN must be promote, nodelete or off; using promote") << later[0];
}

// `sealkit run`: the user asked for that run, and its warnings stay on its stderr.
TEST_F(SystemLog, SealkitRunKeepsItsWarningsOnStderr) {
  const Captured o = run_captured({SEALKIT_BIN, "run", "--", "/bin/true"}, {kBadLog});
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_NE(o.err.find("sealkit: warning: " + kBadLogWarning), std::string::npos) << o.err;
  EXPECT_TRUE(log_.take().empty());
}

// Under systemd's @system-service allow-list the runtime makes no socket call
// of its own: the process is not killed and nothing is sent. (env runs under
// the filter and starts /bin/echo with the preload object.)
TEST_F(SystemLog, UnderAnAllowListFilterNothingIsSentAndNothingIsKilled) {
  const std::string bad_user = user_file("bad.conf", "bogus\n");
  const std::vector<std::string> command{"/usr/bin/env", kPreload, kBadLog, "SEALKIT_CONFIG=" + bad_user, "/bin/echo",
                                         "ok"};
  std::vector<std::string> filtered{ALLOWLIST_EXEC};
  filtered.insert(filtered.end(), command.begin(), command.end());
  const Captured o = run_captured(filtered);
  EXPECT_EQ(o.status, 0) << "159: killed by the filter (SIGSYS); " << o.err;
  EXPECT_EQ(o.out, "ok\n");
  EXPECT_EQ(o.err, "");
  EXPECT_TRUE(log_.take().empty()) << "a datagram from under the filter";
  // The control: without the filter the same process warns twice.
  const Captured free = run_captured(command);
  EXPECT_EQ(free.status, 0) << free.err;
  EXPECT_EQ(log_.take().size(), 2u);
}

// A program may install a filter of its own after start-up (a sandbox), then
// dlopen: a warning then (SEALKIT_DLOPEN's, at the first dlopen) makes no
// socket call the filter kills for, even when an earlier warning of the same
// process, before the filter, was sent.
TEST_F(SystemLog, AFilterInstalledAfterStartupIsHonouredByLaterWarnings) {
  const Captured o = run_captured({DLOPEN_TARGET, "no-sockets", "open", "x", "now", DLOPEN_LIB, "sealkit_test_value"},
                                  {kPreload, kBadLog, "SEALKIT_DLOPEN=sometimes"});
  EXPECT_EQ(o.status, 0) << "159: killed by the program's own filter (SIGSYS); " << o.err;
  EXPECT_NE(o.out.find("no-sockets installed"), std::string::npos) << o.out;
  // Loaded and, under a filter the program installed itself, left unsealed:
  // the runtime asks no child under such a filter (docs/runtime.md,
  // "Processes under a seccomp filter").
  EXPECT_NE(o.out.find("x open"), std::string::npos) << o.out;
  const auto lines = log_.take();
  ASSERT_EQ(lines.size(), 1u) << "the start-up warning only";
  EXPECT_EQ(parse(lines[0]).message, kBadLogWarning) << lines[0];
}

// A root process under a filter cannot send the administrator's file's
// warning, and so does not take the minute's turn: the next root process
// without one logs it.
TEST_F(SystemLog, AFilteredProcessDoesNotTakeTheSystemFileTurn) {
  write_broken_system_file();
  const Captured filtered = run_captured({ALLOWLIST_EXEC, "/usr/bin/env", kPreload, "/bin/true"});
  EXPECT_EQ(filtered.status, 0) << filtered.err;
  EXPECT_TRUE(log_.take().empty()) << "a datagram from under the filter";
  EXPECT_FALSE(fs::exists(kStamp)) << "the filtered process took the turn";
  const Captured free = run_captured({"/bin/true"}, {kPreload});
  EXPECT_EQ(free.status, 0) << free.err;
  const auto lines = log_.take();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(parse(lines[0]).message, std::string(kSystemFile) + ":1: expected `key = value`; line ignored")
      << lines[0];
}

// At most four lines per process, then one saying the rest is not logged.
TEST_F(SystemLog, AProcessLogsAtMostFourLinesThenSaysSo) {
  const std::string bad_user = user_file("six.conf", "a\nb\nc\nd\ne\nf\n");
  const Captured o = run_captured({"/bin/true"}, {kPreload, kBadLog, "SEALKIT_CONFIG=" + bad_user});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.err, "");
  const auto lines = log_.take();
  ASSERT_EQ(lines.size(), 5u) << "seven warnings: four lines and the last word";
  const Datagram first = parse(lines[0]);
  ASSERT_TRUE(first.well_formed) << lines[0];
  EXPECT_EQ(first.message, kBadLogWarning);
  EXPECT_EQ(parse(lines[1]).message, bad_user + ":1: expected `key = value`; line ignored");
  for (const auto& l : lines) EXPECT_EQ(parse(l).pid, first.pid) << l;
  EXPECT_EQ(parse(lines[4]).message, "further warnings of this process are not logged");
}

// A broken administrator's file would be a warning in every process of the
// machine: twenty root processes log it once (the first), and leave the
// minute's stamp, root's and 0644. A process of another user logs nothing and
// leaves no stamp.
TEST_F(SystemLog, TheSystemFileIsLoggedOnceAMinuteByRootOnly) {
  write_broken_system_file();
  const Captured nobody = run_captured(as_nobody({"/usr/bin/env", kPreload, "/bin/true"}));
  EXPECT_EQ(nobody.status, 0) << nobody.err;
  EXPECT_EQ(nobody.err, "");
  EXPECT_TRUE(log_.take().empty()) << "a process of nobody's logged the administrator's file";
  EXPECT_FALSE(fs::exists(kStamp));

  for (int i = 0; i < 20; ++i) {
    const Captured o = run_captured({"/bin/true"}, {kPreload});
    ASSERT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(o.err, "");
  }
  const auto lines = log_.take();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(parse(lines[0]).well_formed) << lines[0];
  EXPECT_EQ(parse(lines[0]).message, "/etc/sealkit/runtime.conf:1: expected `key = value`; line ignored");
  struct stat st {};
  ASSERT_EQ(lstat(kStamp, &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  ASSERT_EQ(lstat("/run/sealkit", &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0755u);
}

// A stamp that is a symbolic link is not followed, and one owned by another
// user is not trusted: nothing is logged either way. The control: the same
// old stamp, root's, lets the warning through.
TEST_F(SystemLog, AStampThatIsALinkOrAnotherUsersIsNotUsed) {
  write_broken_system_file();
  fs::create_directories("/run/sealkit");
  chmod("/run/sealkit", 0755);
  const std::string target = dir_ + "/link-target";
  fs::create_symlink(target, kStamp);
  Captured o = run_captured({"/bin/true"}, {kPreload});
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.err, "");
  EXPECT_TRUE(log_.take().empty());
  EXPECT_FALSE(fs::exists(target)) << "the link was followed";

  fs::remove(kStamp);
  write(kStamp, "");
  const timespec old[2] = {{1000000000, 0}, {1000000000, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, kStamp, old, 0), 0);
  ASSERT_EQ(chown(kStamp, 12345, 12345), 0);
  o = run_captured({"/bin/true"}, {kPreload});
  EXPECT_EQ(o.err, "");
  EXPECT_TRUE(log_.take().empty()) << "a stamp of another user's was trusted";
  struct stat st {};
  ASSERT_EQ(stat(kStamp, &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 1000000000) << "another user's stamp was written";

  ASSERT_EQ(chown(kStamp, 0, 0), 0);
  o = run_captured({"/bin/true"}, {kPreload});
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(log_.take().size(), 1u) << "the control: an old stamp of root's lets the warning through";
}

// The administrator's `log = syslog`: each process's JSON start-up line in
// the system log too, at level info, once per process (the preload object's
// here; under `sealkit run` the audit module's).
TEST_F(SystemLog, LogSyslogSendsTheStartupLineOncePerProcess) {
  write(kSystemFile, "log = syslog\n");
  chmod("/etc/sealkit", 0755);
  const Captured o = run_captured({"/bin/sh", "-c", "echo $$"}, {kPreload});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.err, "");
  const std::string pid = o.out.substr(0, o.out.size() - 1);
  auto lines = log_.take();
  ASSERT_EQ(lines.size(), 1u);
  const std::string head = "<14>sealkit[" + pid + "]: {\"pid\":" + pid + ",\"exe\":";
  EXPECT_EQ(lines[0].rfind(head, 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find("\"phase\":\"startup\",\"injected_as\":\"preload\""), std::string::npos) << lines[0];
  EXPECT_EQ(lines[0].back(), '}') << lines[0];

  const Captured run = run_captured({SEALKIT_BIN, "run", "--", "/bin/true"});
  ASSERT_EQ(run.status, 0) << run.err;
  lines = log_.take();
  ASSERT_EQ(lines.size(), 1u) << "one line for the one process under sealkit run";
  EXPECT_NE(lines[0].find("\"injected_as\":\"audit\""), std::string::npos) << lines[0];

  // off, the default: nothing.
  write(kSystemFile, "log = off\n");
  EXPECT_EQ(run_captured({"/bin/true"}, {kPreload}).status, 0);
  EXPECT_TRUE(log_.take().empty());
}

// The i386 object makes the same calls through the i386 numbers (the direct
// socket calls of Linux 4.3, not socketcall).
TEST_F(SystemLog, The32BitPreloadObjectWarnsInTheSystemLogToo) {
#ifdef SEALKIT_PRELOAD_I386
  std::string why;
  if (!sealkit::test::kernel_executes(ATTACK_TARGET_I386, why)) GTEST_SKIP() << why;
  const Captured o = run_captured({ATTACK_TARGET_I386}, {std::string("LD_PRELOAD=") + SEALKIT_PRELOAD_I386, kBadLog});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.err, "");
  const auto lines = log_.take();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_TRUE(parse(lines[0]).well_formed) << lines[0];
  EXPECT_EQ(parse(lines[0]).message, kBadLogWarning);
#else
  GTEST_SKIP() << "no i386 build of the preload object (configure says why: g++-multilib?)";
#endif
}

// No system log at all (a container without /dev/log): the program runs as
// without sealkit, and its stderr stays empty.
TEST_F(SystemLog, WithoutDevLogTheProgramRunsNormally) {
  log_.stop();
  const Captured o = run_captured({"/bin/echo", "hi"}, {kPreload, kBadLog});
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out, "hi\n");
  EXPECT_EQ(o.err, "");
}
