// The runtime's configuration file (src/runtime/config.hpp): its syntax, its
// patterns, and the checks on who may write it, on real files.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/config.hpp"

namespace {

using sealkit::rt::Config;
using sealkit::rt::Policy;

struct Rejected {
  std::vector<std::pair<std::size_t, std::string>> lines;
  static void record(std::size_t line, std::string_view message, void* self) {
    static_cast<Rejected*>(self)->lines.emplace_back(line, std::string(message));
  }
};

// Config holds 16 KiB of text: not on the test's stack.
std::unique_ptr<Config> parsed(const std::string& text, Rejected* r = nullptr) {
  auto c = std::make_unique<Config>();
  c->parse(text, r ? &Rejected::record : nullptr, r);
  return c;
}

TEST(RuntimeConfig, EmptyTextMeansTheDefaults) {
  auto c = parsed("");
  EXPECT_FALSE(c->has_policy());
  EXPECT_EQ(c->policy(), Policy::kPromote);
  EXPECT_FALSE(c->has_program_patterns());
  EXPECT_EQ(c->object_patterns(), 0u);
  EXPECT_FALSE(c->object_excluded("/usr/lib/x86_64-linux-gnu/libc.so.6"));
}

TEST(RuntimeConfig, ReadsPolicyAndPatternsWithCommentsAndSpaces) {
  Rejected r;
  auto c = parsed("# a comment\n\n  dlopen\t=  nodelete  # trailing comment\r\n"
                  "exclude-program = /usr/sbin/criu\nexclude-program=hotpatchd\n"
                  "exclude-object = libhp.so*\nexclude-object = /opt/x/libjit.so\n",
                  &r);
  EXPECT_TRUE(r.lines.empty());
  EXPECT_TRUE(c->has_policy());
  EXPECT_EQ(c->policy(), Policy::kNodelete);
  EXPECT_TRUE(c->program_excluded("/usr/sbin/criu"));
  EXPECT_FALSE(c->program_excluded("/usr/local/sbin/criu")) << "a path pattern matches the whole path";
  EXPECT_TRUE(c->program_excluded("/usr/bin/hotpatchd")) << "a name matches the last component";
  EXPECT_FALSE(c->program_excluded("/usr/bin/hotpatchd2"));
  EXPECT_TRUE(c->object_excluded("/usr/lib/libhp.so"));
  EXPECT_TRUE(c->object_excluded("/usr/lib/libhp.so.1.2"));
  EXPECT_FALSE(c->object_excluded("/usr/lib/libhpx.so"));
  EXPECT_TRUE(c->object_excluded("/opt/x/libjit.so"));
  EXPECT_FALSE(c->object_excluded("/opt/y/libjit.so"));
  EXPECT_FALSE(c->object_excluded("")) << "the main program is never an excluded object";
}

TEST(RuntimeConfig, EachBadLineIsReportedWithItsNumberAndIgnored) {
  Rejected r;
  auto c = parsed("dlopen = promote\n"          // 1 ok
                  "dlopen = sometimes\n"        // 2 bad value: the earlier setting stays
                  "just words\n"                // 3 no '='
                  "colour = blue\n"             // 4 unknown key
                  "exclude-object = a*b\n"      // 5 '*' inside
                  "exclude-object = lib/x.so\n" // 6 relative path
                  "exclude-object =\n"          // 7 empty
                  "exclude-program = *\n"       // 8 everything
                  "exclude-program = /*\n"      // 9 every absolute path: everything too
                  "exclude-object = libok.so\n",  // 10 ok
                  &r);
  std::vector<std::size_t> got;
  for (const auto& [line, message] : r.lines) {
    got.push_back(line);
    EXPECT_FALSE(message.empty());
  }
  EXPECT_EQ(got, (std::vector<std::size_t>{2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(c->policy(), Policy::kPromote);
  EXPECT_EQ(c->object_patterns(), 1u);
  EXPECT_FALSE(c->has_program_patterns());
  EXPECT_TRUE(c->object_excluded("/lib/libok.so"));
}

// `log = syslog` switches the start-up line into the system log; off (the
// default) and a bad value (one report) leave it out.
TEST(RuntimeConfig, TheLogSettingTakesSyslogOrOff) {
  EXPECT_FALSE(parsed("")->log_to_syslog());
  EXPECT_TRUE(parsed("log = syslog\n")->log_to_syslog());
  EXPECT_FALSE(parsed("log = syslog\nlog = off\n")->log_to_syslog());
  Rejected r;
  auto c = parsed("log = journal\n", &r);
  EXPECT_FALSE(c->log_to_syslog());
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0], (std::pair<std::size_t, std::string>{1, "log must be syslog or off"}));
}

TEST(RuntimeConfig, PatternCountIsBounded) {
  std::string text;
  for (int i = 0; i < 70; ++i) text += "exclude-object = lib" + std::to_string(i) + ".so\n";
  Rejected r;
  auto c = parsed(text, &r);
  EXPECT_EQ(c->object_patterns(), Config::kMaxPatterns);
  ASSERT_EQ(r.lines.size(), 70 - Config::kMaxPatterns);
  EXPECT_EQ(r.lines.front().first, Config::kMaxPatterns + 1);
}

TEST(RuntimeConfig, ArbitraryBytesNeverCrash) {
  std::string text;
  unsigned x = 12345;
  for (int i = 0; i < 20000; ++i) {
    x = x * 1103515245u + 12345u;
    const char alphabet[] = "=#*/ \t\r\n\0aexclude-objectdlopen\x01\xff";
    text.push_back(alphabet[(x >> 16) % (sizeof alphabet - 1)]);
  }
  Rejected r;
  auto c = parsed(text, &r);
  EXPECT_LE(c->object_patterns(), Config::kMaxPatterns);
}

// Files on disk: who may write the configuration.
class RuntimeConfigFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sealkit-config-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    std::filesystem::permissions(dir_, std::filesystem::perms(0755));  // whatever the umask
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text, mode_t mode) {
    const std::string p = (dir_ / name).string();
    std::ofstream(p) << text;
    chmod(p.c_str(), mode);
    return p;
  }
  std::filesystem::path dir_;
  Config config_;
};

