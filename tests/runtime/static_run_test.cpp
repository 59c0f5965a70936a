// `sealkit run` on statically linked programs (src/cli/run/static_seal.hpp): one per start-up sealkit follows,
// glibc's static and static-pie, musl's and Go's. Each runs under `sealkit run`; while it runs, /proc/PID/smaps
// shows every VMA of its executable, [stack] and [vdso] sealed; its output and exit status are what it gives alone,
// with nothing on stderr; the log line says how it was sealed.
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/live_process.hpp"
#include "runtime/private_mounts.hpp"
#include "runtime/subprocess.hpp"

namespace {

using sealkit::test::Vma;

// A program started with pipes on stdin and stdout (stderr to a file), read up to its "ready".
struct Started {
  pid_t pid = -1;      // what was started: sealkit, or the program alone
  pid_t program = -1;  // the program: the started process, or its child under `sealkit run`
  int in = -1, out = -1;
  std::string err_path;
  std::string seen;  // stdout so far
};

// In the child before exec: every ptrace(2) of this process and its descendants fails with EPERM, as under a
// policy that forbids it; sealkit's PTRACE_TRACEME then fails.
void deny_ptrace() {
  sock_filter prog[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ptrace, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog fprog{static_cast<unsigned short>(sizeof prog / sizeof prog[0]), prog};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) != 0)
    _exit(126);
}

bool start(Started& s, const std::vector<std::string>& argv, std::string& why, bool no_ptrace = false) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
    why = "pipe2";
    return false;
  }
  char tmpl[] = "/tmp/sealkit-static-err-XXXXXX";
  const int err = mkstemp(tmpl);
  s.err_path = tmpl;
  s.pid = fork();
  if (s.pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err, 2);
    if (no_ptrace) deny_ptrace();
    std::vector<char*> a;
    for (const std::string& x : argv) a.push_back(const_cast<char*>(x.c_str()));
    a.push_back(nullptr);
    execv(a[0], a.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err);
  s.in = in[1];
  s.out = out[0];
  char buf[256];
  while (s.seen.find('\n') == std::string::npos) {
    const ssize_t n = read(s.out, buf, sizeof buf);
    if (n <= 0) break;
    s.seen.append(buf, static_cast<std::size_t>(n));
  }
  if (s.seen != "ready\n") {
    why = "expected \"ready\" from " + argv[0] + ", got \"" + s.seen + "\"";
    return false;
  }
  // Under `sealkit run` the program is sealkit's one child.
  std::ifstream children("/proc/" + std::to_string(s.pid) + "/task/" + std::to_string(s.pid) + "/children");
  pid_t child = -1;
  s.program = children >> child ? child : s.pid;
  return true;
}

struct Finished {
  int status = -1;
  std::string out, err;
};

Finished finish(Started& s) {
  Finished f;
  close(s.in);
  char buf[256];
  ssize_t n;
  while ((n = read(s.out, buf, sizeof buf)) > 0) s.seen.append(buf, static_cast<std::size_t>(n));
  close(s.out);
  int st = 0;
  waitpid(s.pid, &st, 0);
  f.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  f.out = s.seen;
  std::ifstream e(s.err_path);
  std::stringstream ss;
  ss << e.rdbuf();
  f.err = ss.str();
  unlink(s.err_path.c_str());
  return f;
}

std::string temp_log() {
  char path[] = "/tmp/sealkit-static-log-XXXXXX";
  const int fd = mkstemp(path);
  close(fd);
  return path;
}

