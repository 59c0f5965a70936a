// /etc/ld.so.preload as `sealkit enable` and `disable` read and edit it
// (src/cli/machine/preload_file.hpp): the names, checked against glibc's
// ld.so itself in a private mount namespace, and the edits, which keep every
// byte that is not sealkit's.
#include <sys/stat.h>

#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli/machine/preload_file.hpp"
#include "runtime/private_mounts.hpp"
#include "runtime/subprocess.hpp"

namespace {

using sealkit::cli::machine::describe_change;
using sealkit::cli::machine::new_names;
using sealkit::cli::machine::preload_names;
using sealkit::cli::machine::with_line;
using sealkit::cli::machine::without_sealkit;
using Names = std::vector<std::string>;

constexpr const char* kLine = "libsealkit-preload.so\n";

// Files whose names ld.so is asked for below: separators, comments, a last
// name with no newline, and the comments ld.so's loop never reaches.
const std::vector<std::pair<std::string, Names>> kCases = {
    {"a1\n", {"a1"}},
    {"a1 a2\ta3:a4\n\n  a5", {"a1", "a2", "a3", "a4", "a5"}},
    {"# comment\na1\n", {"a1"}},
    // The loop looks for the next '#' only within a length it has shortened
    // by the offset of each '#' found: later comments are not all seen (or
    // only their '#'), and a '#' inside a name is then part of it.
    {"# comment\na1 # another\n", {"a1", "another"}},
    {"# a comment\na1 # another\na2#x\n", {"a1", "other", "a2#x"}},
    {"a1\r\n", {"a1\r"}},
    {"# a\n# b\n", {"b"}},
    {"# a\n# b\n# c\n", {"#", "c"}},
    {"# local\n\tb1 :  # maths\n\n# end", {"b1", "#", "end"}},
    {"#\n", {}},
    {"::: \n", {}},
};

TEST(PreloadFile, NamesAreReadAsGlibcsLdSoReadsThem) {
  for (const auto& [text, names] : kCases) EXPECT_EQ(preload_names(text), names) << text;
}

TEST(PreloadFile, WithLineAppendsTheLineOnceAfterANewline) {
  EXPECT_EQ(with_line("", kLine), kLine);
  EXPECT_EQ(with_line("a1\n", kLine), std::string("a1\n") + kLine);
  EXPECT_EQ(with_line("a1", kLine), std::string("a1\n") + kLine);
  EXPECT_EQ(with_line(std::string("a1 ") + kLine, kLine), std::string("a1 ") + kLine) << "already preloaded";
  EXPECT_EQ(with_line("a1:libsealkit-preload.so", kLine), "a1:libsealkit-preload.so");
  EXPECT_EQ(with_line("# libsealkit-preload.so\n", kLine), std::string("# libsealkit-preload.so\n") + kLine)
      << "a comment preloads nothing";
}

TEST(PreloadFile, WithoutSealkitKeepsEveryOtherByte) {
  EXPECT_EQ(without_sealkit(kLine), "");
  EXPECT_EQ(without_sealkit(std::string("# mine\n  a1 :\t\n") + kLine), "# mine\n  a1 :\t\n");
  EXPECT_EQ(without_sealkit("a1\nlibsealkit-preload.so # sealing\na2"), "a1\na2") << "its line goes whole";
  EXPECT_EQ(without_sealkit("a1:libsealkit-preload.so:a2 # both\n"), "a1:a2 # both\n");
  EXPECT_EQ(without_sealkit("  libsealkit-preload.so a1\n"), "  a1\n");
  EXPECT_EQ(without_sealkit("a1 /usr/$LIB/sealkit/libsealkit-preload.so\n"), "a1\n") << "any path to the object";
  EXPECT_EQ(without_sealkit("# libsealkit-preload.so\n"), "# libsealkit-preload.so\n") << "a comment stays";
  EXPECT_EQ(without_sealkit("a1 libsealkit-preload.so.2\n"), "a1 libsealkit-preload.so.2\n") << "another object";
}

TEST(PreloadFile, NewNamesSayWhatAnEditWouldMakeLdSoLoad) {
  // Shorter by the line, "# a\n# b\n" reads "b": a late comment's words become a name.
  EXPECT_EQ(new_names(std::string("# a\n# b\n") + kLine, "# a\n# b\n"), Names{"b"});
  EXPECT_EQ(new_names("a1\n", std::string("a1\n") + kLine, "libsealkit-preload.so"), Names{});
}

TEST(PreloadFile, TheChangeIsShownAsADiff) {
  EXPECT_EQ(describe_change("/etc/ld.so.preload", false, "", true, kLine),
            "--- /etc/ld.so.preload (does not exist)\n+++ /etc/ld.so.preload\n+libsealkit-preload.so\n");
  EXPECT_EQ(describe_change("/etc/ld.so.preload", true, std::string("a1\n") + kLine, true, "a1\n"),
            "--- /etc/ld.so.preload\n+++ /etc/ld.so.preload\n a1\n-libsealkit-preload.so\n");
  EXPECT_EQ(describe_change("/etc/ld.so.preload", true, "a1", true, std::string("a1\n") + kLine),
            "--- /etc/ld.so.preload\n+++ /etc/ld.so.preload\n-a1\n\\ No newline at end of file\n+a1\n"
            "+libsealkit-preload.so\n");
}

// The same files given to ld.so: each name it tries and cannot find, it names
// on stderr. Root only: a private /etc.
TEST(PreloadFileLdSo, TheNamesAreTheOnesLdSoTriesToLoad) {
  std::string dir, why;
  if (!sealkit::test::enter_private_mounts({"/etc"}, dir, why)) GTEST_SKIP() << why;
  const std::regex complaint("object '([^']*)' from /etc/ld.so.preload cannot be preloaded");
  for (const auto& [text, names] : kCases) {
    std::ofstream("/etc/ld.so.preload", std::ios::trunc) << text;
    const auto o = sealkit::test::run_captured({"/bin/true"});
    Names tried;
    for (std::sregex_iterator it(o.err.begin(), o.err.end(), complaint), end; it != end; ++it)
      tried.push_back((*it)[1]);
    EXPECT_EQ(tried, names) << "the file: " << text << "\nld.so said: " << o.err;
    EXPECT_EQ(preload_names(text), tried) << text;
  }
}

}  // namespace