TEST_F(RuntimeConfigFile, AFileNamedOutsideSecureExecutionIsRead) {
  const std::string p = write("ok.conf", "dlopen = off\nexclude-object = libz.so*\n", 0644);
  EXPECT_EQ(config_.load(false, p.c_str(), true), Config::Load::kLoaded);
  EXPECT_EQ(config_.policy(), Policy::kOff);
  EXPECT_TRUE(config_.object_excluded("/lib/libz.so.1"));
}

TEST_F(RuntimeConfigFile, SecureExecutionIgnoresTheNamedFile) {
  const std::string p = write("ok.conf", "dlopen = off\n", 0644);
  if (std::filesystem::exists(sealkit::rt::kSystemConfigPath))
    GTEST_SKIP() << sealkit::rt::kSystemConfigPath << " exists on this machine: it would be read instead";
  EXPECT_EQ(config_.load(true, p.c_str(), true), Config::Load::kNone) << "only the system file may be read";
  EXPECT_FALSE(config_.has_policy());
}

TEST_F(RuntimeConfigFile, WritableByOthersIsRejected) {
  const std::string p = write("open.conf", "dlopen = off\n", 0666);
  EXPECT_EQ(config_.load(false, p.c_str(), true), Config::Load::kRejected);
  EXPECT_FALSE(config_.has_policy());
}

TEST_F(RuntimeConfigFile, OwnedBySomeoneElseIsRejected) {
  if (geteuid() != 0) GTEST_SKIP() << "giving a file to another user needs root";
  const std::string p = write("theirs.conf", "dlopen = off\n", 0644);
  ASSERT_EQ(chown(p.c_str(), 12345, 12345), 0);
  EXPECT_EQ(config_.load(false, p.c_str(), true), Config::Load::kRejected);
}

TEST_F(RuntimeConfigFile, AFifoIsRejectedWithoutHanging) {
  const std::string p = (dir_ / "fifo").string();
  ASSERT_EQ(mkfifo(p.c_str(), 0644), 0);
  EXPECT_EQ(config_.load(false, p.c_str(), true), Config::Load::kRejected);
}

