// The command line as a new user meets it, through the real binary: usage
// errors in sealkit's words with exit 2, the version flags, and tables that
// fit the terminal.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/subprocess.hpp"
#include "sealkit/sealkit.h"

namespace {

using sealkit::test::Captured;
using sealkit::test::run_captured;

Captured sealkit_cli(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv{SEALKIT_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_captured(argv, env);
}

// One line on stderr, "sealkit: error: ...", naming `needle` and the help to read; exit 2, nothing on stdout.
void expect_usage_error(const std::vector<std::string>& args, const std::string& needle, const std::string& help) {
  Captured c = sealkit_cli(args);
  std::string shown;
  for (const std::string& a : args) shown += " " + a;
  EXPECT_EQ(c.status, 2) << "sealkit" << shown << ": " << c.err;
  EXPECT_EQ(c.out, "") << "sealkit" << shown;
  EXPECT_EQ(c.err.rfind("sealkit: error: ", 0), 0u) << "sealkit" << shown << ": " << c.err;
  EXPECT_EQ(c.err.find('\n'), c.err.size() - 1) << "one line: sealkit" << shown << ": " << c.err;
  EXPECT_NE(c.err.find(needle), std::string::npos) << "sealkit" << shown << ": " << c.err;
  EXPECT_NE(c.err.find("run '" + help + " --help'"), std::string::npos) << "sealkit" << shown << ": " << c.err;
}

TEST(CliUsage, VersionFlagsPrintTheVersion) {
  for (const char* flag : {"--version", "-V"}) {
    Captured c = sealkit_cli({flag});
    EXPECT_EQ(c.status, 0) << flag << ": " << c.err;
    EXPECT_EQ(c.out, std::string("sealkit ") + sealkit_version() + "\n") << flag;
  }
}

TEST(CliUsage, ErrorsBeforeASubcommandNameTheWord) {
  expect_usage_error({"--bogus"}, "unknown option '--bogus'", "sealkit");
  expect_usage_error({"-x"}, "unknown option '-x'", "sealkit");
  expect_usage_error({"bogus"}, "unknown subcommand 'bogus'", "sealkit");
  expect_usage_error({}, "no subcommand given", "sealkit");
}

TEST(CliUsage, ErrorsOfASubcommandSayWhatWasWrongInItsOwnWords) {
  expect_usage_error({"audit", "--bogus"}, "unknown option '--bogus'", "sealkit audit");
  expect_usage_error({"run", "--no-such", "/bin/true"}, "unknown option '--no-such'", "sealkit run");
  expect_usage_error({"run", "--log", "a", "--log", "b", "/bin/true"}, "--log given more than once", "sealkit run");
  expect_usage_error({"run", "--log"}, "--log needs a value", "sealkit run");
  for (const std::vector<std::string>& args : {std::vector<std::string>{"run", "--log", "a", "--log", "b", "/bin/true"},
                                               std::vector<std::string>{"run", "--log"}}) {
    Captured c = sealkit_cli(args);
    EXPECT_EQ(c.err.find("required"), std::string::npos) << "no parser wording: " << c.err;
  }
}

// Values are checked in sealkit's words: what the value must be, never the
// parser's ranges ("Value 0 not in range 0.000000 to 1797...") or its
// conversions ("Could not convert: pids = abc").
TEST(CliUsage, BadValuesSayWhatTheValueMustBe) {
  expect_usage_error({"map", "0", "--svg", "-"}, "'0' is not a process id", "sealkit map");
  expect_usage_error({"audit", "abc"}, "'abc' is not a process id", "sealkit audit");
  expect_usage_error({"audit", "1", "2x"}, "'2x' is not a process id", "sealkit audit");
  expect_usage_error({"audit", "--stop-timeout", "0", "1"}, "from 1 to 10000", "sealkit audit");
  expect_usage_error({"audit", "--require", "101", "1"}, "from 0 to 100, not '101'", "sealkit audit");
  expect_usage_error({"audit", "--format", "xml", "1"}, "one of table, json, prometheus, not 'xml'", "sealkit audit");
  expect_usage_error({"run", "--backend", "foo", "/bin/true"}, "one of kernel, seccomp, auto", "sealkit run");
  for (const std::vector<std::string>& args : {std::vector<std::string>{"map", "0", "--svg", "-"},
                                               std::vector<std::string>{"audit", "abc"},
                                               std::vector<std::string>{"audit", "--require", "101", "1"}}) {
    Captured c = sealkit_cli(args);
    for (const char* leak : {"Value ", "not in range", "Could not convert", "0.000000"})
      EXPECT_EQ(c.err.find(leak), std::string::npos) << leak << " in: " << c.err;
  }
}

// An empty output path is a mistake, not "write nothing": refused, nothing written.
TEST(CliUsage, EmptyOutputPathsAreRefused) {
  const std::string self = std::to_string(::getpid());
  expect_usage_error({"audit", "--output", "", self}, "--output: needs a file name", "sealkit audit");
  expect_usage_error({"map", self, "--svg", ""}, "--svg: needs a file name", "sealkit map");
  expect_usage_error({"map", self, "--html", ""}, "--html: needs a file name", "sealkit map");
}

// An option whose value is missing does not take the next option as its
// value (and the word after that as the program): `--log --backend seccomp
// /bin/echo` is a usage error, not a log named "--backend" and a program
// named "seccomp". A file whose name starts with '-' is written ./-name.
TEST(CliUsage, AFileOptionDoesNotTakeTheNextOptionAsItsValue) {
  expect_usage_error({"run", "--log", "--backend", "seccomp", "/bin/echo", "a"},
                     "--log: needs a file name, not '--backend' (an option?)", "sealkit run");
  expect_usage_error({"run", "--config", "-", "/bin/true"}, "--config: needs a file name, not '-'", "sealkit run");
  expect_usage_error({"run", "--runtime", "", "/bin/true"}, "--runtime: needs a file name", "sealkit run");
  expect_usage_error({"audit", "--output", "-x", "1"}, "write ./-x for a file whose name starts with -", "sealkit audit");
  Captured to_stdout = sealkit_cli({"map", std::to_string(::getpid()), "--svg", "-"});
  EXPECT_EQ(to_stdout.status, 0) << "'-' alone is stdout for map: " << to_stdout.err;
}

// --json is --format json: with another --format they disagree (docs/cli.md).
TEST(CliUsage, JsonWithAnotherFormatIsAUsageError) {
  const std::string self = std::to_string(::getpid());
  Captured c = sealkit_cli({"audit", "--json", "--format", "table", self});
  EXPECT_EQ(c.status, 2) << c.out;
  EXPECT_EQ(c.out, "");
  EXPECT_NE(c.err.find("--json and --format table disagree"), std::string::npos) << c.err;
  Captured same = sealkit_cli({"audit", "--json", "--format", "json", self});
  EXPECT_EQ(same.status, 0) << same.err;
}

// A process named twice is one process: counted once.
TEST(CliUsage, APidGivenTwiceIsAuditedOnce) {
  const std::string self = std::to_string(::getpid());
  Captured c = sealkit_cli({"audit", "--json", "--no-filters", self, self});
  ASSERT_EQ(c.status, 0) << c.err;
  const nlohmann::json j = nlohmann::json::parse(c.out);
  EXPECT_EQ(j.at("processes").size(), 1u) << c.out.substr(0, 400);
}

// Every command's JSON says which layout it has: "schema", the same number
// for all (docs/cli.md, "JSON output").
TEST(CliUsage, EveryJsonOutputCarriesItsSchemaVersion) {
  const std::string self = std::to_string(::getpid());
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"status", "--json"}, std::vector<std::string>{"probe", "--json"},
        std::vector<std::string>{"selftest", "--json", "--only", "mprotect", "--class", "anon_private_ro"},
        std::vector<std::string>{"check", "--json", "/bin/true"},
        std::vector<std::string>{"audit", "--json", "--no-filters", self}}) {
    Captured c = sealkit_cli(args);
    ASSERT_FALSE(c.out.empty()) << args.front() << ": " << c.err;
    const nlohmann::json j = nlohmann::json::parse(c.out);
    EXPECT_EQ(j.value("schema", 0), 1) << "sealkit " << args.front() << " --json: " << c.out.substr(0, 200);
  }
}

