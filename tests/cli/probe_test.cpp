// `sealkit probe` on this machine: the /proc/PID/mem facts against what the
// kernel does when this test itself writes through /proc/self/mem, and what
// /proc/cmdline says. And under a seccomp filter that kills mseal(2) and
// seccomp(2), as a hardened service's allow-list written before mseal does
// when it has no error number: the probe reports what it found and exits 1,
// it is not killed (status and enable ask the same kernel facts).
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/subprocess.hpp"

namespace {

using sealkit::test::Captured;
using sealkit::test::run_captured;

// In a child: a read-only private page, then one byte written to it through
// /proc/self/mem. Exit 0: the byte changed; 1: the write was refused.
bool proc_mem_write_succeeds() {
  const pid_t pid = fork();
  if (pid == 0) {
    auto* p = static_cast<char*>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (p == MAP_FAILED) _exit(2);
    p[0] = 'x';
    mprotect(p, 4096, PROT_READ);
    const int fd = open("/proc/self/mem", O_RDWR);
    const char y = 'y';
    _exit(fd >= 0 && pwrite(fd, &y, 1, reinterpret_cast<off_t>(p)) == 1 && p[0] == 'y' ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 2) << status;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// proc_mem.force_override= from the kernel's own words, before init's "--".
std::string force_override_on_cmdline() {
  std::ifstream in("/proc/cmdline");
  std::string w;
  while (in >> w && w != "--") {
    if (w.rfind("proc_mem.force_override=", 0) == 0) return w.substr(w.find('=') + 1);
  }
  return "default";
}

TEST(SealkitProbe, SaysWhetherWritesThroughProcPidMemAreRefused) {
  Captured o = run_captured({SEALKIT_BIN, "probe", "--json"});
  ASSERT_TRUE(o.status == 0 || o.status == 1) << o.err;
  const auto facts = nlohmann::json::parse(o.out)["facts"];
  const auto& blocked = facts["proc_mem_writes_blocked"];
  ASSERT_TRUE(blocked["value"].is_boolean()) << blocked.dump();
  EXPECT_EQ(blocked["value"].get<bool>(), !proc_mem_write_succeeds()) << blocked.dump();
  if (!blocked["value"].get<bool>()) {
    EXPECT_NE(blocked["detail"].get<std::string>().find("proc_mem.force_override=never"), std::string::npos)
        << "says how to refuse them: " << blocked.dump();
  }
  EXPECT_EQ(facts["proc_mem_force_override"]["value"], force_override_on_cmdline()) << facts.dump();

  Captured table = run_captured({SEALKIT_BIN, "probe"});
  EXPECT_NE(table.out.find("writes through /proc/PID/mem refused"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("proc_mem.force_override"), std::string::npos) << table.out;
}

// In the child: mseal (462) and seccomp (317) kill the process; all else runs.
bool kill_at_mseal_and_seccomp() {
#if defined(__x86_64__)
  sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 317, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 462, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
#else
  return false;
#endif
}

TEST(SealkitProbe, UnderAFilterThatKillsMsealItReportsInsteadOfDying) {
#if !defined(__x86_64__)
  GTEST_SKIP() << "the test's filter is written for x86_64 system call numbers";
#endif
  const sealkit::test::Captured c =
      sealkit::test::run_captured_after(kill_at_mseal_and_seccomp, {SEALKIT_BIN, "probe", "--json"});
  const std::string& text = c.out;
  ASSERT_LT(c.status, 128) << "sealkit probe was killed by signal " << c.status - 128;
  ASSERT_NE(c.status, 125) << "the filter could not be installed";
  EXPECT_EQ(c.status, 1) << text;
  const nlohmann::json j = nlohmann::json::parse(text);
  EXPECT_EQ(j.at("can_seal"), false);
  const auto& mseal = j.at("facts").at("mseal");
  EXPECT_EQ(mseal.at("value"), false);
  EXPECT_NE(mseal.at("detail").get<std::string>().find("killed by SIGSYS"), std::string::npos) << mseal;
  EXPECT_EQ(j.at("facts").at("backend").at("value"), "none") << j.at("facts").at("backend");
}

}  // namespace
