// SEALKIT_LOG as another user meets it: the runtime appends to the log by
// path from every process it is in, root's included, so whatever another user
// can put at that path (a FIFO, a file of theirs, a link on the way) or a
// file-size limit below the log's size must cost the process nothing but its
// line. Each case runs /bin/true as root with the preload object
// (machine-wide's code) and with the audit module (`sealkit run`'s), in a
// sticky, world-writable directory like /tmp, where the other user (nobody)
// prepares the path. The preload object alone says what went wrong in the
// system log (this test's own /dev/log, in a private mount namespace), the
// audit module on stderr.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/private_mounts.hpp"
#include "runtime/subprocess.hpp"
#include "runtime/syslog_receiver.hpp"

namespace {

namespace fs = std::filesystem;
using sealkit::test::Captured;
using sealkit::test::run_captured;

struct Injection {
  const char* name;
  std::string variable;  // LD_PRELOAD=... or LD_AUDIT=...
};

std::vector<Injection> injections() {
  return {{"preload object", std::string("LD_PRELOAD=") + SEALKIT_PRELOAD},
          {"audit module", std::string("LD_AUDIT=") + SEALKIT_RUNTIME}};
}

std::string read_file(const std::string& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class SealkitLog : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (entered_) return;
    entered_ = true;
    std::string scratch;
    ready_ = sealkit::test::enter_private_mounts({}, scratch, why_) &&
             sealkit::test::SyslogReceiver::overlay_dev(scratch, why_) && log_.listen(why_);
  }
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: the victim is a root process, the attacker nobody";
    if (!ready_) GTEST_SKIP() << why_;
    char tmpl[] = "/tmp/sealkit-log-attack-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_EQ(chmod(dir_.c_str(), 01777), 0) << "a directory like /tmp";
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // `argv` run as nobody: the other user preparing the path.
  static void as_nobody(std::vector<std::string> argv) {
    argv.insert(argv.begin(), {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
    const Captured o = run_captured(argv);
    ASSERT_EQ(o.status, 0) << argv.back() << ": " << o.err;
  }

  // /bin/true as root with `injection` and SEALKIT_LOG=`log`, under a
  // 10-second timeout (137: it hung and was killed) and an optional file-size limit.
  static Captured run_true(const Injection& injection, const std::string& log, const std::string& fsize = "") {
    std::vector<std::string> argv = {"timeout", "-s", "KILL", "10"};
    if (!fsize.empty()) argv.insert(argv.end(), {"prlimit", "--fsize=" + fsize, "--"});
    // env sets the variables for /bin/true alone: timeout and prlimit run without the runtime.
    argv.insert(argv.end(), {"env", injection.variable, "SEALKIT_LOG=" + log, "/bin/true"});
    log_.take();  // what earlier runs sent
    return run_captured(argv);
  }

  // What the runtime said in the run `o` with `injection`: the system log's
  // lines for the preload object alone (its stderr stays empty), stderr for
  // the audit module.
  static std::string said(const Injection& injection, const Captured& o) {
    if (injection.variable.rfind("LD_AUDIT=", 0) == 0) return o.err;
    EXPECT_EQ(o.err, "") << injection.name << ": the program's stderr";
    std::string lines;
    for (const auto& l : log_.take()) lines += l + "\n";
    return lines;
  }

  static inline bool entered_ = false, ready_ = false;
  static inline std::string why_;
  static inline sealkit::test::SyslogReceiver log_;

  std::string dir_;
};

// The control: a new file in the sticky directory is created and gets the line.
TEST_F(SealkitLog, ANewFileInAStickyDirectoryGetsTheLine) {
  for (const Injection& in : injections()) {
    const std::string log = dir_ + "/fresh-" + std::to_string(&in - injections().data()) + ".log";
    const Captured o = run_true(in, log);
    EXPECT_EQ(o.status, 0) << in.name << ": " << o.err;
    EXPECT_TRUE(o.err.empty()) << in.name << ": " << o.err;
    EXPECT_NE(read_file(log).find("\"phase\":\"startup\""), std::string::npos) << in.name;
  }
}

// Opening a FIFO for writing waits for a reader: nobody's FIFO at the log path
// would hang every root process that logs there.
TEST_F(SealkitLog, AFifoAnotherUserPutAtTheLogPathHangsNothing) {
  const std::string log = dir_ + "/planted.log";
  as_nobody({"mkfifo", "-m", "0666", log});
  for (const Injection& in : injections()) {
    const Captured o = run_true(in, log);
    EXPECT_EQ(o.status, 0) << in.name << " (137: hung opening the FIFO): " << o.err;
    EXPECT_NE(said(in, o).find("SEALKIT_LOG"), std::string::npos) << in.name << ": no word of the log not written";
  }
}

// A root process must not write into a file another user owns (they would read
// and shape what root's processes log), even one they made writable by all.
TEST_F(SealkitLog, AFileAnotherUserOwnsIsNotAppendedTo) {
  const std::string log = dir_ + "/planted.log";
  as_nobody({"sh", "-c", "echo planted > " + log + " && chmod 0666 " + log});
  for (const Injection& in : injections()) {
    const Captured o = run_true(in, log);
    EXPECT_EQ(o.status, 0) << in.name << ": " << o.err;
    EXPECT_NE(said(in, o).find("SEALKIT_LOG"), std::string::npos) << in.name;
  }
  EXPECT_EQ(read_file(log), "planted\n") << "a root process appended to nobody's file";
}

// O_NOFOLLOW guards the last component only: a link another user puts on the
// way (their directory, their symbolic link to a directory of root's) would
// have root's process append to a file of root's that the path never named.
TEST_F(SealkitLog, ALinkAnotherUserPutsOnTheWayIsNotFollowed) {
  const std::string roots = dir_ + "/roots";
  ASSERT_TRUE(fs::create_directory(roots));
  ASSERT_EQ(chmod(roots.c_str(), 0755), 0);
  const std::string victim = roots + "/victim";
  std::ofstream(victim) << "root's\n";
  const std::string users = dir_ + "/users";
  as_nobody({"mkdir", users});
  as_nobody({"ln", "-s", roots, users + "/link"});
  for (const Injection& in : injections()) {
    const Captured through_link = run_true(in, users + "/link/victim");
    EXPECT_EQ(through_link.status, 0) << in.name << ": " << through_link.err;
    EXPECT_NE(said(in, through_link).find("SEALKIT_LOG"), std::string::npos) << in.name;
    // Their directory itself: they could swap it for such a link at any time.
    const Captured in_theirs = run_true(in, users + "/new.log");
    EXPECT_EQ(in_theirs.status, 0) << in.name << ": " << in_theirs.err;
    EXPECT_NE(said(in, in_theirs).find("SEALKIT_LOG"), std::string::npos) << in.name;
  }
  EXPECT_EQ(read_file(victim), "root's\n") << "a root process appended through nobody's link";
  EXPECT_FALSE(fs::exists(users + "/new.log")) << "a root process created a file in nobody's directory";
}

// A write past RLIMIT_FSIZE raises SIGXFSZ, which kills the process; one that
// reaches the limit is cut short, leaving half a line. A process with a
// file-size limit (ulimit -f, systemd's LimitFSIZE=) runs as without sealkit
// and the log holds only whole lines.
TEST_F(SealkitLog, AFileSizeLimitCostsTheLineNotTheProcess) {
  for (const Injection& in : injections()) {
    for (const std::size_t size : {std::size_t{8192}, std::size_t{4000}}) {
      const std::string log = dir_ + "/big-" + std::to_string(size) + "-" + in.name[0] + ".log";
      const std::string before = std::string(size - 1, 'x') + "\n";
      std::ofstream(log) << before;
      const Captured o = run_true(in, log, "4096");
      EXPECT_EQ(o.status, 0) << in.name << ", log of " << size << " bytes (153: killed by SIGXFSZ): " << o.err;
      EXPECT_EQ(read_file(log), before) << in.name << ", log of " << size << " bytes: a line past the limit";
      EXPECT_NE(said(in, o).find("SEALKIT_LOG"), std::string::npos) << in.name;
    }
  }
}

// Another user names the programs whose lines share a log: a path of bytes
// that are not UTF-8, of control bytes, as long as a path gets. Every line
// stays one whole JSON object that a strict reader (nlohmann, Python's json)
// takes: nothing cut off the end for the next process's line to run into.
TEST_F(SealkitLog, AProgramPathOfAnyBytesLeavesEveryLineWholeJson) {
  const std::string odd = dir_ + "/" + std::string(100, '\x01') + "\xff\xc3\xa9\"\\\x7f\xed\xa0\x80";
  ASSERT_TRUE(fs::create_directory(odd));
  const std::string program = odd + "/" + std::string(250, '\x01') + "\xf0\x9f\x98";
  fs::copy_file("/bin/true", program);
  ASSERT_EQ(chmod(program.c_str(), 0755), 0);
  const std::string log = dir_ + "/odd.log";
  for (const Injection& in : injections()) {
    const Captured o = run_captured({"env", in.variable, "SEALKIT_LOG=" + log, program});
    EXPECT_EQ(o.status, 0) << in.name << ": " << o.err;
  }
  std::istringstream lines(read_file(log));
  std::size_t n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    nlohmann::json j;
    ASSERT_NO_THROW(j = nlohmann::json::parse(line)) << "line " << n + 1 << " is not JSON: " << line;
    EXPECT_EQ(j.at("phase"), "startup");
    EXPECT_NE(j.at("exe").get<std::string>().find("\x01\xef\xbf\xbd\xc3\xa9\"\\\x7f\xef\xbf\xbd"), std::string::npos)
        << "U+FFFD for the byte that is not UTF-8, the rest as it was";
  }
  EXPECT_EQ(n, 2u) << "one line each for the preload object and the audit module";
}

}  // namespace