// Runs `program` alone and under `sealkit run`, checks the seals while it runs and what it gives after; returns
// the log line.
nlohmann::json check_sealed(const std::string& program) {
  Started alone;
  std::string why;
  EXPECT_TRUE(start(alone, {program, "arg"}, why)) << why;
  const Finished plain = finish(alone);
  EXPECT_EQ(plain.status, 7) << plain.err;

  const std::string log = temp_log();
  Started s;
  EXPECT_TRUE(start(s, {SEALKIT_BIN, "run", "--log", log, "--", program, "arg"}, why)) << why;
  EXPECT_NE(s.program, s.pid) << "sealkit stays as the program's parent";
  const std::string exe = std::filesystem::canonical(program).string();
  const std::vector<Vma> vmas = sealkit::test::smaps_of(s.program);
  std::size_t exe_vmas = 0;
  bool stack = false, vdso = false;
  for (const Vma& v : vmas) {
    if (v.path == exe) {
      ++exe_vmas;
      EXPECT_TRUE(v.sealed) << program << ": " << v.range() << " " << v.perms << " not sealed";
      EXPECT_FALSE(v.perms.find('w') != std::string::npos && v.perms.find('x') != std::string::npos) << v.range();
    }
    if (v.path == "[stack]") stack = v.sealed;
    if (v.path == "[vdso]") vdso = v.sealed;
  }
  EXPECT_GE(exe_vmas, 2u) << program;
  EXPECT_TRUE(stack) << program << ": [stack] not sealed";
  EXPECT_TRUE(vdso) << program << ": [vdso] not sealed";

  const Finished sealed = finish(s);
  EXPECT_EQ(sealed.status, plain.status) << sealed.err;
  EXPECT_EQ(sealed.out, plain.out);
  EXPECT_EQ(sealed.out, "ready\ndone arg\n");
  EXPECT_EQ(sealed.err, "") << "no warning when it is sealed";

  std::ifstream in(log);
  std::string line;
  nlohmann::json j;
  if (std::getline(in, line)) j = nlohmann::json::parse(line, nullptr, false);
  unlink(log.c_str());
  EXPECT_TRUE(j.is_object()) << "one log line: " << line;
  if (!j.is_object()) return j;
  EXPECT_EQ(j.value("injected_as", ""), "ptrace") << line;
  EXPECT_EQ(j.value("objects_sealed", -1), 1) << line;
  EXPECT_EQ(j.value("mseal_failures", -1), 0) << line;
  EXPECT_EQ(j.value("exe", ""), exe) << line;
  EXPECT_TRUE(j.value("stack_sealed", false)) << line;
  EXPECT_GE(j.value("system_mappings_sealed", 0), 1) << line;
  return j;
}

TEST(SealkitRunStatic, GlibcStaticIsSealedAfterItsRelroMprotect) {
  const nlohmann::json j = check_sealed(STATIC_GLIBC);
  EXPECT_EQ(j.value("sealed_at", ""), "relro_mprotect") << j.dump();
}

TEST(SealkitRunStatic, GlibcStaticPieIsSealedAfterItsRelroMprotect) {
  const nlohmann::json j = check_sealed(STATIC_PIE_GLIBC);
  EXPECT_EQ(j.value("sealed_at", ""), "relro_mprotect") << j.dump();
}

TEST(SealkitRunStatic, MuslStaticIsSealedAtItsFirstSystemCall) {
  if (std::string(STATIC_MUSL).empty()) GTEST_SKIP() << "musl-gcc was not found at configure time: apt-get install musl-tools (scripts/bootstrap)";
  const nlohmann::json j = check_sealed(STATIC_MUSL);
  EXPECT_EQ(j.value("sealed_at", ""), "first_syscall") << j.dump();
}

TEST(SealkitRunStatic, GoIsSealedAtItsFirstSystemCall) {
  if (std::string(STATIC_GO).empty()) GTEST_SKIP() << "go was not found at configure time: apt-get install golang-go (scripts/bootstrap)";
  const nlohmann::json j = check_sealed(STATIC_GO);
  EXPECT_EQ(j.value("sealed_at", ""), "first_syscall") << j.dump();
}

