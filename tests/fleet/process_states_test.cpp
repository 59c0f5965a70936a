// `sealkit audit --format prometheus`'s process states (cli/audit/process_state.hpp) on real processes: a plain
// dynamically linked program, one that sealed part of what should be sealed, one under `sealkit run`, static ones
// (alone, and under `sealkit run`, which seals it: src/cli/run/static_seal.hpp), with machine-wide sealing off and then on (a private /etc,
// fleet/machine_wide_switch.hpp), and one started after it went on. Each pid is audited alone: exactly one state
// says 1. With --all the states add up to the audited processes.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fleet/machine_wide_switch.hpp"
#include "runtime/live_process.hpp"
#include "runtime/subprocess.hpp"
#include "sealkit/sealkit.h"

namespace {

using sealkit::test::Captured;

const char* const kStates[] = {"sealed",   "partly_sealed", "unsealed",    "predates_enabling", "static",
                               "excluded", "filtered",      "secure_exec", "no_mseal"};

// Every sample of a text exposition, "name{labels}" -> value as written.
std::map<std::string, std::string> samples(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const std::size_t space = line.rfind(' ');
    out[line.substr(0, space)] = line.substr(space + 1);
  }
  return out;
}

std::map<std::string, std::string> audit(const std::vector<std::string>& what) {
  std::vector<std::string> argv{SEALKIT_BIN, "audit"};
  argv.insert(argv.end(), what.begin(), what.end());
  argv.insert(argv.end(), {"--format", "prometheus"});
  const Captured r = sealkit::test::run_captured(argv);
  EXPECT_EQ(r.status, 0) << r.err;
  return samples(r.out);
}

std::string state_key(const char* state) { return std::string("sealkit_audit_process_state{state=\"") + state + "\"}"; }

// The one state the audit gives `pid`, or what was wrong.
std::string state_of(pid_t pid, bool machine_wide_on) {
  const auto m = audit({std::to_string(pid)});
  if (m.count("sealkit_machine_wide_enabled") == 0) return "no sealkit_machine_wide_enabled";
  if (m.at("sealkit_machine_wide_enabled") != (machine_wide_on ? "1" : "0"))
    return "sealkit_machine_wide_enabled " + m.at("sealkit_machine_wide_enabled");
  std::string found;
  for (const char* s : kStates) {
    if (m.count(state_key(s)) == 0) return std::string("no series for state ") + s;
    const std::string v = m.at(state_key(s));
    if (v == "1") found += found.empty() ? s : std::string("+") + s;
    else if (v != "0") return std::string(s) + " is " + v;
  }
  return found.empty() ? "no state" : found;
}

class AuditProcessStates : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0)
      GTEST_SKIP() << "needs root: machine-wide sealing is switched on in a private mount namespace";
    if (std::string(sealkit_backend()) != "kernel") GTEST_SKIP() << "this kernel has no mseal(2): nothing is sealed";
    std::string why;
    ASSERT_TRUE(sealkit::test::enter_machine_wide_switch(why)) << why;
  }
  void machine_wide(bool on) {
    std::string why;
    ASSERT_TRUE(sealkit::test::set_machine_wide(on, SEALKIT_PRELOAD, why)) << why;
  }
  void start(sealkit::test::Live& l, const std::vector<std::string>& argv) {
    std::string why;
    ASSERT_TRUE(sealkit::test::start_live(l, argv, {}, why)) << why;
  }
};

