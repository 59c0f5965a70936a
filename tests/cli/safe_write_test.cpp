// The files sealkit writes (`audit --output`, `map --svg/--html`) and the log
// directory it hands to the runtime (`run --log`), under the rule of
// docs/cli.md, "Files sealkit writes": a link planted at FILE.tmp or at FILE
// is never followed, a directory that another user can write or
// swap is refused with exit 2 and a message, and the normal case leaves the
// whole file, its mode, and nothing else. Real files in a scratch directory,
// the sealkit binary run as root and, through setpriv, as nobody (65534).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/subprocess.hpp"

namespace {

namespace fs = std::filesystem;
using sealkit::test::Captured;
using sealkit::test::run_captured;

constexpr uid_t kNobody = 65534;

// A directory under /tmp that nobody may enter too (0755), removed at the end.
struct Scratch {
  std::string path;
  Scratch() {
    char tmpl[] = "/tmp/sealkit-safe-write-XXXXXX";
    if (::mkdtemp(tmpl) != nullptr) path = tmpl;
    if (!path.empty()) ::chmod(path.c_str(), 0755);
  }
  ~Scratch() {
    if (!path.empty()) fs::remove_all(path);
  }
  std::string at(const std::string& name) const { return path + "/" + name; }
};

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// A directory with this owner and mode (chmod after mkdir: the umask does not apply).
void make_dir(const std::string& path, uid_t owner, mode_t mode) {
  ASSERT_EQ(::mkdir(path.c_str(), 0700), 0) << path;
  ASSERT_EQ(::chown(path.c_str(), owner, owner), 0) << path;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0) << path;
}

