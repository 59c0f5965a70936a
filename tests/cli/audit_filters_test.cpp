// `sealkit audit` on processes sealed by the library's seccomp filter
// (SEALKIT_BACKEND=seccomp), on this machine's real kernel, as root:
// the audit's filter-sealed VMAs must be exactly the ones the process's own
// sealkit_is_sealed says are sealed; a filter that seals nothing seals
// nothing; a process traced by someone else is "unknown" and left running;
// no process is ever left stopped.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "supervisor/supervisor_query.hpp"
#include "runtime/subprocess.hpp"

namespace {

using nlohmann::json;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The state letter of /proc/PID/stat (after the last ')').
char state_of(pid_t pid) {
  const std::string s = read_text("/proc/" + std::to_string(pid) + "/stat");
  const auto close = s.rfind(')');
  return close == std::string::npos || close + 2 >= s.size() ? '?' : s[close + 2];
}

// The state a process settles in within a second: a target just detached is
// 'R' for a moment, on its way back into pause() ('S') or into the job-control
// stop it was in ('T'); one left in a ptrace stop stays 't' and never gets there.
char settled_state(pid_t pid, char want = 'S') {
  char s = state_of(pid);
  for (int i = 0; i < 200 && s != want; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    s = state_of(pid);
  }
  return s;
}

// A running filter_seal_target: its VMAs with its own sealkit_is_sealed answers.
struct Target {
  pid_t pid = -1;
  std::map<unsigned long long, std::pair<unsigned long long, int>> answers;  // begin -> (end, answer)
  unsigned long long sealed_begin = 0, sealed_end = 0, control_begin = 0, control_end = 0;
  std::string backend;