TEST_F(AuditProcessStates, EachProcessIsInTheStateItsSealingSays) {
  sealkit::test::Live plain, part, run, stat, run_static;
  start(plain, {STATE_TARGET, "plain"});
  start(part, {STATE_TARGET, "seal-vdso"});
  start(run, {SEALKIT_BIN, "run", "--", STATE_TARGET, "plain"});
  start(stat, {STATE_TARGET_STATIC, "plain"});
  start(run_static, {SEALKIT_BIN, "run", "--", STATE_TARGET_STATIC, "plain"});
  if (HasFatalFailure()) return;
  // sealkit stays as a static program's parent: the program is its one child.
  pid_t static_program = -1;
  std::ifstream children("/proc/" + std::to_string(run_static.pid) + "/task/" + std::to_string(run_static.pid) +
                         "/children");
  ASSERT_TRUE(children >> static_program) << "sealkit run has no child";

  // Off: what each one sealed, whoever sealed it.
  EXPECT_EQ(state_of(plain.pid, false), "unsealed");
  EXPECT_EQ(state_of(part.pid, false), "partly_sealed");
  EXPECT_EQ(state_of(run.pid, false), "sealed");
  EXPECT_EQ(state_of(stat.pid, false), "static");
  EXPECT_EQ(state_of(static_program, false), "sealed");  // sealed by sealkit run from outside

  // On: the dynamically linked programs started before are predates_enabling, whatever they sealed themselves;
  // what `sealkit run` sealed stays sealed; a program started now gets the preload object and is sealed.
  machine_wide(true);
  if (HasFatalFailure()) return;
  sealkit::test::Live after;
  start(after, {STATE_TARGET, "plain"});
  if (HasFatalFailure()) return;
  EXPECT_EQ(state_of(plain.pid, true), "predates_enabling");
  EXPECT_EQ(state_of(part.pid, true), "predates_enabling");
  EXPECT_EQ(state_of(run.pid, true), "sealed");
  EXPECT_EQ(state_of(stat.pid, true), "static");
  EXPECT_EQ(state_of(after.pid, true), "sealed");

  // Started now under systemd 252's @system-service allow-list (its ENOSYS for mseal): filtered. And a program the
  // administrator's file excludes (a copy of the target under a name of its own): excluded.
  sealkit::test::Live filtered, excluded;
  start(filtered, {ALLOWLIST_EXEC, STATE_TARGET, "plain"});
  const std::string copy = ::testing::TempDir() + "sealkit-excluded-target-" + std::to_string(::getpid());
  std::filesystem::copy_file(STATE_TARGET, copy, std::filesystem::copy_options::overwrite_existing);
  ::chmod(copy.c_str(), 0755);
  std::filesystem::create_directories("/etc/sealkit");
  ::chmod("/etc/sealkit", 0755);
  std::ofstream("/etc/sealkit/runtime.conf") << "exclude-program = " << copy << "\n";
  ::chmod("/etc/sealkit/runtime.conf", 0644);
  start(excluded, {copy, "plain"});
  if (HasFatalFailure()) return;
  EXPECT_EQ(state_of(filtered.pid, true), "filtered");
  EXPECT_EQ(state_of(excluded.pid, true), "excluded");
  EXPECT_EQ(state_of(after.pid, true), "sealed") << "the file excludes nothing else";
  std::filesystem::remove(copy);

  // predates_enabling is sealkit status' list.
  const Captured status = sealkit::test::run_captured({SEALKIT_BIN, "status", "--json"});
  const nlohmann::json j = nlohmann::json::parse(status.out);
  std::vector<pid_t> listed;
  for (const auto& p : j.at("unsealed_processes")) listed.push_back(p.at("pid").get<pid_t>());
  for (pid_t pid : {plain.pid, part.pid}) EXPECT_NE(std::find(listed.begin(), listed.end(), pid), listed.end()) << pid;
  for (pid_t pid : {run.pid, stat.pid, after.pid})
    EXPECT_EQ(std::find(listed.begin(), listed.end(), pid), listed.end()) << pid;
  // A static program is named as such: listed when it runs unsealed, not when `sealkit run` sealed it.
  std::vector<pid_t> statics;
  for (const auto& p : j.at("static_unsealed_processes")) statics.push_back(p.at("pid").get<pid_t>());
  EXPECT_NE(std::find(statics.begin(), statics.end(), stat.pid), statics.end()) << stat.pid;
  EXPECT_EQ(std::find(statics.begin(), statics.end(), static_program), statics.end()) << static_program;
  EXPECT_GE(j.at("static_processes_looked_at").get<std::size_t>(), 2u);
}

// Every audited process of the machine in exactly one state, off and on; skipped ones (a zombie here) in none.
TEST_F(AuditProcessStates, AllAuditedProcessesAddUpAndSkippedOnesAreInNone) {
  const pid_t zombie = ::fork();
  ASSERT_GE(zombie, 0);
  if (zombie == 0) _exit(0);
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(zombie), &info, WEXITED | WNOWAIT), 0);
  const auto z = audit({std::to_string(zombie)});
  EXPECT_EQ(z.at("sealkit_audit_processes{status=\"zombie\"}"), "1");
  for (const char* s : kStates) EXPECT_EQ(z.at(state_key(s)), "0") << s;
  ::waitpid(zombie, nullptr, 0);

  for (bool on : {false, true}) {
    SCOPED_TRACE(on ? "machine-wide on" : "machine-wide off");
    machine_wide(on);
    if (HasFatalFailure()) return;
    const auto m = audit({"--all"});
    EXPECT_EQ(m.at("sealkit_machine_wide_enabled"), on ? "1" : "0");
    unsigned long sum = 0;
    for (const char* s : kStates) sum += std::stoul(m.at(state_key(s)));
    EXPECT_EQ(sum, std::stoul(m.at("sealkit_audit_processes{status=\"ok\"}")));
    EXPECT_GT(sum, 0u);
    if (!on) {
      EXPECT_EQ(m.at(state_key("predates_enabling")), "0");
    }
  }
}

TEST(AuditBuildInfo, NamesThisVersion) {
  const Captured r = sealkit::test::run_captured({SEALKIT_BIN, "audit", std::to_string(::getpid()), "--format",
                                                  "prometheus"});
  ASSERT_EQ(r.status, 0) << r.err;
  const auto m = samples(r.out);
  EXPECT_EQ(m.at(std::string("sealkit_build_info{version=\"") + sealkit_version() + "\"}"), "1") << r.out;
}

}  // namespace
