// `sealkit check` as a user runs it: over whole system directories, on
// explicit files, with bad arguments.
#include <elf.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
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

// A file's own header says how long its dynamic section and property notes
// are: a sparse file claiming half a gigabyte must not cost root's `check`
// (or `audit`, whose ELF reader is the same) that much memory.
TEST(SealkitCheck, ASegmentSizeTheFileClaimsDoesNotDecideTheMemoryRead) {
  char dir[] = "/tmp/sealkit-check-sparse-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string file = std::string(dir) + "/claims-512-MiB";
  {
    std::ifstream in("/usr/bin/true", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_GT(bytes.size(), sizeof(Elf64_Ehdr));
    Elf64_Ehdr eh;
    std::memcpy(&eh, bytes.data(), sizeof eh);
    constexpr std::uint64_t kClaimed = std::uint64_t{512} << 20;
    bool patched = false;
    for (int i = 0; i < eh.e_phnum; ++i) {
      Elf64_Phdr ph;
      const std::size_t at = eh.e_phoff + static_cast<std::size_t>(i) * eh.e_phentsize;
      std::memcpy(&ph, bytes.data() + at, sizeof ph);
      if (ph.p_type != PT_DYNAMIC && ph.p_type != PT_GNU_PROPERTY) continue;
      ph.p_offset = 4096;
      ph.p_filesz = kClaimed;
      std::memcpy(bytes.data() + at, &ph, sizeof ph);
      patched = true;
    }
    ASSERT_TRUE(patched) << "/usr/bin/true has no PT_DYNAMIC";
    std::ofstream out(file, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    ASSERT_EQ(::truncate(file.c_str(), static_cast<off_t>(4096 + kClaimed + 4096)), 0);  // sparse: no disk used
  }
  // The largest resident size of `sealkit check` alone: measured in a child that runs nothing else.
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  const pid_t measurer = ::fork();
  ASSERT_GE(measurer, 0);
  if (measurer == 0) {
    const pid_t c = ::fork();
    if (c == 0) {
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::execl(SEALKIT_BIN, SEALKIT_BIN, "check", file.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    int status = 0;
    ::waitpid(c, &status, 0);
    rusage ru{};
    ::getrusage(RUSAGE_CHILDREN, &ru);
    const long report[2] = {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), ru.ru_maxrss};
    if (::write(p[1], report, sizeof report) != sizeof report) _exit(1);
    _exit(0);
  }
  ::close(p[1]);
  long report[2] = {-1, -1};
  ASSERT_EQ(::read(p[0], report, sizeof report), static_cast<ssize_t>(sizeof report));
  ::close(p[0]);
  ::waitpid(measurer, nullptr, 0);
  ::unlink(file.c_str());
  ::rmdir(dir);
  EXPECT_LT(report[0], 2) << "exit status";
  EXPECT_LT(report[1], 100 * 1024) << "KiB resident at most, for a file claiming a 512 MiB segment";
}

// A tree deeper than one path can name is still walked (by names relative to
// each directory), and one deeper than the walk goes is an unreadable row,
// never a silent all-clear.
TEST(SealkitCheck, DeepTreesAreWalkedOrReportedNeverSkippedInSilence) {
  char dir[] = "/tmp/sealkit-check-deep-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const int top = ::open(dir, O_RDONLY | O_DIRECTORY);
  ASSERT_GE(top, 0);
  const std::string level = "dddddddddddddddddddd";  // 21 bytes a level with its '/': 200 levels pass PATH_MAX
  int at = ::dup(top);
  for (int depth = 1; depth <= 300; ++depth) {
    ASSERT_EQ(::mkdirat(at, level.c_str(), 0755), 0) << depth;
    const int next = ::openat(at, level.c_str(), O_RDONLY | O_DIRECTORY);
    ::close(at);
    at = next;
    if (depth == 200) {
      const int in = ::open("/usr/bin/true", O_RDONLY);
      const int out = ::openat(at, "true-200-deep", O_WRONLY | O_CREAT | O_EXCL, 0755);
      char buf[65536];
      for (ssize_t n; (n = ::read(in, buf, sizeof buf)) > 0;) ASSERT_EQ(::write(out, buf, static_cast<std::size_t>(n)), n);
      ::close(in);
      ::close(out);
    }
  }
  ::close(at);
  Result r = run("check --json " + std::string(dir));
  ::close(top);
  std::system(("rm -rf " + std::string(dir)).c_str());
  EXPECT_EQ(r.status, 1) << "the part too deep to walk is unreadable";
  auto j = nlohmann::json::parse(r.out);
  std::size_t found = 0, too_deep = 0;
  for (const auto& f : j.at("files")) {
    const std::string path = f.at("path");
    if (path.size() > 4096 && path.find("/true-200-deep") != std::string::npos && f.value("run", "") == "seals all") ++found;
    if (f.value("error", "").find("directories deep: not walked") != std::string::npos) ++too_deep;
  }
  EXPECT_EQ(found, 1u) << "the ELF file 200 levels down, its path longer than PATH_MAX";
  EXPECT_EQ(too_deep, 1u);
}
