// Names that processes and files choose for themselves reach a terminal
// through sealkit's text output. Two real processes carry escape sequences
// (ESC, BEL), C1 controls (CSI as the UTF-8 C2 9B and as the raw byte 9B),
// bidi overrides and isolates, and bytes that are not UTF-8: one names itself
// with prctl(PR_SET_NAME), the other is `sleep` copied to a file with such a
// name and started with such an argv[0]. `sealkit audit` (PIDs and --all),
// `sealkit map` and `sealkit check` must show them escaped (docs/cli.md,
// "What sealkit prints"), and their JSON must parse. The checker below
// decodes UTF-8 itself, without sealkit's code.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/subprocess.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using sealkit::test::Captured;

// ESC [31m, CSI (U+009B in UTF-8), CSI (the raw byte), RLO (U+202E), a byte that is not UTF-8.
const std::string kComm = "\x1b[31m\xc2\x9b\x9b\xe2\x80\xae\xff";
// The same as sealkit shows it: each such byte as \xNN.
const std::string kCommShown = "\\x1b[31m\\xc2\\x9b\\x9b\\xe2\\x80\\xae\\xff";
// As a JSON parser reads it: each byte that is not UTF-8 becomes U+FFFD.
const std::string kCommJson = "\x1b[31m\xc2\x9b\xef\xbf\xbd\xe2\x80\xae\xef\xbf\xbd";
// A file name: ESC ] 0 ; (a window title), BEL, CSI, LRI (U+2066), a byte that is not UTF-8.
const std::string kFileName = "sl\x1b]0;x\x07\xc2\x9b\xe2\x81\xa6\xff";
const std::string kFileNameShown = "sl\\x1b]0;x\\x07\\xc2\\x9b\\xe2\\x81\\xa6\\xff";
// argv[0] of the copied program: clear screen, CSI, RLO, a raw CSI byte.
const std::string kArgv0 = "\x1b[2J\xc2\x9b\xe2\x80\xae\x9b" "name";

// Where `s` holds something a terminal would act on or show reordered: a
// byte that starts no well-formed UTF-8 character, a C0 control other than
// newline, DEL, a C1 control, or a bidi embedding, override or isolate.
// Empty when there is nothing.
std::string first_unsafe(const std::string& s) {
  auto at = [&](std::size_t i, const char* what) {
    char b[8];
    std::snprintf(b, sizeof b, "%02x", static_cast<unsigned char>(s[i]));
    return std::string(what) + " at offset " + std::to_string(i) + " (byte " + b + ") in:\n" + s.substr(0, 2000);
  };
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n;
    char32_t cp;
    if (c < 0x80) n = 1, cp = c;
    else if ((c & 0xe0) == 0xc0) n = 2, cp = c & 0x1f;
    else if ((c & 0xf0) == 0xe0) n = 3, cp = c & 0x0f;
    else if ((c & 0xf8) == 0xf0) n = 4, cp = c & 0x07;
    else return at(i, "a byte that starts no UTF-8 character");
    if (i + n > s.size()) return at(i, "a cut UTF-8 sequence");
    for (std::size_t k = 1; k < n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xc0) != 0x80) return at(i, "a broken UTF-8 sequence");
      cp = (cp << 6) | (b & 0x3f);
    }
    const char32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return at(i, "an ill-formed UTF-8 sequence");
    if ((cp < 0x20 && cp != '\n') || cp == 0x7f) return at(i, "a C0 control or DEL");
    if (cp >= 0x80 && cp <= 0x9f) return at(i, "a C1 control");
    if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) return at(i, "a bidi control");
    i += n;
  }
  return "";
}

