// `sealkit probe` (and status, enable: the same kernel facts) run under a
// seccomp filter that kills mseal(2) and seccomp(2), as a hardened service's
// allow-list written before mseal does when it has no error number: the probe
// reports what it found and exits 1, it is not killed.
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

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
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::close(out[0]);
    ::close(out[1]);
    if (!kill_at_mseal_and_seccomp()) ::_exit(125);
    ::execl(SEALKIT_BIN, SEALKIT_BIN, "probe", "--json", static_cast<char*>(nullptr));
    ::_exit(126);
  }
  ::close(out[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(out[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
  ::close(out[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_FALSE(WIFSIGNALED(status)) << "sealkit probe was killed by signal " << WTERMSIG(status);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_NE(WEXITSTATUS(status), 125) << "the filter could not be installed";
  EXPECT_EQ(WEXITSTATUS(status), 1) << text;
  const nlohmann::json j = nlohmann::json::parse(text);
  EXPECT_EQ(j.at("can_seal"), false);
  const auto& mseal = j.at("facts").at("mseal");
  EXPECT_EQ(mseal.at("value"), false);
  EXPECT_NE(mseal.at("detail").get<std::string>().find("killed by SIGSYS"), std::string::npos) << mseal;
  EXPECT_EQ(j.at("facts").at("backend").at("value"), "none") << j.at("facts").at("backend");
}

}  // namespace