// A table is cut to the terminal's width (COLUMNS here: no terminal in a
// test), its widest columns first, never below its header.
TEST(CliUsage, TablesFitTheTerminalWidth) {
  // This test's own process: nothing seals it, so its row lists every unsealed class.
  const std::string self = std::to_string(::getpid());
  Captured wide = sealkit_cli({"audit", self});
  ASSERT_EQ(wide.err.find("error"), std::string::npos) << wide.err;
  std::size_t longest = 0;
  std::istringstream in(wide.out);
  for (std::string line; std::getline(in, line) && !line.empty();) longest = std::max(longest, line.size());
  ASSERT_GT(longest, 120u) << "the unsealed classes of an unsealed process make a wide table:\n" << wide.out;
  Captured narrow = sealkit_cli({"audit", self}, {"COLUMNS=110"});
  std::istringstream lines(narrow.out);
  std::string header;
  std::getline(lines, header);
  EXPECT_EQ(header.find("..."), std::string::npos) << "headers are never cut: " << header;
  for (std::string line = header; !line.empty(); std::getline(lines, line)) {
    EXPECT_LE(line.size(), 110u) << line;
  }
}

// Cutting a cell to the terminal never splits a character or an escape, and
// a short row (an unreadable path's error) spans the row rather than being cut.
TEST(CliUsage, CutCellsKeepWholeCharactersAndErrorRowsStayWhole) {
  char dir[] = "/tmp/sealkit-cut-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string wide = std::string(dir) + "/" + [] {
    std::string s;
    for (int i = 0; i < 20; ++i) s += "\xe6\xbc\xa2";  // U+6F22, three bytes each
    return s + "a\x1b";  // and an escape at the end
  }();
  {
    std::ifstream in("/usr/bin/true", std::ios::binary);
    std::ofstream out(wide, std::ios::binary);
    out << in.rdbuf();
  }
  Captured c = sealkit_cli({"check", dir, "/nonexistent/path"}, {"COLUMNS=40"});
  ::unlink(wide.c_str());
  ::rmdir(dir);
  ASSERT_EQ(c.status, 1) << c.err;
  // Valid UTF-8 throughout: every lead byte has its continuation bytes.
  for (std::size_t i = 0; i < c.out.size();) {
    const auto b = static_cast<unsigned char>(c.out[i]);
    const std::size_t n = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0;
    ASSERT_NE(n, 0u) << "a continuation byte without its lead at " << i << ": " << c.out;
    for (std::size_t k = 1; k < n; ++k)
      ASSERT_EQ(static_cast<unsigned char>(c.out[i + k]) & 0xC0, 0x80) << "a character cut at " << i << ": " << c.out;
    i += n;
  }
  EXPECT_EQ(c.out.find("\\x1"), c.out.find("\\x1b")) << "an escape is never cut in two: " << c.out;
  EXPECT_NE(c.out.find("error: No such file or directory"), std::string::npos) << "the error row whole: " << c.out;
}