Captured run_sealkit(const std::vector<std::string>& args) {
  std::vector<std::string> argv{SEALKIT_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return sealkit::test::run_captured(argv);
}

struct Child {
  pid_t pid = -1;
  ~Child() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

std::string readlink_str(const std::string& p) {
  char buf[4096];
  ssize_t n = ::readlink(p.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

class HostileNames : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sealkit-hostile-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    exe_ = dir_ + "/" + kFileName;
    std::error_code ec;
    fs::copy_file("/bin/sleep", exe_, ec);
    ASSERT_FALSE(ec) << ec.message();
    ASSERT_EQ(::chmod(exe_.c_str(), 0755), 0);

    // A process that names itself.
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    named_.pid = ::fork();
    ASSERT_GE(named_.pid, 0);
    if (named_.pid == 0) {
      ::prctl(PR_SET_NAME, kComm.c_str(), 0, 0, 0);
      if (::write(p[1], "x", 1) != 1) _exit(1);
      for (;;) ::pause();
    }
    ::close(p[1]);
    char x;
    ASSERT_EQ(::read(p[0], &x, 1), 1);
    ::close(p[0]);

    // A program with a hostile file name and argv[0] (`exec -a`).
    copied_.pid = ::fork();
    ASSERT_GE(copied_.pid, 0);
    if (copied_.pid == 0) {
      const char* argv[] = {kArgv0.c_str(), "300", nullptr};
      ::execv(exe_.c_str(), const_cast<char* const*>(argv));
      _exit(127);
    }
    const std::string proc = "/proc/" + std::to_string(copied_.pid);
    for (int i = 0; i < 500 && readlink_str(proc + "/exe") != exe_; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_EQ(readlink_str(proc + "/exe"), exe_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  std::string dir_, exe_;
  Child named_, copied_;
};

}  // namespace

TEST_F(HostileNames, AuditTableShowsThemEscaped) {
  const std::string a = std::to_string(named_.pid), b = std::to_string(copied_.pid);
  Captured t = run_sealkit({"audit", a, b, "--by-class"});
  ASSERT_EQ(t.status, 0) << t.err;
  EXPECT_EQ(first_unsafe(t.out), "");
  EXPECT_EQ(first_unsafe(t.err), "");
  EXPECT_NE(t.out.find(kCommShown), std::string::npos) << t.out;
  EXPECT_NE(t.out.find(kFileNameShown), std::string::npos) << "the comm of the copied program\n" << t.out;

  Captured all = run_sealkit({"audit", "--all"});
  ASSERT_EQ(all.status, 0) << all.err;
  EXPECT_EQ(first_unsafe(all.out), "");
  EXPECT_EQ(first_unsafe(all.err), "");
  EXPECT_NE(all.out.find(kCommShown), std::string::npos) << all.out;
}

// JSON keeps the names (a parser gets them back, invalid bytes as U+FFFD)
// and is ASCII: a terminal that shows it acts on nothing either.
TEST_F(HostileNames, AuditJsonParsesAndHoldsNoControlBytes) {
  const std::string a = std::to_string(named_.pid), b = std::to_string(copied_.pid);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"audit", a, b, "--json"}, {"audit", a, b, "--json", "--vmas", "--by-class"},
        {"audit", "--all", "--json"}}) {
    SCOPED_TRACE(args.back());
    Captured j = run_sealkit(args);
    ASSERT_EQ(j.status, 0) << j.err;
    EXPECT_EQ(first_unsafe(j.out), "");
    json doc;
    ASSERT_NO_THROW(doc = json::parse(j.out)) << j.out.substr(0, 2000);
    bool seen_named = false, seen_copied = false;
    for (const json& p : doc.at("processes")) {
      if (p.at("pid") == named_.pid) {
        seen_named = true;
        EXPECT_EQ(p.at("comm").get<std::string>(), kCommJson);
      }
      if (p.at("pid") == copied_.pid) {
        seen_copied = true;
        EXPECT_EQ(p.at("status"), "ok");
        EXPECT_EQ(p.at("exe").get<std::string>(), dir_ + "/sl\x1b]0;x\x07\xc2\x9b\xe2\x81\xa6\xef\xbf\xbd");
      }
    }
    EXPECT_TRUE(seen_named && seen_copied);
  }
}

TEST_F(HostileNames, MapTextAndPicturesHoldNoControlBytes) {
  const std::string b = std::to_string(copied_.pid), svg = dir_ + "/m.svg";
  Captured m = run_sealkit({"map", b, "--svg", svg});
  ASSERT_EQ(m.status, 0) << m.err;
  EXPECT_EQ(first_unsafe(m.out), "");
  Captured html = run_sealkit({"map", b, "--html", "-"});
  ASSERT_EQ(html.status, 0) << html.err;
  EXPECT_EQ(first_unsafe(html.out), "");
  EXPECT_NE(html.out.find(kFileNameShown), std::string::npos) << "the exe path, escaped";
}

// `sealkit check` prints the names of files it finds in directories.
TEST_F(HostileNames, CheckShowsFileNamesEscaped) {
  Captured t = run_sealkit({"check", dir_});
  ASSERT_EQ(t.status, 0) << t.out << t.err;
  EXPECT_EQ(first_unsafe(t.out), "");
  EXPECT_NE(t.out.find(dir_ + "/" + kFileNameShown), std::string::npos) << t.out;

  Captured j = run_sealkit({"check", "--json", dir_});
  ASSERT_EQ(j.status, 0) << j.out << j.err;
  EXPECT_EQ(first_unsafe(j.out), "");
  json doc;
  ASSERT_NO_THROW(doc = json::parse(j.out)) << j.out;
  ASSERT_EQ(doc.at("files").size(), 1u);
  EXPECT_EQ(doc.at("files")[0].at("path").get<std::string>(), dir_ + "/sl\x1b]0;x\x07\xc2\x9b\xe2\x81\xa6\xef\xbf\xbd");

  // A path that is not there is a row with its reason, escaped like any other.
  Captured missing = run_sealkit({"check", dir_ + "/" + kArgv0});
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(first_unsafe(missing.out), "") << "the unreadable path's row is escaped too";
  EXPECT_NE(missing.out.find("\\x1b[2J"), std::string::npos) << missing.out;
  EXPECT_NE(missing.out.find("No such file or directory"), std::string::npos) << missing.out;
}
