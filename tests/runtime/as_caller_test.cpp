// Runs as_caller_check (the preload object's call through the caller's
// return bytes, as_caller.hpp) in both ELF classes. The i386 build runs
// natively where the kernel runs 32-bit programs, else under qemu-user's
// i386 emulator, which executes the same instructions.
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include <gtest/gtest.h>

#include "runtime/subprocess.hpp"

namespace {

// Whether the kernel executes `path` (not execvp: that hands a file the
// kernel refuses to /bin/sh).
bool kernel_runs(const char* path) {
  const pid_t pid = fork();
  if (pid == 0) {
    const char* argv[] = {path, "--exec-probe", nullptr};
    execv(path, const_cast<char**>(argv));
    _exit(errno == ENOEXEC ? 126 : 127);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  return !(WIFEXITED(st) && WEXITSTATUS(st) == 126);
}

TEST(AsCaller, ReturnsThroughTheCallersBytesOnX86_64) {
  const auto o = sealkit::test::run_captured({AS_CALLER_CHECK});
  EXPECT_EQ(o.status, 0) << o.out << o.err;
  EXPECT_EQ(o.out, "");
}

TEST(AsCaller, ReturnsThroughTheCallersBytesOnI386) {
#ifndef AS_CALLER_CHECK_I386
  GTEST_SKIP() << "no i386 build of the preload object (configure says why: g++-multilib?)";
#else
  std::vector<std::string> argv{AS_CALLER_CHECK_I386};
  if (!kernel_runs(AS_CALLER_CHECK_I386)) {
    if (access("/usr/bin/qemu-i386", X_OK) != 0)
      GTEST_SKIP() << "this kernel does not run 32-bit programs and qemu-i386 (Debian's qemu-user) is missing";
    argv.insert(argv.begin(), "/usr/bin/qemu-i386");
  }
  const auto o = sealkit::test::run_captured(argv);
  EXPECT_EQ(o.status, 0) << o.out << o.err;
  EXPECT_EQ(o.out, "");
#endif
}

}  // namespace