// When sealkit cannot trace the program (here a seccomp filter makes ptrace fail, as a policy can), the program
// runs unsealed, with its own output and status, and sealkit says so on stderr and in the log.
TEST(SealkitRunStatic, WhenPtraceIsRefusedTheProgramRunsUnsealedWithAWarning) {
  const std::string log = temp_log();
  Started s;
  std::string why;
  ASSERT_TRUE(start(s, {SEALKIT_BIN, "run", "--log", log, "--", STATIC_GLIBC, "arg"}, why, true)) << why;
  const std::string exe = std::filesystem::canonical(STATIC_GLIBC).string();
  std::size_t exe_vmas = 0;
  for (const Vma& v : sealkit::test::smaps_of(s.program)) {
    if (v.path != exe) continue;
    ++exe_vmas;
    EXPECT_FALSE(v.sealed) << v.range();
  }
  EXPECT_GE(exe_vmas, 2u);
  const Finished f = finish(s);
  EXPECT_EQ(f.status, 7) << f.err;
  EXPECT_EQ(f.out, "ready\ndone arg\n");
  EXPECT_NE(f.err.find("could not seal it (PTRACE_TRACEME: Operation not permitted); it runs unsealed"),
            std::string::npos)
      << f.err;
  std::ifstream in(log);
  std::string line;
  std::getline(in, line);
  unlink(log.c_str());
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  ASSERT_TRUE(j.is_object()) << line;
  EXPECT_EQ(j.value("objects_sealed", -1), 0) << line;
  EXPECT_EQ(j.value("mseal_calls", -1), 0) << line;
}

// Static programs Debian ships: ldconfig (glibc static-pie, package libc-bin) and busybox (glibc static, package
// busybox-static, which scripts/bootstrap installs): the same output and exit status under `sealkit run` as alone,
// sealed (the log line), nothing on stderr.
TEST(SealkitRunStatic, DebiansStaticProgramsGiveTheSameOutputSealed) {
  const std::vector<std::vector<std::string>> commands = {
      {"/sbin/ldconfig", "-p"},
      {"/bin/busybox", "sh", "-c", "echo from busybox; printf '%s\\n' a b | sort -r; exit 3"},
  };
  for (const auto& cmd : commands) {
    SCOPED_TRACE(cmd[0]);
    ASSERT_TRUE(access(cmd[0].c_str(), X_OK) == 0) << cmd[0] << " is missing: apt-get install libc-bin busybox-static";
    const sealkit::test::Captured alone = sealkit::test::run_captured(cmd);
    const std::string log = temp_log();
    std::vector<std::string> under = {SEALKIT_BIN, "run", "--log", log, "--"};
    under.insert(under.end(), cmd.begin(), cmd.end());
    const sealkit::test::Captured sealed = sealkit::test::run_captured(under);
    EXPECT_EQ(sealed.status, alone.status) << sealed.err;
    EXPECT_EQ(sealed.out, alone.out);
    EXPECT_FALSE(sealed.out.empty());
    EXPECT_EQ(sealed.err, alone.err);
    std::ifstream in(log);
    std::string line;
    std::getline(in, line);
    unlink(log.c_str());
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;
    EXPECT_EQ(j.value("objects_sealed", -1), 1) << line;
    EXPECT_EQ(j.value("mseal_failures", -1), 0) << line;
    EXPECT_EQ(j.value("sealed_at", ""), "relro_mprotect") << line;
  }
}

