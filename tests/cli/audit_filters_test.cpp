// `sealkit audit` on processes sealed by the library's seccomp filter
// (SEALKIT_BACKEND=seccomp), on this machine's real kernel, as root:
// the audit's filter-sealed VMAs must be exactly the ones the process's own
// sealkit_is_sealed says are sealed; a filter that seals nothing seals
// nothing; a process traced by someone else is "unknown" and left running;
// no process is ever left stopped.
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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

void start_target(Target& t, const char* mode, bool seccomp_backend) {
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  t.pid = ::fork();
  ASSERT_GE(t.pid, 0);
  if (t.pid == 0) {
    ::dup2(out[1], 1);
    ::close(out[0]);
    ::close(out[1]);
    if (seccomp_backend) ::setenv("SEALKIT_BACKEND", "seccomp", 1);
    ::execl(FILTER_SEAL_TARGET, FILTER_SEAL_TARGET, mode, static_cast<char*>(nullptr));
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

json audit(const std::vector<std::string>& extra) {
  std::vector<std::string> args{SEALKIT_BIN, "audit"};
  args.insert(args.end(), extra.begin(), extra.end());
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
  EXPECT_GE(p.at("filters").at("sealed_vmas").get<int>(), 3);
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
  const json j = audit({"--all", "--json"});
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
  EXPECT_GE(j.at("totals").at("filter_sealed_vmas").get<int>(), 3);
}

// `sealkit run --backend seccomp`: the runtime seals the program at start-up
// with one filter; the audit must see its objects sealed by that filter.
TEST(AuditFilters, SealkitRunOnTheSeccompBackendIsSeenSealed) {
  if (!root()) GTEST_SKIP() << "reading another process's seccomp filters needs CAP_SYS_ADMIN (run as root)";
  Target t;  // only for its cleanup
  t.pid = ::fork();
  ASSERT_GE(t.pid, 0);
  if (t.pid == 0) {
    ::execl(SEALKIT_BIN, SEALKIT_BIN, "run", "--backend", "seccomp", "--", "sleep", "300", static_cast<char*>(nullptr));
    _exit(127);
  }
  // Sealed and idle: `sleep` blocked in clock_nanosleep (230 in /proc/PID/syscall). `sealkit run` execs it in
  // place, or (as a supervisor, seen in the sanitizer build) starts it as its child.
  auto idle_sleep = [](pid_t pid) {
    const std::string base = "/proc/" + std::to_string(pid);
    char exe[256] = {};
    const ssize_t n = ::readlink((base + "/exe").c_str(), exe, sizeof exe - 1);
    return n > 0 && std::string(exe) == "/usr/bin/sleep" && read_text(base + "/syscall").rfind("230 ", 0) == 0;
  };
  Target sleeper;  // the child, when there is one: killed at the end too
  pid_t sleeping = -1;
  for (int i = 0; i < 1000 && sleeping < 0; ++i) {
    if (idle_sleep(t.pid)) sleeping = t.pid;
    std::istringstream children(read_text("/proc/" + std::to_string(t.pid) + "/task/" + std::to_string(t.pid) +
                                          "/children"));
    for (pid_t c; sleeping < 0 && children >> c;) {
      if (idle_sleep(c)) sleeping = sleeper.pid = c;
    }
    if (sleeping < 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GT(sleeping, 0) << "sealkit run --backend seccomp -- sleep did not reach its sleep";

  const json j = audit({std::to_string(sleeping), "--json", "--vmas"});
  EXPECT_EQ(settled_state(sleeping), 'S');
  const json& p = process_of(j);
  ASSERT_EQ(p.at("status"), "ok") << p;
  const json& f = p.at("filters");
  ASSERT_EQ(f.at("status"), "read") << f;
  // Supervised (sealkit run forks a supervisor, as the sanitizer build does), a second filter hands every memory
  // call to the supervisor (USER_NOTIF), unmapped memory included: the audit cannot know the supervisor's answer,
  // so it says so (refuses_unmapped, filter_action user_notif) and counts everything. Else: the start-up filter.
  const bool supervised = f.at("refuses_unmapped").get<bool>();
  std::size_t code_and_data = 0;
  for (const json& v : p.at("vma_list")) {
    EXPECT_NE(v.at("sealed_by"), "kernel") << v;
    const std::string cls = v.at("class");
    // Text, rodata, RELRO and data of every object, and the kernel's pages, are in the start-up filter.
    if (cls == "elf_text" || cls == "elf_rodata" || cls == "elf_relro" || cls == "elf_data" || cls == "vdso" ||
        cls == "stack") {
      ++code_and_data;
      EXPECT_EQ(v.at("sealed_by"), "filter") << v;
    }
    if (cls == "heap" && !supervised) {
      EXPECT_TRUE(v.at("sealed_by").is_null()) << v;
    }
    if (supervised && v.at("sealed_by") == "filter") {
      EXPECT_EQ(v.at("filter_action"), "user_notif") << v;
    }
  }
  EXPECT_GE(code_and_data, 15u);
  EXPECT_GT(p.at("coverage_bytes_percent").get<double>(), 50.0);
  std::printf("sealkit run --backend seccomp: %d VMAs sealed by %d filter(s), coverage %.1f%%, stopped %.1f us\n",
              f.at("sealed_vmas").get<int>(), f.at("count").get<int>(), p.at("coverage_bytes_percent").get<double>(),
              f.at("stopped_microseconds").get<double>());
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
