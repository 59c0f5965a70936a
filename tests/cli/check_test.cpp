// `sealkit check` as a user runs it: over whole system directories, on
// explicit files, with bad arguments.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

struct Result {
  int status;
  std::string out;
};

// sealkit with `args`, as root or as the numeric user and group `user`.
Result run(const std::string& args, const std::string& user = "") {
  std::string cmd = std::string(SEALKIT_BIN) + " " + args + " 2>/dev/null";
  if (!user.empty()) cmd = "setpriv --reuid=" + user + " --regid=" + user + " --clear-groups " + cmd;
  Result r{-1, ""};
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 65536> buf;
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

}  // namespace

// Every file of /usr/bin and the multiarch library directory,
// without a crash, each reported or given a reason.
TEST(SealkitCheck, WalksSystemDirectoriesWithoutACrash) {
  Result r = run("check --json /usr/bin /usr/lib/x86_64-linux-gnu");
  ASSERT_TRUE(r.status == 0 || r.status == 1) << "exit " << r.status;
  auto j = nlohmann::json::parse(r.out);
  const auto& files = j.at("files");
  EXPECT_GT(files.size(), 500u);
  std::size_t errors = 0, pies = 0, shared = 0;
  for (const auto& f : files) {
    if (f.contains("error")) {
      ++errors;
      EXPECT_FALSE(f.at("error").get<std::string>().empty());
      continue;
    }
    pies += f.at("type") == "pie";
    shared += f.at("type") == "shared";
    // Debian 12 ships no PT_GNU_MUTABLE: everything loadable is sealed
    // whole, but for the page-aligned writable sections of a few programs
    // (gzip's buffers, node's and Chromium's V8 flags) and any W|X segment.
    if (f.at("type") != "object") {
      EXPECT_GT(f.at("run_seals_bytes").get<std::uint64_t>(), 0u) << f.at("path");
      std::uint64_t sections = 0;
      for (const auto& m : f.at("mutable_sections")) sections += m.at("unsealed_bytes").get<std::uint64_t>();
      if (f.at("wx_segments") == 0) {
        EXPECT_EQ(f.at("run_leaves_bytes").get<std::uint64_t>(), sections) << f.at("path");
      }
      if (sections) std::printf("kept mutable: %s %s\n", f.at("path").get<std::string>().c_str(), f.at("run").get<std::string>().c_str());
    }
  }
  EXPECT_EQ(j.at("errors").get<std::size_t>(), errors);
  EXPECT_EQ(r.status, errors ? 1 : 0);
  EXPECT_GT(pies, 50u);
  EXPECT_GT(shared, 100u);
}

// A file that is not ELF is skipped and counted, named with its reason, and
// is not an error: the ELF files beside it decide the exit status.
TEST(SealkitCheck, ExplicitNonElfFileIsSkippedAndCounted) {
  Result r = run("check --json /etc/passwd /usr/bin/true");
  EXPECT_EQ(r.status, 0);
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.at("files").size(), 1u);
  EXPECT_EQ(j["files"][0].at("run"), "seals all");
  EXPECT_EQ(j.at("errors"), 0);
  EXPECT_EQ(j.at("non_elf_skipped"), 1);
  ASSERT_EQ(j.at("skipped").size(), 1u);
  EXPECT_EQ(j["skipped"][0].at("path"), "/etc/passwd");
  EXPECT_EQ(j["skipped"][0].at("reason"), "not an ELF file");
  EXPECT_EQ(j.at("schema"), 1);
  Result table = run("check /etc/passwd /usr/bin/true");
  EXPECT_NE(table.out.find("1 ELF file checked, 0 paths unreadable, 1 non-ELF file skipped"), std::string::npos)
      << table.out;
}

// A FIFO or a device given as FILE: no hang (nothing writes the FIFO), skipped as what it is.
TEST(SealkitCheck, AFifoOrADeviceIsSkippedAsNotARegularFile) {
  char dir[] = "/tmp/sealkit-check-fifo-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string fifo = std::string(dir) + "/f";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  Result r = run("check --json " + fifo + " /dev/zero");
  unlink(fifo.c_str());
  rmdir(dir);
  EXPECT_EQ(r.status, 0);
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("files").size(), 0u);
  ASSERT_EQ(j.at("skipped").size(), 2u);
  EXPECT_EQ(j["skipped"][0].at("reason"), "not a regular file");
  EXPECT_EQ(j["skipped"][1].at("reason"), "not a regular file");
}

// What cannot be read is an error with its reason, never an all-clear: a
// directory this user cannot list, a path that is not there. The other
// paths are still checked.
TEST(SealkitCheck, UnreadablePathsAreErrorsAndTheRestIsStillChecked) {
  if (::geteuid() != 0) GTEST_SKIP() << "making a directory unreadable to another user needs root";
  char dir[] = "/tmp/sealkit-check-closed-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string closed = std::string(dir) + "/closed";
  ASSERT_EQ(::mkdir(closed.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(dir, 0755), 0);
  Result r = run("check --json " + std::string(dir) + " /nonexistent/path /usr/bin/true", "65534");
  Result table = run("check " + std::string(dir), "65534");
  ::rmdir(closed.c_str());
  ::rmdir(dir);
  EXPECT_EQ(r.status, 1) << r.out;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.at("files").size(), 3u) << r.out;
  EXPECT_EQ(j["files"][0].at("path"), closed);
  EXPECT_EQ(j["files"][0].at("error"), "cannot read the directory: Permission denied");
  EXPECT_EQ(j["files"][1].at("path"), "/nonexistent/path");
  EXPECT_EQ(j["files"][1].at("error"), "No such file or directory");
  EXPECT_EQ(j["files"][2].at("run"), "seals all") << "checked after the unreadable ones";
  EXPECT_EQ(j.at("errors"), 2);
  EXPECT_EQ(table.status, 1);
  EXPECT_NE(table.out.find("0 ELF files checked, 1 path unreadable"), std::string::npos) << table.out;
}

TEST(SealkitCheck, StaticProgramIsReportedAsNotSealable) {
  Result r = run(std::string("check --json ") + STATIC_TARGET);
  EXPECT_EQ(r.status, 0);
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["files"][0].at("run"), "static: cannot seal");
  EXPECT_EQ(j["files"][0].at("interpreter"), false);
}

// A segment the file asks to be writable and executable: `sealkit run` leaves
// it unsealed (docs/runtime.md, "Protections"), and says so.
TEST(SealkitCheck, WritableAndExecutableSegmentIsLeftOutOfWhatRunSeals) {
  Result r = run(std::string("check --json ") + WX_LIB);
  EXPECT_EQ(r.status, 0);
  auto j = nlohmann::json::parse(r.out);
  const auto& f = j["files"][0];
  EXPECT_EQ(f.at("wx_segments"), 1);
  EXPECT_EQ(f.at("run"), "seals all but W|X");
  EXPECT_EQ(f.at("run_leaves_bytes"), 8192u) << "its two pages";
}

TEST(SealkitCheck, UsageErrorsExitTwo) {
  EXPECT_EQ(run("check").status, 2);
  EXPECT_EQ(run("check --bogus /usr/bin/true").status, 2);
}
