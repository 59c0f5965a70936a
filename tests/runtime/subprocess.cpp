#include "runtime/subprocess.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace sealkit::test {

namespace {

std::string slurp(int fd) {
  std::string s;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<std::size_t>(n));
  return s;
}

}  // namespace

Captured run_captured(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  return run_captured_after({}, argv, env);
}

Captured run_captured_after(const std::function<bool()>& in_child, const std::vector<std::string>& argv,
                            const std::vector<std::string>& env) {
  int out[2];
  if (pipe(out) != 0) return {};
  FILE* err = std::tmpfile();
  if (!err) return {};
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(fileno(err), 2);
    // Only as fds 1 and 2: a copy under another number would be inherited by
    // whatever the program leaves running, and the read below would wait for it.
    close(out[0]);
    if (out[1] != 1) close(out[1]);
    if (fileno(err) != 2) close(fileno(err));
    for (const auto& kv : env) putenv(const_cast<char*>(kv.c_str()));
    if (in_child && !in_child()) _exit(125);
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    execvp(a[0], a.data());
    _exit(127);
  }
  close(out[1]);
  Captured c;
  c.out = slurp(out[0]);
  close(out[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  c.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  std::rewind(err);
  c.err = slurp(fileno(err));
  std::fclose(err);
  return c;
}

std::string asan_options_with(const std::string& option) {
  const char* asan = std::getenv("ASAN_OPTIONS");
  return std::string("ASAN_OPTIONS=") + (asan && *asan ? std::string(asan) + ":" : "") + option;
}

bool kernel_executes(const std::string& program, std::string& why) {
  // The exec's errno comes back through a close-on-exec pipe: nothing to read
  // means execve succeeded.
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) {
    why = std::string("pipe2: ") + std::strerror(errno);
    return false;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    why = std::string("fork: ") + std::strerror(errno);
    close(p[0]);
    close(p[1]);
    return false;
  }
  if (pid == 0) {
    close(p[0]);
    const int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
      dup2(null, 0);
      dup2(null, 1);
      dup2(null, 2);
    }
    char* const argv[] = {const_cast<char*>(program.c_str()), nullptr};
    execv(program.c_str(), argv);
    const int e = errno;
    (void)!write(p[1], &e, sizeof e);
    _exit(127);
  }
  close(p[1]);
  int e = 0;
  ssize_t n;
  do n = read(p[0], &e, sizeof e); while (n < 0 && errno == EINTR);
  close(p[0]);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  if (n == static_cast<ssize_t>(sizeof e)) {
    why = "this kernel cannot execute " + program + ": execve: " + std::strerror(e) +
          (e == ENOEXEC ? " (a 32-bit program where IA32 emulation is off or not built in)" : "");
    return false;
  }
  return true;
}

bool int80_works(std::string& why) {
#if defined(__x86_64__)
  const pid_t pid = fork();
  if (pid < 0) {
    why = std::string("fork: ") + std::strerror(errno);
    return false;
  }
  if (pid == 0) {
    long rc;
    __asm__ volatile("int $0x80" : "=a"(rc) : "a"(20L) : "memory");  // getpid, i386 numbering
    _exit(rc == static_cast<long>(getpid()) ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  why = WIFSIGNALED(status)
            ? std::string("int $0x80 kills the process here (") + strsignal(WTERMSIG(status)) +
                  "): this kernel has no i386 system call ABI (IA32 emulation off or not built in)"
            : "int $0x80 getpid returned something else: no i386 system call ABI here";
  return false;
#else
  why = "int $0x80 is an x86_64 question";
  return false;
#endif
}

}  // namespace sealkit::test