// sealkit stays as the sealed program's parent: a signal sent to sealkit reaches the program, and sealkit ends
// the way the program did.
TEST(SealkitRunStatic, SignalsSentToSealkitReachTheProgramAndSealkitEndsAsItDid) {
  Started s;
  std::string why;
  ASSERT_TRUE(start(s, {SEALKIT_BIN, "run", "--", STATIC_GLIBC, "arg"}, why)) << why;
  ASSERT_NE(s.program, s.pid);
  ASSERT_EQ(kill(s.pid, SIGTERM), 0);
  // sealkit passes the signal on from its handler: the program's end is
  // awaited before its stdin closes, which would let it finish on its own.
  // (read(2), not a stream: the process may vanish in the middle of a read.)
  const std::string stat = "/proc/" + std::to_string(s.program) + "/stat";
  for (int i = 0; i < 1000; ++i) {
    char text[512];
    const int fd = open(stat.c_str(), O_RDONLY | O_CLOEXEC);
    const ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof text - 1);
    if (fd >= 0) close(fd);
    if (n <= 0) break;  // gone
    text[n] = '\0';
    const char* paren = std::strrchr(text, ')');
    if (paren != nullptr && paren[1] == ' ' && paren[2] == 'Z') break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const Finished f = finish(s);
  EXPECT_EQ(f.status, 128 + SIGTERM) << f.err;
  EXPECT_EQ(f.out, "ready\n") << "the program ended by the signal, before its last line";
  EXPECT_EQ(kill(s.program, 0), -1) << "the program is gone";
}

// A program that ends within its start-up (its first system call is exit_group) ends as it would alone: its status,
// no warning (there was nothing to seal yet), and the log line says why nothing was sealed.
TEST(SealkitRunStatic, AProgramThatEndsWithinItsStartUpEndsAsAloneWithoutAWarning) {
  const std::string log = temp_log();
  const sealkit::test::Captured o = sealkit::test::run_captured({SEALKIT_BIN, "run", "--log", log, "--", STATIC_EXIT_ONLY});
  EXPECT_EQ(o.status, 5) << o.err;
  EXPECT_EQ(o.err, "");
  std::ifstream in(log);
  std::string line;
  std::getline(in, line);
  unlink(log.c_str());
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  ASSERT_TRUE(j.is_object()) << line;
  EXPECT_EQ(j.value("objects_sealed", -1), 0) << line;
  EXPECT_EQ(j.value("not_sealed_because", ""), "the program ended during its start-up") << line;
}

// The administrator's exclude-program applies to a static program as to any other: sealkit leaves it unsealed, on
// purpose, without a warning, and the log says so. Last in this file: it moves the test process into a private
// mount namespace (root), where /etc is an overlay holding the file.
TEST(SealkitRunStatic, AProgramTheAdministratorExcludesIsLeftUnsealed) {
  std::string scratch, why;
  // Without root, a skip with the reason (which scripts/test refuses: tests/must-not-skip.txt).
  if (!sealkit::test::enter_private_mounts({"/etc"}, scratch, why)) GTEST_SKIP() << why;
  std::filesystem::create_directories("/etc/sealkit");
  chmod("/etc/sealkit", 0755);
  const std::string name = std::filesystem::path(STATIC_GLIBC).filename().string();
  std::ofstream("/etc/sealkit/runtime.conf") << "exclude-program = " << name << "\n";
  chmod("/etc/sealkit/runtime.conf", 0644);

  const std::string log = temp_log();
  Started s;
  ASSERT_TRUE(start(s, {SEALKIT_BIN, "run", "--log", log, "--", STATIC_GLIBC, "arg"}, why)) << why;
  const std::string exe = std::filesystem::canonical(STATIC_GLIBC).string();
  std::size_t exe_vmas = 0;
  for (const Vma& v : sealkit::test::smaps_of(s.program)) {
    if (v.path != exe) continue;
    ++exe_vmas;
    EXPECT_FALSE(v.sealed) << v.range();
  }
  EXPECT_GE(exe_vmas, 2u);
  const Finished f = finish(s);
  std::filesystem::remove("/etc/sealkit/runtime.conf");
  EXPECT_EQ(f.status, 7);
  EXPECT_EQ(f.out, "ready\ndone arg\n");
  EXPECT_EQ(f.err, "") << "excluded on purpose: no warning";
  std::ifstream in(log);
  std::string line;
  std::getline(in, line);
  unlink(log.c_str());
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  ASSERT_TRUE(j.is_object()) << line;
  EXPECT_TRUE(j.value("program_excluded", false)) << line;
  EXPECT_EQ(j.value("objects_sealed", -1), 0) << line;
}

}  // namespace