// The whole path is checked, as sudo and sshd check theirs: a link anywhere on
// the way, or a directory others may write to (and so swap the file in), and
// the file is ignored with one warning naming the component.
std::string load_warning(Config& c, const std::string& path, Config::Load& load) {
  testing::internal::CaptureStderr();
  load = c.load(false, path.c_str(), false);
  return testing::internal::GetCapturedStderr();
}

TEST_F(RuntimeConfigFile, ALinkOnThePathIsRejectedWithAWarning) {
  std::filesystem::create_directories(dir_ / "real");
  std::filesystem::permissions(dir_ / "real", std::filesystem::perms(0755));
  const std::string file = write("real/ok.conf", "dlopen = nodelete\n", 0644);
  std::filesystem::create_directory_symlink(dir_ / "real", dir_ / "linked-dir");
  std::filesystem::create_symlink(file, dir_ / "linked.conf");
  Config::Load load;
  std::string err = load_warning(config_, (dir_ / "linked-dir" / "ok.conf").string(), load);
  EXPECT_EQ(load, Config::Load::kRejected);
  EXPECT_FALSE(config_.has_policy());
  EXPECT_EQ(err, "sealkit: warning: " + (dir_ / "linked-dir" / "ok.conf").string() + ": " +
                     (dir_ / "linked-dir").string() +
                     " is a symbolic link (name the real path: no link may stand on the way); file ignored\n");
  err = load_warning(config_, (dir_ / "linked.conf").string(), load);
  EXPECT_EQ(load, Config::Load::kRejected);
  EXPECT_NE(err.find("is a symbolic link"), std::string::npos) << err;
  // The control: the real path is read.
  EXPECT_EQ(config_.load(false, file.c_str(), true), Config::Load::kLoaded);
  EXPECT_EQ(config_.policy(), Policy::kNodelete);
}

TEST_F(RuntimeConfigFile, ADirectoryOthersCanWriteIsRejectedUnlessSticky) {
  std::filesystem::create_directories(dir_ / "shared");
  const std::string file = write("shared/ok.conf", "dlopen = nodelete\n", 0644);
  chmod((dir_ / "shared").c_str(), 0775);  // group-writable: the group could put another file in its place
  Config::Load load;
  const std::string err = load_warning(config_, file, load);
  EXPECT_EQ(load, Config::Load::kRejected);
  EXPECT_FALSE(config_.has_policy());
  EXPECT_EQ(err, "sealkit: warning: " + file + ": " + (dir_ / "shared").string() +
                     " is writable by its group or by others and has no sticky bit; file ignored\n");
  // With the sticky bit (as /tmp, which this test's own directory is in) only
  // the entry's owner may replace it: the file is read.
  chmod((dir_ / "shared").c_str(), 01777);
  EXPECT_EQ(config_.load(false, file.c_str(), true), Config::Load::kLoaded);
  EXPECT_EQ(config_.policy(), Policy::kNodelete);
}

TEST_F(RuntimeConfigFile, ADirectoryOfAnotherUserIsRejected) {
  if (geteuid() != 0) GTEST_SKIP() << "giving a directory to another user needs root";
  std::filesystem::create_directories(dir_ / "theirs");
  const std::string file = write("theirs/ok.conf", "dlopen = nodelete\n", 0644);
  ASSERT_EQ(chown((dir_ / "theirs").c_str(), 12345, 12345), 0);
  Config::Load load;
  const std::string err = load_warning(config_, file, load);
  EXPECT_EQ(load, Config::Load::kRejected);
  EXPECT_NE(err.find((dir_ / "theirs").string() + " is owned by neither root nor the user"), std::string::npos)
      << err;
}

TEST_F(RuntimeConfigFile, TooLargeMissingOrRelativeIsRejected) {
  const std::string big = write("big.conf", std::string(Config::kMaxBytes + 1, '#'), 0644);
  EXPECT_EQ(config_.load(false, big.c_str(), true), Config::Load::kRejected);
  EXPECT_EQ(config_.load(false, (dir_ / "missing.conf").c_str(), true), Config::Load::kRejected);
  EXPECT_EQ(config_.load(false, "relative.conf", true), Config::Load::kRejected);
  const std::string exact = write("exact.conf", std::string(Config::kMaxBytes - 1, '#') + "\n", 0644);
  EXPECT_EQ(config_.load(false, exact.c_str(), true), Config::Load::kLoaded) << "the limit itself is allowed";
}

}  // namespace