  Target() = default;
  Target(const Target&) = delete;
  Target& operator=(const Target&) = delete;
  ~Target() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

void start_target(Target& t, const char* mode, bool seccomp_backend, const char* program = FILTER_SEAL_TARGET) {
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  t.pid = ::fork();
  ASSERT_GE(t.pid, 0);
  if (t.pid == 0) {
    ::dup2(out[1], 1);
    ::close(out[0]);
    ::close(out[1]);
    if (seccomp_backend) ::setenv("SEALKIT_BACKEND", "seccomp", 1);
    ::execl(program, program, mode, static_cast<char*>(nullptr));
    _exit(127);
  }
  ::close(out[1]);
  FILE* in = ::fdopen(out[0], "r");
  ASSERT_NE(in, nullptr);
  char line[256];
  bool ready = false;
  while (std::fgets(line, sizeof line, in)) {
    unsigned long long b = 0, e = 0;
    int answer = 0;
    char word[32];
    if (std::sscanf(line, "sealed %llx %llx", &b, &e) == 2) {
      t.sealed_begin = b;
      t.sealed_end = e;
    } else if (std::sscanf(line, "control %llx %llx", &b, &e) == 2) {
      t.control_begin = b;
      t.control_end = e;
    } else if (std::sscanf(line, "backend %31s", word) == 1) {
      t.backend = word;
    } else if (std::string(line) == "ready\n") {
      ready = true;
      break;
    } else if (std::sscanf(line, "%llx %llx %d", &b, &e, &answer) == 3) {
      t.answers[b] = {e, answer};
    }
  }
  std::fclose(in);
  ASSERT_TRUE(ready) << "the target did not get ready (exit status in waitpid)";
}

// A generous --stop-timeout unless a test asks for its own: the targets must stop for their filters to be read
// even on a loaded machine (the default 50 ms is what tests/cli/audit_busy_test.cpp is about).
json audit(const std::vector<std::string>& extra) {
  std::vector<std::string> args{SEALKIT_BIN, "audit"};
  args.insert(args.end(), extra.begin(), extra.end());
  if (std::find(extra.begin(), extra.end(), "--stop-timeout") == extra.end())
    args.insert(args.end(), {"--stop-timeout", "2000"});
  sealkit::test::Captured r = sealkit::test::run_captured(args);
  EXPECT_EQ(r.status, 0) << r.err;
  return r.status == 0 ? json::parse(r.out) : json{};
}

const json& process_of(const json& report) { return report.at("processes").at(0); }

unsigned long long hex_of(const json& v, const char* key) {
  return std::stoull(v.at(key).get<std::string>(), nullptr, 16);
}

bool root() { return ::geteuid() == 0; }

}  // namespace

TEST(AuditFilters, FilterSealsAreExactlyWhatTheProcessItselfReportsSealed) {
  if (!root()) GTEST_SKIP() << "reading another process's seccomp filters needs CAP_SYS_ADMIN (run as root)";
  Target t;
  start_target(t, "seal", true);
  if (HasFatalFailure()) return;
  if (t.backend != "seccomp") GTEST_SKIP() << "the library's seccomp backend is not available: " << t.backend;

  const json j = audit({std::to_string(t.pid), "--json", "--vmas"});
  EXPECT_EQ(settled_state(t.pid), 'S') << "the target must be left running (sleeping in pause)";
  const json& p = process_of(j);
  ASSERT_EQ(p.at("status"), "ok") << p;
  const json& f = p.at("filters");
  ASSERT_EQ(f.at("status"), "read") << f;
  EXPECT_GE(f.at("count").get<int>(), 2);  // one filter per sealkit_mseal call
  EXPECT_EQ(f.at("unknown_vmas"), 0);
  EXPECT_EQ(f.at("refuses_unmapped"), false);

  std::size_t compared = 0, filter_sealed = 0, said_sealed = 0;
  bool saw_sealed = false, saw_control = false, saw_text = false;
  for (const auto& [begin, e] : t.answers) said_sealed += e.second == 1;
  for (const json& v : p.at("vma_list")) {
    const unsigned long long b = hex_of(v, "start"), e = hex_of(v, "end");
    const bool by_filter = v.at("sealed_by") == "filter";
    filter_sealed += by_filter;
    EXPECT_NE(v.at("sealed_by"), "kernel") << "the seccomp backend must leave no 'sl' in smaps";
    auto it = t.answers.find(b);
    if (it == t.answers.end() || it->second.first != e) {
      EXPECT_FALSE(by_filter) << "a filter-sealed VMA the process did not list: " << v;
      continue;
    }
    ++compared;
    SCOPED_TRACE(v.dump());
    EXPECT_EQ(by_filter, it->second.second == 1);
    EXPECT_EQ(v.at("sealed").get<bool>(), by_filter);
    if (by_filter) {
      EXPECT_EQ(v.at("filter"), "sealed");
      EXPECT_EQ(v.at("filter_action"), "errno");
      // The library marks a range discard-protected when it is anonymous and not writable.
      const bool anonymous_readonly = v.at("inode") == 0 && v.at("perms").get<std::string>()[1] == '-';
      EXPECT_EQ(v.at("discard_refused").get<bool>(), anonymous_readonly);
    } else {
      EXPECT_EQ(v.at("filter"), "not_sealed");
    }
    if (b == t.sealed_begin && e == t.sealed_end) saw_sealed = by_filter;
    if (b == t.control_begin && e == t.control_end) saw_control = !by_filter;
    if (v.at("class") == "elf_text" && v.at("path").get<std::string>() == FILTER_SEAL_TARGET) saw_text = by_filter;
  }
  EXPECT_TRUE(saw_sealed) << "the sealed anonymous mapping must be sealed_by filter";
  EXPECT_TRUE(saw_control) << "the control mapping must not be";
  EXPECT_TRUE(saw_text) << "the program's own text must be sealed_by filter";
  EXPECT_EQ(filter_sealed, said_sealed);
  EXPECT_EQ(p.at("filter_sealed_vmas"), filter_sealed);
  EXPECT_EQ(f.at("sealed_vmas"), filter_sealed);
  EXPECT_GE(compared, 20u);
  // Counted as sealed in the totals.
  EXPECT_EQ(p.at("sealed_vmas"), filter_sealed);
  EXPECT_EQ(j.at("totals").at("filter_sealed_vmas"), filter_sealed);
  EXPECT_GT(p.at("sealed_should_vmas").get<int>(), 0) << "the program's text is asked for and sealed";
  std::printf("%zu VMAs compared, %zu sealed by the filter; %llu BPF instructions run; stopped for %.1f us\n",
              compared, filter_sealed, f.at("executed").get<unsigned long long>(),
              f.at("stopped_microseconds").get<double>());
}

TEST(AuditFilters, AFilterThatAllowsEverythingSealsNothing) {
  if (!root()) GTEST_SKIP() << "reading another process's seccomp filters needs CAP_SYS_ADMIN (run as root)";
  Target t;
  start_target(t, "allow", false);
  if (HasFatalFailure()) return;
  const json j = audit({std::to_string(t.pid), "--json", "--vmas"});
  EXPECT_EQ(settled_state(t.pid), 'S');
  const json& p = process_of(j);
  ASSERT_EQ(p.at("status"), "ok") << p;
  EXPECT_EQ(p.at("filters").at("status"), "read");
  EXPECT_EQ(p.at("filters").at("count"), 1);
  EXPECT_EQ(p.at("filters").at("instructions"), 1);
  EXPECT_EQ(p.at("filters").at("sealed_vmas"), 0);
  EXPECT_EQ(p.at("filters").at("refuses_unmapped"), false);
  EXPECT_EQ(p.at("filter_sealed_vmas"), 0);
  for (const json& v : p.at("vma_list")) {
    // The library's first call probes mseal with a page of its own: that one the kernel seals.
    if (v.at("sealed_by") == "kernel") continue;
    EXPECT_TRUE(v.at("sealed_by").is_null()) << v;
    EXPECT_EQ(v.at("filter"), "not_sealed") << v;
  }
}

// Any user can give processes of theirs filters that spend the per-process
// budget each: the run's budget bounds them all together, so that an audit
// of every process (the metrics timer's) still ends in its time. Past it,
// the VMAs of the next processes are unknown, as past a process's own budget.
TEST(AuditFilters, TheRunBudgetBoundsEveryProcessTogether) {
  if (!root()) GTEST_SKIP() << "reading another process's seccomp filters needs CAP_SYS_ADMIN (run as root)";
  Target a, b;
  start_target(a, "costly", false);
  if (HasFatalFailure()) return;
  start_target(b, "costly", false);
  if (HasFatalFailure()) return;
  constexpr std::uint64_t kPerProcess = 1000000, kRun = 1500000;
  const json j = audit({std::to_string(a.pid), std::to_string(b.pid), "--json", "--filter-budget",
                        std::to_string(kPerProcess), "--filter-run-budget", std::to_string(kRun)});
  ASSERT_EQ(j.at("processes").size(), 2u) << j;
  std::uint64_t executed = 0;
  for (const json& p : j.at("processes")) {
    ASSERT_EQ(p.at("status"), "ok") << p;
    EXPECT_EQ(p.at("filters").at("status"), "read") << p;
    EXPECT_EQ(p.at("filters").at("count"), 7) << p;
    EXPECT_GT(p.at("filters").at("unknown_vmas").get<std::uint64_t>(), 0u) << "the budget was not spent: " << p;
    executed += p.at("filters").at("executed").get<std::uint64_t>();
  }
  EXPECT_LE(executed, kRun);
  EXPECT_GT(executed, kPerProcess) << "the second process got none of what was left";
  EXPECT_EQ(settled_state(a.pid), 'S');
  EXPECT_EQ(settled_state(b.pid), 'S');
}

// A sandbox that forbids memory management everywhere is no seal: every VMA
// counts (nothing can change it), and the audit says the filter refuses
// unmapped memory too, which no seal does.
TEST(AuditFilters, AFilterThatRefusesEverywhereIsFlagged) {
  if (!root()) GTEST_SKIP() << "reading another process's seccomp filters needs CAP_SYS_ADMIN (run as root)";
  Target t;
  start_target(t, "deny", false);
  if (HasFatalFailure()) return;
  const json j = audit({std::to_string(t.pid), "--json", "--vmas"});
  const json& p = process_of(j);
  ASSERT_EQ(p.at("status"), "ok") << p;
  EXPECT_EQ(p.at("filters").at("refuses_unmapped"), true) << p.at("filters");
  std::size_t not_kernel = 0;
  for (const json& v : p.at("vma_list")) {
    if (v.at("sealed_by") == "kernel") continue;
    ++not_kernel;
    EXPECT_EQ(v.at("sealed_by"), "filter") << v;
  }
  EXPECT_EQ(p.at("filter_sealed_vmas"), not_kernel);
  sealkit::test::Captured table = sealkit::test::run_captured({SEALKIT_BIN, "audit", std::to_string(t.pid)});
  EXPECT_NE(table.out.find("refuses unmapped memory too"), std::string::npos) << table.out;
}

TEST(AuditFilters, AProcessWithoutFiltersIsNotStopped) {
  Target t;
  start_target(t, "plain", false);
  if (HasFatalFailure()) return;
  const json j = audit({std::to_string(t.pid), "--json"});
  const json& f = process_of(j).at("filters");
  EXPECT_EQ(f.at("status"), root() ? "none" : "not_checked") << f;
  EXPECT_FALSE(f.contains("stopped_microseconds")) << f;
  EXPECT_EQ(settled_state(t.pid), 'S');
}

TEST(AuditFilters, NoFiltersLeavesFilterSealsUncounted) {
  Target t;
  start_target(t, "seal", true);
  if (HasFatalFailure()) return;
  if (t.backend != "seccomp") GTEST_SKIP() << "the library's seccomp backend is not available: " << t.backend;
  const json j = audit({std::to_string(t.pid), "--json", "--no-filters"});
  const json& p = process_of(j);
  EXPECT_EQ(p.at("filters").at("status"), "not_checked");
  EXPECT_EQ(p.at("sealed_vmas"), 0);
  EXPECT_EQ(j.at("totals").at("filters").at("not_checked"), 1);
}

// Someone else (this test) traces the target: the audit must not touch it.
TEST(AuditFilters, AProcessTracedBySomeoneElseIsUnknownAndKeepsRunning) {
  if (!root()) GTEST_SKIP() << "reading another process's seccomp filters needs CAP_SYS_ADMIN (run as root)";
  Target t;
  start_target(t, "seal", true);
  if (HasFatalFailure()) return;
  if (t.backend != "seccomp") GTEST_SKIP() << "the library's seccomp backend is not available: " << t.backend;
  ASSERT_EQ(::ptrace(PTRACE_SEIZE, t.pid, nullptr, nullptr), 0);

  const json j = audit({std::to_string(t.pid), "--json"});
  const json& f = process_of(j).at("filters");
  EXPECT_EQ(f.at("status"), "unknown") << f;
  EXPECT_NE(f.at("reason").get<std::string>().find("traced"), std::string::npos) << f;
  EXPECT_EQ(process_of(j).at("sealed_vmas"), 0);
  EXPECT_EQ(settled_state(t.pid), 'S') << "the traced target must keep running";
  EXPECT_NE(read_text("/proc/" + std::to_string(t.pid) + "/status").find("TracerPid:\t" + std::to_string(::getpid())),
            std::string::npos)
      << "this test must still be its tracer";
  // The table says why too.
  sealkit::test::Captured table = sealkit::test::run_captured({SEALKIT_BIN, "audit", std::to_string(t.pid)});
  EXPECT_NE(table.out.find("unknown: already traced by pid " + std::to_string(::getpid())), std::string::npos)
      << table.out;
}

// A process in a job-control stop (SIGSTOP) is read and stays stopped: the
// audit neither resumes it nor loses the stop.
TEST(AuditFilters, AStoppedProcessIsReadAndStaysStopped) {
  if (!root()) GTEST_SKIP() << "reading another process's seccomp filters needs CAP_SYS_ADMIN (run as root)";
  Target t;
  start_target(t, "seal", true);
  if (HasFatalFailure()) return;
  if (t.backend != "seccomp") GTEST_SKIP() << "the library's seccomp backend is not available: " << t.backend;
  ASSERT_EQ(::kill(t.pid, SIGSTOP), 0);
  int st = 0;
  ASSERT_EQ(::waitpid(t.pid, &st, WUNTRACED), t.pid);
  ASSERT_TRUE(WIFSTOPPED(st));

  const json j = audit({std::to_string(t.pid), "--json"});
  const json& p = process_of(j);
  EXPECT_EQ(p.at("filters").at("status"), "read") << p.at("filters");
  EXPECT_GE(p.at("filters").at("sealed_vmas").get<int>(), 2);  // the target's mapping and its text
  EXPECT_EQ(settled_state(t.pid, 'T'), 'T') << "a stopped process stays stopped";
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(state_of(t.pid), 'T') << "and does not run on its own";
  ASSERT_EQ(::kill(t.pid, SIGCONT), 0);
  EXPECT_EQ(settled_state(t.pid), 'S') << "and runs again on SIGCONT";
}

// Every process of the machine: none of them may be left stopped or traced by the audit.
TEST(AuditFilters, AllLeavesNoProcessStoppedOrTraced) {
  if (!root()) GTEST_SKIP() << "reading another process's seccomp filters needs CAP_SYS_ADMIN (run as root)";
  Target sealed, allow;
  start_target(sealed, "seal", true);
  start_target(allow, "allow", false);
  if (HasFatalFailure()) return;
  // Every filtered process read, however busy the machine is with other
  // tests' processes (each still gets --stop-timeout at most).
  const json j = audit({"--all", "--json", "--wait-budget", "600000"});
  std::size_t read = 0;
  for (const json& p : j.at("processes")) {
    if (p.at("status") != "ok") continue;
    const pid_t pid = p.at("pid");
    if (p.at("filters").at("status") == "read") ++read;
    const std::string status = read_text("/proc/" + std::to_string(pid) + "/status");
    if (status.empty()) continue;  // exited since
    EXPECT_EQ(status.find("TracerPid:\t" + std::to_string(pid)), std::string::npos);
  }
  EXPECT_GE(read, 2u);
  EXPECT_EQ(settled_state(sealed.pid), 'S');
  EXPECT_EQ(settled_state(allow.pid), 'S');
  EXPECT_GE(j.at("totals").at("filter_sealed_vmas").get<int>(), 2);  // the sealed target's mapping and text
}

// Starts `argv` (which ends up running `sleep 300`, itself or as a child)
// and returns the pid of that sleep once it is sealed and idle (blocked in
// clock_nanosleep, 230 in /proc/PID/syscall); `t` and `child` kill them at the end.
pid_t start_idle_sleep(const std::vector<std::string>& argv, Target& t, Target& child) {
  t.pid = ::fork();
  if (t.pid == 0) {
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    _exit(127);
  }
  auto idle_sleep = [](pid_t pid) {
    const std::string base = "/proc/" + std::to_string(pid);
    char exe[256] = {};
    const ssize_t n = ::readlink((base + "/exe").c_str(), exe, sizeof exe - 1);
    return n > 0 && std::string(exe) == "/usr/bin/sleep" && read_text(base + "/syscall").rfind("230 ", 0) == 0;
  };
  for (int i = 0; i < 1000 && t.pid > 0; ++i) {
    if (idle_sleep(t.pid)) return t.pid;
    std::istringstream children(read_text("/proc/" + std::to_string(t.pid) + "/task/" + std::to_string(t.pid) +
                                          "/children"));
    for (pid_t c; children >> c;) {
      if (idle_sleep(c)) return child.pid = c;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

std::string lib_dir() {
  const std::string bin = SEALKIT_BIN;
  const std::string bin_dir = bin.substr(0, bin.rfind('/'));
  return bin_dir.substr(0, bin_dir.rfind('/')) + "/lib";
}

// `sealkit run --backend seccomp` supervises: its root filter hands every
// guarded call to the supervisor (USER_NOTIF), unmapped memory included. The
// filter alone says nothing (counted as sealed, it would make 100% of a
// process "sealed" by a filter that seals nothing by itself); the
// supervisor, asked, says what it refuses: the program's objects, [vdso],
// [stack], the image token, not the heap.
TEST(AuditFilters, ASupervisedProcessIsSealedAsItsSupervisorAnswers) {
  if (!root()) GTEST_SKIP() << "reading another process's seccomp filters needs CAP_SYS_ADMIN (run as root)";
  Target t, sleeper;
  const pid_t sleeping =
      start_idle_sleep({SEALKIT_BIN, "run", "--backend", "seccomp", "--", "/usr/bin/sleep", "300"}, t, sleeper);
  ASSERT_GT(sleeping, 0) << "sealkit run --backend seccomp -- sleep did not reach its sleep";
  ASSERT_NE(sleeping, t.pid) << "sealkit run --backend seccomp is expected to stay as the supervisor";

  // What is tested is the answer, not its speed: a loaded machine gets time.
  const json j = audit({std::to_string(sleeping), "--json", "--vmas", "--answer-timeout", "5000", "--wait-budget", "10000"});
  EXPECT_EQ(settled_state(sleeping), 'S');
  const json& p = process_of(j);
  ASSERT_EQ(p.at("status"), "ok") << p;
  const json& f = p.at("filters");
  ASSERT_EQ(f.at("status"), "read") << f;
  EXPECT_TRUE(f.at("supervises_unmapped").get<bool>()) << f;
  EXPECT_FALSE(f.at("refuses_unmapped").get<bool>()) << f;
  ASSERT_EQ(f.at("supervisor"), "answered") << f;
  EXPECT_EQ(f.at("supervisor_pid"), t.pid);
  std::size_t code_and_data = 0;
  for (const json& v : p.at("vma_list")) {
    SCOPED_TRACE(v.dump());
    EXPECT_NE(v.at("sealed_by"), "kernel");
    EXPECT_EQ(v.value("supervised_bytes", std::uint64_t{0}), 0u) << "answered: nothing is left undecided";
    const std::string cls = v.at("class");
    if (cls == "elf_text" || cls == "elf_rodata" || cls == "elf_relro" || cls == "elf_data" || cls == "vdso" ||
        cls == "stack") {
      ++code_and_data;
      EXPECT_EQ(v.at("sealed_by"), "filter");
      EXPECT_EQ(v.at("filter_action"), "user_notif");
    }
    if (cls == "heap") {
      EXPECT_EQ(v.at("filter"), "not_sealed");
    }
  }
  EXPECT_GE(code_and_data, 15u);
  EXPECT_EQ(p.at("supervised_vmas"), 0);
  EXPECT_EQ(p.at("coverage_bytes_percent").get<double>(), 100.0);
  sealkit::test::Captured table = sealkit::test::run_captured({SEALKIT_BIN, "audit", std::to_string(sleeping)});
  EXPECT_NE(table.out.find("as supervisor " + std::to_string(t.pid) + " answers"), std::string::npos) << table.out;
  std::printf("sealkit run --backend seccomp: %d VMAs sealed as the supervisor answers, %d in part, coverage %.1f%%\n",
              f.at("sealed_vmas").get<int>(), f.at("partial_vmas").get<int>(),
              p.at("coverage_bytes_percent").get<double>());
}

// A daemon the program leaves behind: `sealkit run` returns, a background
// supervisor serves the daemon, and the daemon, reparented when its shell
// exited, has no supervisor among its ancestors. The audit finds the
// background supervisor by its query socket and takes its answer.
TEST(AuditFilters, ADaemonIsSealedAsItsBackgroundSupervisorAnswers) {
  if (!root()) GTEST_SKIP() << "reading another process's seccomp filters needs CAP_SYS_ADMIN (run as root)";
  sealkit::test::Captured started = sealkit::test::run_captured(
      {SEALKIT_BIN, "run", "--backend", "seccomp", "--", "/bin/sh", "-c",
       "/usr/bin/sleep 300 </dev/null >/dev/null 2>&1 & echo $!"});
  ASSERT_EQ(started.status, 0) << started.err;
  const pid_t daemon = static_cast<pid_t>(std::atol(started.out.c_str()));
  ASSERT_GT(daemon, 1) << started.out;
  struct Kill {
    pid_t pid;
    ~Kill() { ::kill(pid, SIGKILL); }
  } kill_daemon{daemon};
  const std::string base = "/proc/" + std::to_string(daemon);
  for (int i = 0; i < 500 && read_text(base + "/syscall").rfind("230 ", 0) != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(read_text(base + "/syscall").rfind("230 ", 0), 0u) << "the daemon did not reach its sleep";

  // What is tested is the answer, not its speed: a loaded machine gets time.
  const json j = audit({std::to_string(daemon), "--json", "--vmas", "--answer-timeout", "5000", "--wait-budget", "10000"});
  const json& p = process_of(j);
  ASSERT_EQ(p.at("status"), "ok") << p;
  const json& f = p.at("filters");
  EXPECT_TRUE(f.at("supervises_unmapped").get<bool>()) << f;
  ASSERT_EQ(f.at("supervisor"), "answered") << f;
  const pid_t supervisor = f.at("supervisor_pid").get<pid_t>();
  EXPECT_NE(supervisor, daemon);
  // Not an ancestor: the daemon's parent is whoever adopted it, not sealkit.
  const std::string status = read_text(base + "/status");
  EXPECT_EQ(status.find("\nPPid:\t" + std::to_string(supervisor) + "\n"), std::string::npos) << status;
  char exe[256] = {};
  const ssize_t n = ::readlink(("/proc/" + std::to_string(supervisor) + "/exe").c_str(), exe, sizeof exe - 1);
  EXPECT_EQ(n > 0 ? std::string(exe) : std::string(), std::string(SEALKIT_BIN)) << "the supervisor is sealkit";
  EXPECT_EQ(p.at("supervised_vmas"), 0);
  EXPECT_EQ(p.at("coverage_bytes_percent").get<double>(), 100.0);
}

// A daemon the supervisor must serve, started by `sealkit run --backend
// seccomp -- /bin/sh -c PROGRAM`: the daemon's script writes its pid to a
// file, waits for `until` (a shell condition) and then execs sleep, whose
// runtime registers its seals at that moment.
struct OrphanedDaemon {
  std::string dir, pid_file;
  pid_t pid = -1;

  OrphanedDaemon() {
    char name[] = "/tmp/sealkit-orphan-XXXXXX";
    if (::mkdtemp(name) != nullptr) dir = name;
    pid_file = dir + "/pid";
  }
  ~OrphanedDaemon() {
    if (pid > 0) ::kill(pid, SIGKILL);
    ::unlink(pid_file.c_str());
    ::rmdir(dir.c_str());
  }

  // The daemon's script: $1 the pid file, $2 what the program passed on.
  static std::string script(const std::string& until) {
    return "echo $$ > \"$1\"; i=0; until " + until +
           "; do i=$((i+1)); [ $i -gt 1000 ] && exit 1; sleep 0.02; done; exec /usr/bin/sleep 300";
  }

  // Waits for the pid file, then for the sleep.
  bool wait_until_sleeping() {
    for (int i = 0; i < 1500 && pid <= 0; ++i) {
      pid = static_cast<pid_t>(std::atol(read_text(pid_file).c_str()));
      if (pid <= 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (pid <= 0) return false;
    const std::string syscall = "/proc/" + std::to_string(pid) + "/syscall";
    for (int i = 0; i < 1500 && read_text(syscall).rfind("230 ", 0) != 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return read_text(syscall).rfind("230 ", 0) == 0;
  }
};

// What the audit says of a daemon the supervisor serves: its answer, every
// page of the sleep sealed by it.
void expect_answered_by_the_supervisor(pid_t daemon) {
  const json j = audit({std::to_string(daemon), "--json", "--answer-timeout", "5000", "--wait-budget", "10000"});
  const json& p = process_of(j);
  ASSERT_EQ(p.at("status"), "ok") << p;
  const json& f = p.at("filters");
  ASSERT_EQ(f.at("supervisor"), "answered") << f;
  EXPECT_EQ(p.at("coverage_bytes_percent").get<double>(), 100.0) << p;
}

// The daemon's parent ends while `sealkit run` still runs the program: the
// daemon is an orphan when it execs, and `sealkit run` (the maker of the
// registration socket) is alive. It adopts the tree's orphans, so it is still
// the daemon's ancestor, and the daemon registers with it.
TEST(AuditFilters, ADaemonOrphanedWhileSealkitRunsRegistersWithItsSupervisor) {
  if (!root()) GTEST_SKIP() << "reading another process's seccomp filters needs CAP_SYS_ADMIN (run as root)";
  OrphanedDaemon d;
  ASSERT_FALSE(d.dir.empty());
  // The daemon waits until its parent (the subshell that started it) has
  // ended: until its parent is no child of the program, whose pid is $2.
  const std::string daemon = OrphanedDaemon::script(
      "up=$(cut -d' ' -f4 /proc/$$/stat); [ \"$(cut -d' ' -f4 /proc/$up/stat 2>/dev/null)\" != \"$2\" ]");
  // The program outlives the daemon's exec: it waits for the sleep.
  const std::string program =
      "( /bin/sh -c \"$1\" daemon \"$2\" $$ </dev/null >/dev/null 2>&1 & ); i=0; "
      "until [ -s \"$2\" ] && grep -q '^230 ' /proc/$(cat \"$2\")/syscall 2>/dev/null; do "
      "i=$((i+1)); [ $i -gt 1000 ] && exit 1; sleep 0.02; done";
  sealkit::test::Captured run = sealkit::test::run_captured(
      {SEALKIT_BIN, "run", "--backend", "seccomp", "--", "/bin/sh", "-c", program, "program", daemon, d.pid_file});
  ASSERT_EQ(run.status, 0) << run.err;
  ASSERT_TRUE(d.wait_until_sleeping()) << "the daemon did not reach its sleep";
  expect_answered_by_the_supervisor(d.pid);
}

// `sealkit run` has exited and nobody has reaped it (its parent is busy):
// the maker of the socket is a zombie, not a live impostor. The daemon
// registers with the background supervisor.
TEST(AuditFilters, ADaemonRegistersWhileSealkitRunIsAZombie) {
  if (!root()) GTEST_SKIP() << "reading another process's seccomp filters needs CAP_SYS_ADMIN (run as root)";
  OrphanedDaemon d;
  ASSERT_FALSE(d.dir.empty());
  // The program passes its parent (sealkit run) on; the daemon waits until it is a zombie.
  const std::string daemon = OrphanedDaemon::script("[ \"$(sed 's/.*) //' /proc/$2/stat | cut -c1)\" = Z ]");
  const std::string program = "( /bin/sh -c \"$1\" daemon \"$2\" $PPID </dev/null >/dev/null 2>&1 & )";
  // The parent starts sealkit run and never waits for it.
  const pid_t parent = ::fork();
  ASSERT_GE(parent, 0);
  if (parent == 0) {
    const pid_t run = ::fork();
    if (run == 0) {
      const int null = ::open("/dev/null", O_RDWR);
      for (int fd = 0; fd < 3; ++fd) ::dup2(null, fd);
      ::execl(SEALKIT_BIN, SEALKIT_BIN, "run", "--backend", "seccomp", "--", "/bin/sh", "-c", program.c_str(),
              "program", daemon.c_str(), d.pid_file.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::pause();
    ::_exit(0);
  }
  struct Reap {
    pid_t pid;
    ~Reap() {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  } reap_parent{parent};
  ASSERT_TRUE(d.wait_until_sleeping()) << "the daemon did not reach its sleep";
  expect_answered_by_the_supervisor(d.pid);
}

// The same with the supervisor stopped (SIGSTOP): no answer within the
// audit's bounded wait, so every page is "supervised" and none counted sealed.
TEST(AuditFilters, WithoutAnAnswerASupervisedProcessIsSupervisedNotSealed) {
  if (!root()) GTEST_SKIP() << "reading another process's seccomp filters needs CAP_SYS_ADMIN (run as root)";
  Target t, sleeper;
  // Two sleeps under one supervisor: the shell becomes the first, the second is its child.
  const pid_t sleeping = start_idle_sleep({SEALKIT_BIN, "run", "--backend", "seccomp", "--", "/bin/sh", "-c",
                                           "/usr/bin/sleep 300 & exec /usr/bin/sleep 300"},
                                          t, sleeper);
  ASSERT_GT(sleeping, 0) << "sealkit run --backend seccomp -- sleep did not reach its sleep";
  ASSERT_NE(sleeping, t.pid);
  ASSERT_EQ(::kill(t.pid, SIGSTOP), 0);
  const json j = audit({std::to_string(sleeping), "--json", "--vmas"});
  ASSERT_EQ(::kill(t.pid, SIGCONT), 0);
  const json& p = process_of(j);
  ASSERT_EQ(p.at("status"), "ok") << p;
  const json& f = p.at("filters");
  EXPECT_TRUE(f.at("supervises_unmapped").get<bool>()) << f;
  EXPECT_NE(f.at("supervisor").get<std::string>().find("no answer within"), std::string::npos) << f;
  EXPECT_EQ(f.at("sealed_vmas"), 0) << f;
  std::size_t supervised = 0, vmas = 0;
  for (const json& v : p.at("vma_list")) {
    EXPECT_NE(v.at("sealed_by"), "kernel") << v;
    EXPECT_FALSE(v.at("sealed").get<bool>()) << v;
    if (v.at("path") == "[vsyscall]") continue;  // beyond TASK_SIZE: the kernel refuses before any filter
    ++vmas;
    EXPECT_EQ(v.at("filter"), "supervised") << v;
    EXPECT_EQ(v.at("verdict"), v.at("should_seal_bytes").get<std::uint64_t>() ? "unsealed" : "n/a") << v;
    supervised += v.at("filter") == "supervised";
    EXPECT_GT(v.value("supervised_bytes", std::uint64_t{0}), 0u) << v;
  }
  EXPECT_GE(vmas, 15u);
  EXPECT_EQ(f.at("supervised_vmas"), supervised);
  EXPECT_EQ(p.at("supervised_vmas"), supervised);
  EXPECT_EQ(p.at("coverage_bytes_percent").get<double>(), 0.0) << "nothing is counted sealed that a supervisor decides";
  ::kill(t.pid, SIGSTOP);
  // A generous --stop-timeout, as audit() gives.
  sealkit::test::Captured table =
      sealkit::test::run_captured({SEALKIT_BIN, "audit", std::to_string(sleeping), "--stop-timeout", "2000"});
  // A supervisor that let one question pass unanswered is not asked again in the same run, about another of its
  // processes.
  pid_t second = 0;
  for (int i = 0; i < 500 && second == 0; ++i) {
    std::istringstream children(read_text("/proc/" + std::to_string(sleeping) + "/task/" + std::to_string(sleeping) +
                                          "/children"));
    children >> second;
    if (second == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GT(second, 0) << "the second sleep under the same supervisor did not start";
  const json twice = audit({std::to_string(sleeping), std::to_string(second), "--json"});
  ::kill(t.pid, SIGCONT);
  ::kill(second, SIGKILL);
  EXPECT_NE(table.out.find("a supervisor decides, not counted as sealed"), std::string::npos) << table.out;
  ASSERT_EQ(twice.at("processes").size(), 2u);
  EXPECT_NE(twice.at("processes").at(0).at("filters").at("supervisor").get<std::string>().find("no answer within"),
            std::string::npos);
  EXPECT_NE(twice.at("processes").at(1).at("filters").at("supervisor").get<std::string>().find(
                "did not answer an earlier question in this run"),
            std::string::npos)
      << twice.at("processes").at(1);
  EXPECT_EQ(settled_state(sleeping), 'S');
}

// The asker's side of the supervisor query against answers written here by a
// fake supervisor (a child of this test, so it runs the asker's executable):
// malformed answers are refused, an answer from someone other than the pid
// asked is ignored, and the wait is bounded.
namespace query = sealkit::backend::seccomp::query;

pid_t fake_supervisor(const std::vector<unsigned char>& answer, bool squat_for_parent = false) {
  int ready[2];
  if (::pipe(ready) != 0) return -1;
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid != 0) {
    ::close(ready[1]);
    char c;
    const bool ok = ::read(ready[0], &c, 1) == 1;
    ::close(ready[0]);
    return ok ? pid : -1;
  }
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  const int n = std::snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "%s%d", query::kNamePrefix,
                              static_cast<int>(squat_for_parent ? parent : ::getpid()));
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + static_cast<std::size_t>(n));
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0) _exit(1);
  (void)!::write(ready[1], "r", 1);
  for (;;) {
    query::Request req;
    sockaddr_un from{};
    socklen_t from_len = sizeof from;
    const ssize_t r = ::recvfrom(fd, &req, sizeof req, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (r > 0 && !answer.empty()) (void)::sendto(fd, answer.data(), answer.size(), 0, reinterpret_cast<sockaddr*>(&from), from_len);
  }
}

std::vector<unsigned char> answer_of(query::ReplyHeader h, const std::vector<query::WireRange>& ranges) {
  std::vector<unsigned char> out(sizeof h + ranges.size() * sizeof(query::WireRange));
  std::memcpy(out.data(), &h, sizeof h);
  if (!ranges.empty()) std::memcpy(out.data() + sizeof h, ranges.data(), ranges.size() * sizeof ranges[0]);
  return out;
}

TEST(SupervisorQuery, HostileAnswersAreRefused) {
  const std::uint64_t a = 0x7f0000000000;
  query::ReplyHeader h;
  h.count = 2;
  struct Case {
    const char* what;
    std::vector<unsigned char> answer;
    const char* error;  // expected error, "" for an accepted answer
  };
  std::vector<Case> cases;
  cases.push_back({"well formed", answer_of(h, {{a, a + 8192, 1, 0}, {a + 65536, a + 69632, 0, 1}}), ""});
  cases.push_back({"unaligned", answer_of(h, {{a + 1, a + 8192, 0, 0}, {a + 65536, a + 69632, 0, 1}}), "malformed"});
  cases.push_back({"empty range", answer_of(h, {{a, a, 0, 0}, {a + 65536, a + 69632, 0, 1}}), "malformed"});
  cases.push_back({"beyond TASK_SIZE", answer_of(h, {{a, a + 8192, 0, 0}, {a, std::uint64_t{1} << 63, 0, 1}}),
                   "malformed"});
  cases.push_back({"records out of order", answer_of(h, {{a, a + 8192, 0, 0}, {a, a + 8192, 0, 5}}), "malformed"});
  cases.push_back({"unknown flags", answer_of(h, {{a, a + 8192, 2, 0}, {a, a + 8192, 0, 1}}), "malformed"});
  cases.push_back({"count larger than the body", answer_of(h, {{a, a + 8192, 0, 0}}), "malformed"});
  query::ReplyHeader bad_magic = h;
  bad_magic.magic ^= 1;
  cases.push_back({"bad magic", answer_of(bad_magic, {{a, a + 8192, 0, 0}, {a, a + 8192, 0, 1}}), "malformed"});
  query::ReplyHeader refused;
  refused.error = EPERM;
  cases.push_back({"an error", answer_of(refused, {}), "Operation not permitted"});
  cases.push_back({"too short", std::vector<unsigned char>(5, 0), "malformed"});
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const pid_t fake = fake_supervisor(c.answer);
    ASSERT_GT(fake, 0);
    const query::Answer got = query::ask(fake, ::getpid(), 1000);
    ::kill(fake, SIGKILL);
    ::waitpid(fake, nullptr, 0);
    if (*c.error == '\0') {
      EXPECT_EQ(got.error, "");
      ASSERT_EQ(got.records.size(), 2u);
      EXPECT_EQ(got.records[0][0].start, a);
      EXPECT_TRUE(got.records[0][0].discard_protected);
      EXPECT_EQ(got.records[1][0].end, a + 69632);
    } else {
      EXPECT_NE(got.error.find(c.error), std::string::npos) << got.error;
      EXPECT_TRUE(got.records.empty());
    }
  }
}

TEST(SupervisorQuery, AnAnswerFromAnotherProcessIsIgnoredAndTheWaitIsBounded) {
  query::ReplyHeader h;
  // A squatter bound the name of this test's pid and answers: the asker asks
  // "this pid", whose credentials the answer does not carry.
  const pid_t squatter = fake_supervisor(answer_of(h, {}), true);
  ASSERT_GT(squatter, 0);
  const auto t0 = std::chrono::steady_clock::now();
  const query::Answer got = query::ask(::getpid(), ::getpid(), 200);
  const auto waited = std::chrono::steady_clock::now() - t0;
  ::kill(squatter, SIGKILL);
  ::waitpid(squatter, nullptr, 0);
  EXPECT_NE(got.error.find("no answer within 200 ms"), std::string::npos) << got.error;
  EXPECT_TRUE(got.records.empty());
  // A supervisor that never answers: the same bounded wait.
  const pid_t silent = fake_supervisor({});
  ASSERT_GT(silent, 0);
  const query::Answer none = query::ask(silent, ::getpid(), 100);
  ::kill(silent, SIGKILL);
  ::waitpid(silent, nullptr, 0);
  EXPECT_NE(none.error.find("no answer within"), std::string::npos) << none.error;
  std::printf("waited %.0f ms for a squatter's answer that does not count\n",
              std::chrono::duration<double, std::milli>(waited).count());
  // Not this sealkit: a process running another executable is not asked at all.
  const query::Answer other = query::ask(1, ::getpid(), 100);
  EXPECT_EQ(other.error, "not running this sealkit");
}

// The runtime on its own filters (injected by hand, no supervisor): every
// object is sealed at start-up, but the bss of sealkit's own objects sits in a
// VMA merged with the allocation after it, which a filter does not split.
// The audit must count the sealed part: 100% of the asked-for bytes (it said
// 66%: such a VMA counted unsealed as a whole).
TEST(AuditFilters, TheRuntimeOnItsOwnFilterIsSealedInsideMergedVmas) {
  if (!root()) GTEST_SKIP() << "reading another process's seccomp filters needs CAP_SYS_ADMIN (run as root)";
  Target t, unused;
  const pid_t sleeping = start_idle_sleep({"/usr/bin/env", "LD_AUDIT=" + lib_dir() + "/libsealkit-runtime.so",
                                           "LD_PRELOAD=" + lib_dir() + "/libsealkit-preload.so",
                                           "SEALKIT_BACKEND=seccomp", "/usr/bin/sleep", "300"},
                                          t, unused);
  ASSERT_GT(sleeping, 0) << "the runtime-sealed sleep did not reach its sleep";

  const json j = audit({std::to_string(sleeping), "--json", "--vmas"});
  EXPECT_EQ(settled_state(sleeping), 'S');
  const json& p = process_of(j);
  ASSERT_EQ(p.at("status"), "ok") << p;
  const json& f = p.at("filters");
  ASSERT_EQ(f.at("status"), "read") << f;
  EXPECT_EQ(f.at("abi"), "x86_64");
  std::size_t partial = 0;
  std::uint64_t partial_bytes = 0;
  for (const json& v : p.at("vma_list")) {
    SCOPED_TRACE(v.dump());
    const std::string cls = v.at("class");
    const std::uint64_t size = hex_of(v, "end") - hex_of(v, "start");
    if (cls == "heap") {
      EXPECT_EQ(v.at("filter"), "not_sealed");
    }
    if (v.at("filter") != "partial") continue;
    ++partial;
    EXPECT_FALSE(v.at("sealed").get<bool>());
    EXPECT_EQ(v.at("verdict"), "partial");
    const std::uint64_t part = v.at("sealed_part_bytes"), should = v.at("should_seal_bytes");
    partial_bytes += part;
    EXPECT_GT(part, 0u);
    EXPECT_LT(part, size);
    // The object's part (what the rule asks for) is the sealed part; the rest is the merged allocation.
    EXPECT_EQ(cls, "elf_bss");
    EXPECT_LT(should, size);
    EXPECT_EQ(v.at("sealed_part_should_bytes"), should);
  }
  EXPECT_GE(partial, 1u) << "sealkit's own objects' bss is merged with an allocation";
  EXPECT_EQ(f.at("partial_vmas"), partial);
  EXPECT_EQ(p.at("partial_vmas"), partial);
  EXPECT_EQ(p.at("partial_bytes"), partial_bytes);
  EXPECT_EQ(p.at("sealed_should_bytes"), p.at("should_bytes")) << "every asked-for byte is sealed";
  EXPECT_EQ(p.at("coverage_bytes_percent").get<double>(), 100.0);
  EXPECT_EQ(p.at("sealed_should_vmas"), p.at("should_vmas"));
  EXPECT_EQ(p.at("objects_fully_sealed"), p.at("objects"));

  // The table and the Prometheus text say it too.
  sealkit::test::Captured table = sealkit::test::run_captured({SEALKIT_BIN, "audit", std::to_string(sleeping)});
  EXPECT_NE(table.out.find(std::to_string(partial) + " in part"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("100.0%"), std::string::npos) << table.out;
  sealkit::test::Captured prom =
      sealkit::test::run_captured({SEALKIT_BIN, "audit", std::to_string(sleeping), "--format", "prometheus"});
  EXPECT_NE(prom.out.find("sealkit_audit_partial_vmas{class=\"elf_bss\"} " + std::to_string(partial) + "\n"),
            std::string::npos)
      << prom.out;
  std::printf("runtime on its own filter: %zu VMAs sealed in part (%llu bytes), coverage %.1f%%\n", partial,
              static_cast<unsigned long long>(partial_bytes), p.at("coverage_bytes_percent").get<double>());
}

// A 32-bit process: its filters see AUDIT_ARCH_I386 and the i386 numbers
// (mprotect 125, munmap 91, mremap 163, mmap2 192); the audit evaluated them
// as x86_64 only and said "unknown".
TEST(AuditFilters, AnI386ProcessIsEvaluatedWithTheI386Abi) {
#ifndef AUDIT_I386_TARGET
  GTEST_SKIP() << "no i386 toolchain (gcc-multilib): the 32-bit target was not built";
#else
  if (!root()) GTEST_SKIP() << "reading another process's seccomp filters needs CAP_SYS_ADMIN (run as root)";
  if (std::string why; !sealkit::test::kernel_executes(AUDIT_I386_TARGET, why)) GTEST_SKIP() << why;
  Target t;
  start_target(t, "i386", false, AUDIT_I386_TARGET);
  if (HasFatalFailure()) return;
  const json j = audit({std::to_string(t.pid), "--json", "--vmas"});
  EXPECT_EQ(settled_state(t.pid), 'S');
  const json& p = process_of(j);
  ASSERT_EQ(p.at("status"), "ok") << p;
  const json& f = p.at("filters");
  ASSERT_EQ(f.at("status"), "read") << f;
  EXPECT_EQ(f.at("abi"), "i386");
  bool saw_sealed = false, saw_control = false;
  std::size_t filter_sealed = 0;
  for (const json& v : p.at("vma_list")) {
    const unsigned long long b = hex_of(v, "start"), e = hex_of(v, "end");
    filter_sealed += v.at("sealed_by") == "filter";
    if (b == t.sealed_begin && e == t.sealed_end) {
      saw_sealed = true;
      EXPECT_EQ(v.at("filter"), "sealed") << v;
      EXPECT_EQ(v.at("filter_action"), "errno") << v;
      EXPECT_TRUE(v.at("discard_refused").get<bool>()) << v;
    } else if (b == t.control_begin && e == t.control_end) {
      saw_control = true;
      EXPECT_EQ(v.at("filter"), "not_sealed") << v;
    } else {
      EXPECT_NE(v.at("filter"), "sealed") << v;
    }
  }
  EXPECT_TRUE(saw_sealed);
  EXPECT_TRUE(saw_control);
  EXPECT_EQ(filter_sealed, 1u);
  EXPECT_EQ(f.at("sealed_vmas"), 1);
  EXPECT_FALSE(f.at("refuses_unmapped").get<bool>());
  sealkit::test::Captured table = sealkit::test::run_captured({SEALKIT_BIN, "audit", std::to_string(t.pid)});
  EXPECT_NE(table.out.find("1 (1 VMAs sealed, i386)"), std::string::npos) << table.out;
#endif
}

// A 64-bit process reaches memory below 8 GiB with i386 calls too (int 0x80),
// so a page there is filter-sealed only if its filters refuse both ABIs. The
// target has one page sealed by the library (whose filter guards i386) and one
// refused by a hand-written x86_64-only filter, and checks on itself that
// int 0x80 still changes the second. An audit that asked x86_64 alone called
// both sealed.
TEST(AuditFilters, AFilterThatIgnoresInt80DoesNotSealLowMemory) {
  if (!root()) GTEST_SKIP() << "reading another process's seccomp filters needs CAP_SYS_ADMIN (run as root)";
  if (std::string why; !sealkit::test::int80_works(why)) GTEST_SKIP() << why;
  Target t;
  start_target(t, "", true, AUDIT_INT80_TARGET);
  if (HasFatalFailure()) return;
  const json j = audit({std::to_string(t.pid), "--json", "--vmas"});
  EXPECT_EQ(settled_state(t.pid), 'S');
  const json& p = process_of(j);
  ASSERT_EQ(p.at("status"), "ok") << p;
  const json& f = p.at("filters");
  ASSERT_EQ(f.at("status"), "read") << f;
  EXPECT_EQ(f.at("abi"), "x86_64");
  bool saw_sealed = false, saw_control = false;
  for (const json& v : p.at("vma_list")) {
    const unsigned long long b = hex_of(v, "start"), e = hex_of(v, "end");
    if (b == t.sealed_begin && e == t.sealed_end) {
      saw_sealed = true;
      EXPECT_EQ(v.at("filter"), "sealed") << v;
      EXPECT_EQ(v.at("sealed_by"), "filter") << v;
      EXPECT_TRUE(v.at("discard_refused").get<bool>()) << v;
    } else if (b == t.control_begin && e == t.control_end) {
      saw_control = true;
      EXPECT_EQ(v.at("filter"), "not_sealed") << "refused to x86_64 only: int 0x80 changes it " << v;
      EXPECT_NE(v.at("sealed_by"), "filter") << v;
    }
  }
  EXPECT_TRUE(saw_sealed);
  EXPECT_TRUE(saw_control);
}

// What the audit relies on when it is interrupted (SIGINT, SIGKILL) with a
// process in its ptrace stop: the kernel detaches every tracee of a tracer
// that dies, and the tracee runs again. A child of this test plays the audit.
TEST(AuditFilters, ATracerKilledDuringTheStopLeavesTheProcessRunning) {
  if (!root()) GTEST_SKIP() << "a sibling may trace the target only with privilege (Yama)";
  Target t;
  start_target(t, "plain", false);
  if (HasFatalFailure()) return;
  pid_t tracer = ::fork();
  ASSERT_GE(tracer, 0);
  if (tracer == 0) {
    if (::ptrace(PTRACE_SEIZE, t.pid, nullptr, nullptr) != 0 || ::ptrace(PTRACE_INTERRUPT, t.pid, nullptr, nullptr) != 0)
      _exit(1);
    int st = 0;
    if (::waitpid(t.pid, &st, __WALL) != t.pid || !WIFSTOPPED(st)) _exit(2);
    ::raise(SIGINT);  // dies with the target in its ptrace stop
    _exit(3);
  }
  int st = 0;
  ASSERT_EQ(::waitpid(tracer, &st, 0), tracer);
  ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGINT) << "the tracer did not reach the stop: status " << st;
  EXPECT_EQ(settled_state(t.pid), 'S');
  EXPECT_NE(read_text("/proc/" + std::to_string(t.pid) + "/status").find("TracerPid:\t0\n"), std::string::npos);
}
