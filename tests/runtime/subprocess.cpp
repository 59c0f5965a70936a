#include "runtime/subprocess.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

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

}  // namespace sealkit::test