std::set<std::string> entries(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

Captured run_sealkit(const std::vector<std::string>& args) {
  std::vector<std::string> argv{SEALKIT_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_captured(argv);
}

// The same as uid and gid 65534 with no supplementary groups.
Captured sealkit_as_nobody(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
                                SEALKIT_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_captured(argv);
}

// Whether nobody can run the binary here (every directory above it searchable); `why` when not.
bool nobody_can_run_sealkit(std::string& why) {
  if (::access("/usr/bin/setpriv", X_OK) != 0) {
    why = "/usr/bin/setpriv is missing (util-linux)";
    return false;
  }
  Captured v = sealkit_as_nobody({"--version"});
  if (v.status != 0) why = "nobody cannot run " + std::string(SEALKIT_BIN) + " (directory permissions): " + v.err;
  return v.status == 0;
}

// `sealkit audit` of this process's parent to FILE in Prometheus format: small, and it always succeeds.
std::vector<std::string> audit_to(const std::string& file) {
  return {"audit", std::to_string(::getppid()), "--format", "prometheus", "--no-filters", "--output", file};
}

bool is_whole_prometheus_text(const std::string& text) {
  return text.rfind("# HELP sealkit_build_info ", 0) == 0 &&
         text.find("\nsealkit_audit_duration_seconds ") != std::string::npos && !text.empty() && text.back() == '\n';
}

mode_t current_umask() {
  const mode_t u = ::umask(0);
  ::umask(u);
  return u;
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 ? st.st_mode : 0;
}

}  // namespace

// The normal case: the whole file, mode 0644 minus the umask (set on the
// descriptor, so a umask of 077 gives 0600), replacing the old file, and no
// temporary file left in the directory.
TEST(SafeWrite, WritesTheWholeFileWithItsModeAndLeavesNothingElse) {
  Scratch dir;
  ASSERT_FALSE(dir.path.empty());
  const std::string out = dir.at("sealkit.prom");
  write_text(out, "old\n");
  ASSERT_EQ(::chmod(out.c_str(), 0600), 0);

  Captured w = run_sealkit(audit_to(out));
  ASSERT_EQ(w.status, 0) << w.err;
  EXPECT_TRUE(is_whole_prometheus_text(read_text(out))) << read_text(out);
  EXPECT_TRUE(S_ISREG(mode_of(out)));
  EXPECT_EQ(mode_of(out) & 07777, 0644u & ~current_umask()) << "mode 0644 minus the umask";
  EXPECT_EQ(entries(dir.path), std::set<std::string>{"sealkit.prom"}) << "no temporary file is left behind";

  const mode_t old_umask = ::umask(077);
  Captured p = run_sealkit(audit_to(out));
  ::umask(old_umask);
  ASSERT_EQ(p.status, 0) << p.err;
  EXPECT_EQ(mode_of(out) & 07777, 0600u) << "the umask only takes bits away";
  EXPECT_EQ(entries(dir.path), std::set<std::string>{"sealkit.prom"});
}

// A link planted at FILE.tmp, the fixed temporary name a naive writer uses:
// the link's target keeps its bytes, and FILE is written all the same.
TEST(SafeWrite, LinkAtAFixedTemporaryNameIsNotFollowed) {
  Scratch dir;
  ASSERT_FALSE(dir.path.empty());
  const std::string victim = dir.at("ld.so.preload"), out = dir.at("sealkit.prom");
  write_text(victim, "precious\n");
  ASSERT_EQ(::symlink(victim.c_str(), (out + ".tmp").c_str()), 0);

  Captured w = run_sealkit(audit_to(out));
  ASSERT_EQ(w.status, 0) << w.err;
  EXPECT_TRUE(read_text(victim) == "precious\n") << "the write went through the planted link";
  EXPECT_TRUE(is_whole_prometheus_text(read_text(out)));
  EXPECT_TRUE(S_ISLNK(mode_of(out + ".tmp"))) << "the planted link is left alone";
  EXPECT_EQ(entries(dir.path), (std::set<std::string>{"ld.so.preload", "sealkit.prom", "sealkit.prom.tmp"}));
}

// A link at the target itself (planted, or one such as /dev/stdout): refused
// with exit 2, neither written through nor replaced; a device too.
TEST(SafeWrite, LinkAtTheTargetIsRefusedNotFollowed) {
  Scratch dir;
  ASSERT_FALSE(dir.path.empty());
  const std::string victim = dir.at("victim");
  write_text(victim, "precious\n");
  for (const char* name : {"a.prom", "m.svg", "m.html"}) ASSERT_EQ(::symlink(victim.c_str(), dir.at(name).c_str()), 0);

  Captured a = run_sealkit(audit_to(dir.at("a.prom")));
  EXPECT_EQ(a.status, 2) << a.out << a.err;
  EXPECT_NE(a.err.find("cannot write " + dir.at("a.prom") + ": it is a symbolic link"), std::string::npos) << a.err;
  const std::string self = std::to_string(::getpid());
  Captured svg = run_sealkit({"map", self, "--svg", dir.at("m.svg")});
  EXPECT_EQ(svg.status, 2) << svg.out << svg.err;
  EXPECT_NE(svg.err.find("symbolic link"), std::string::npos) << svg.err;
  Captured html = run_sealkit({"map", self, "--html", dir.at("m.html")});
  EXPECT_EQ(html.status, 2) << html.out << html.err;

  EXPECT_TRUE(read_text(victim) == "precious\n") << "a write went through a link at the target";
  for (const char* name : {"a.prom", "m.svg", "m.html"}) EXPECT_TRUE(S_ISLNK(mode_of(dir.at(name)))) << name;
  EXPECT_EQ(entries(dir.path), (std::set<std::string>{"victim", "a.prom", "m.svg", "m.html"}));

  Captured dev = run_sealkit({"map", self, "--svg", "/dev/null"});
  EXPECT_EQ(dev.status, 2) << dev.out << dev.err;
  EXPECT_NE(dev.err.find("not a regular file"), std::string::npos) << dev.err;
  EXPECT_TRUE(S_ISCHR(mode_of("/dev/null")));
}

// The map's two outputs at once, into a fresh directory: whole, with their mode.
TEST(SafeWrite, MapWritesBothPictures) {
  Scratch dir;
  ASSERT_FALSE(dir.path.empty());
  Captured m = run_sealkit({"map", std::to_string(::getpid()), "--svg", dir.at("m.svg"), "--html", dir.at("m.html")});
  ASSERT_EQ(m.status, 0) << m.err;
  const std::string svg = read_text(dir.at("m.svg")), html = read_text(dir.at("m.html"));
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_NE(html.find("</html>"), std::string::npos);
  for (const char* name : {"m.svg", "m.html"}) EXPECT_EQ(mode_of(dir.at(name)) & 07777, 0644u & ~current_umask());
  EXPECT_EQ(entries(dir.path), (std::set<std::string>{"m.svg", "m.html"}));
}

// A target directory that another user can write: refused (sticky or not,
// world- or group-writable), nothing created, exit 2, the message says what
// is wrong and what to do.
TEST(SafeWrite, DirectoryOthersCanWriteIsRefused) {
  Scratch dir;
  ASSERT_FALSE(dir.path.empty());
  struct Case {
    const char* name;
    mode_t mode;
    const char* says;
  };
  for (const Case& c : {Case{"world", 0777, "writable by every user"}, Case{"sticky", 01777, "writable by every user"},
                        Case{"group", 0775, "writable by group"}}) {
    SCOPED_TRACE(c.name);
    const std::string sub = dir.at(c.name);
    make_dir(sub, ::geteuid(), c.mode);
    Captured w = run_sealkit(audit_to(sub + "/sealkit.prom"));
    EXPECT_EQ(w.status, 2) << w.out << w.err;
    EXPECT_NE(w.err.find("refusing to write " + sub + "/sealkit.prom"), std::string::npos) << w.err;
    EXPECT_NE(w.err.find(sub + " is " + c.says), std::string::npos) << w.err;
    EXPECT_NE(w.err.find("chmod go-w"), std::string::npos) << "says what to do: " << w.err;
    EXPECT_NE(w.err.find("--output"), std::string::npos) << w.err;
    EXPECT_TRUE(entries(sub).empty()) << "nothing may be created there";

    Captured m = run_sealkit({"map", std::to_string(::getpid()), "--svg", sub + "/m.svg"});
    EXPECT_EQ(m.status, 2) << m.out << m.err;
    EXPECT_NE(m.err.find(sub + " is " + c.says), std::string::npos) << m.err;
    EXPECT_TRUE(entries(sub).empty());
  }
}

// As root: a target directory owned by another user (nobody) is refused.
TEST(SafeWrite, DirectoryOwnedByAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a directory to another user";
  Scratch dir;
  ASSERT_FALSE(dir.path.empty());
  const std::string sub = dir.at("nobodys");
  make_dir(sub, kNobody, 0755);
  Captured w = run_sealkit(audit_to(sub + "/sealkit.prom"));
  EXPECT_EQ(w.status, 2) << w.out << w.err;
  EXPECT_NE(w.err.find(sub + " is owned by uid 65534"), std::string::npos) << w.err;
  EXPECT_NE(w.err.find("neither root nor you"), std::string::npos) << w.err;
  EXPECT_TRUE(entries(sub).empty());
}

// The attack in the Debian layout: /var/lib/prometheus belongs to the
// prometheus user, the textfile directory below it to root. That user
// replaces the textfile directory by a link to a directory of root's (here
// `etc`), hoping that root's timer writes `ld.so.preload` there. The parent
// is refused whatever it holds; root's file keeps its bytes.
TEST(SafeWrite, DirectoryAnotherUserCanSwapIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a directory to another user";
  Scratch dir;
  ASSERT_FALSE(dir.path.empty());
  const std::string prometheus = dir.at("prometheus"), etc = dir.at("etc");
  make_dir(prometheus, kNobody, 0755);
  make_dir(prometheus + "/node-exporter", 0, 0755);
  make_dir(etc, 0, 0755);
  write_text(etc + "/ld.so.preload", "precious\n");

  // Before the swap: refused for the parent, not for the directory itself.
  Captured before = run_sealkit(audit_to(prometheus + "/node-exporter/sealkit.prom"));
  EXPECT_EQ(before.status, 2) << before.out << before.err;
  EXPECT_NE(before.err.find(prometheus + " is owned by uid 65534"), std::string::npos) << before.err;
  EXPECT_NE(before.err.find("could swap"), std::string::npos) << before.err;
  EXPECT_TRUE(entries(prometheus + "/node-exporter").empty());

  // The swap, as the other user would make it.
  ASSERT_EQ(::rename((prometheus + "/node-exporter").c_str(), (prometheus + "/old").c_str()), 0);
  ASSERT_EQ(::symlink(etc.c_str(), (prometheus + "/node-exporter").c_str()), 0);
  ASSERT_EQ(::lchown((prometheus + "/node-exporter").c_str(), kNobody, kNobody), 0);
  Captured after = run_sealkit(audit_to(prometheus + "/node-exporter/ld.so.preload"));
  EXPECT_EQ(after.status, 2) << after.out << after.err;
  EXPECT_TRUE(read_text(etc + "/ld.so.preload") == "precious\n") << "root's file was replaced through the link";
  EXPECT_EQ(entries(etc), std::set<std::string>{"ld.so.preload"});

  // A link that root made in a directory of root's is followed: only root could have put it there.
  const std::string root_link = dir.at("textfile");
  ASSERT_EQ(::symlink(etc.c_str(), root_link.c_str()), 0);
  Captured followed = run_sealkit(audit_to(root_link + "/sealkit.prom"));
  EXPECT_EQ(followed.status, 0) << followed.err;
  EXPECT_TRUE(is_whole_prometheus_text(read_text(etc + "/sealkit.prom")));
}

// Unprivileged: the caller's own directory is fine (the file is the
// caller's, mode 0644); root's directory cannot be written and says so; a
// link planted at FILE.tmp is not followed either.
TEST(SafeWrite, AnUnprivilegedCallerWritesIntoItsOwnDirectory) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run sealkit as another user";
  std::string why;
  if (!nobody_can_run_sealkit(why)) GTEST_SKIP() << why;
  Scratch dir;
  ASSERT_FALSE(dir.path.empty());
  const std::string mine = dir.at("mine"), victim = dir.at("mine/victim");
  make_dir(mine, kNobody, 0755);
  write_text(victim, "precious\n");
  ASSERT_EQ(::chown(victim.c_str(), kNobody, kNobody), 0);
  ASSERT_EQ(::symlink(victim.c_str(), (mine + "/sealkit.prom.tmp").c_str()), 0);

  Captured w = sealkit_as_nobody(audit_to(mine + "/sealkit.prom"));
  ASSERT_EQ(w.status, 0) << w.err;
  struct stat st {};
  ASSERT_EQ(::lstat((mine + "/sealkit.prom").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_uid, kNobody);
  EXPECT_EQ(st.st_mode & 07777, 0644u & ~current_umask());
  EXPECT_TRUE(is_whole_prometheus_text(read_text(mine + "/sealkit.prom")));
  EXPECT_TRUE(read_text(victim) == "precious\n");
  EXPECT_EQ(entries(mine), (std::set<std::string>{"victim", "sealkit.prom", "sealkit.prom.tmp"}));

  Captured denied = sealkit_as_nobody(audit_to(dir.at("sealkit.prom")));
  EXPECT_EQ(denied.status, 2) << denied.out << denied.err;
  EXPECT_NE(denied.err.find("cannot write " + dir.at("sealkit.prom")), std::string::npos) << denied.err;
  EXPECT_NE(denied.err.find("Permission denied"), std::string::npos) << denied.err;
}

// `sealkit run --log FILE`: the runtime appends FILE in every process, so
// its directory passes the same path rule before PROGRAM starts (a sticky
// directory such as /tmp is fine for the log's own directory: nothing is
// renamed there); a link at FILE is refused, since the runtime would not
// follow it.
TEST(SafeWrite, RunLogDirectoryFollowsTheRule) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a directory to another user";
  Scratch dir;
  ASSERT_FALSE(dir.path.empty());
  const std::string nobodys = dir.at("nobodys");
  make_dir(nobodys, kNobody, 0755);
  Captured r = run_sealkit({"run", "--log", nobodys + "/run.log", "--", "/bin/true"});
  EXPECT_EQ(r.status, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("--log"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(nobodys + " is owned by uid 65534"), std::string::npos) << r.err;
  EXPECT_TRUE(entries(nobodys).empty());

  write_text(dir.at("victim"), "precious\n");
  ASSERT_EQ(::symlink(dir.at("victim").c_str(), dir.at("run.log").c_str()), 0);
  Captured l = run_sealkit({"run", "--log", dir.at("run.log"), "--", "/bin/true"});
  EXPECT_EQ(l.status, 2) << l.out << l.err;
  EXPECT_NE(l.err.find("symbolic link"), std::string::npos) << l.err;
  EXPECT_TRUE(read_text(dir.at("victim")) == "precious\n");
}

// The runtime walks the log's path again in every process and follows no link
// and no "..": `run --log` hands it the physical path of what it checked, so a
// path through root's own link or with ".." in it still gets its lines.
TEST(SafeWrite, RunLogThroughALinkOfTheCallersGetsItsLines) {
  Scratch dir;
  ASSERT_FALSE(dir.path.empty());
  ASSERT_EQ(::mkdir(dir.at("logs").c_str(), 0755), 0);
  ASSERT_EQ(::symlink(dir.at("logs").c_str(), dir.at("link").c_str()), 0);
  Captured r = run_sealkit({"run", "--log", dir.at("link") + "/../logs/run.log", "--", "/bin/true"});
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_NE(read_text(dir.at("logs/run.log")).find("\"phase\":\"startup\""), std::string::npos);
}