// Colour only for a person at a terminal: `script` gives sealkit a terminal;
// NO_COLOR, TERM=dumb and a pipe each turn it off.
TEST(CliUsage, ColourOnlyOnATerminalAndNeverWithNoColor) {
  auto status_through = [](const std::vector<std::string>& env, bool terminal) {
    const std::string command = std::string(SEALKIT_BIN) + " status";
    std::vector<std::string> argv{"/usr/bin/script", "-qec", command, "/dev/null"};
    if (!terminal) argv = {"/bin/sh", "-c", command + " | cat"};
    return run_captured(argv, env);
  };
  const std::string esc = "\033[";
  Captured coloured = status_through({"TERM=xterm"}, true);
  EXPECT_NE(coloured.out.find("machine-wide sealing: " + esc), std::string::npos) << coloured.out << coloured.err;
  for (const auto& [env, terminal] : std::vector<std::pair<std::vector<std::string>, bool>>{
           {{"TERM=xterm", "NO_COLOR=1"}, true}, {{"TERM=dumb"}, true}, {{"TERM=xterm"}, false}}) {
    Captured plain = status_through(env, terminal);
    EXPECT_NE(plain.out.find("machine-wide sealing: "), std::string::npos) << plain.out << plain.err;
    EXPECT_EQ(plain.out.find(esc), std::string::npos) << env.back() << (terminal ? " on a terminal" : " in a pipe");
  }
}

}  // namespace
