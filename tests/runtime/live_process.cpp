#include "runtime/live_process.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace sealkit::test {

std::vector<Vma> smaps_of(pid_t pid) {
  std::vector<Vma> v;
  std::ifstream in("/proc/" + std::to_string(pid) + "/smaps");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmFlags:", 0) == 0) {
      if (!v.empty()) v.back().sealed = (line + " ").find(" sl ") != std::string::npos;
      continue;
    }
    std::istringstream ls(line);
    std::string range, perms, off, dev, inode;
    if (!(ls >> range >> perms >> off >> dev >> inode) || range.find('-') == std::string::npos ||
        perms.size() != 4)
      continue;
    Vma x;
    x.begin = std::stoull(range.substr(0, range.find('-')), nullptr, 16);
    x.end = std::stoull(range.substr(range.find('-') + 1), nullptr, 16);
    x.perms = perms;
    // The path starts after the run of spaces that follows the inode.
    std::getline(ls >> std::ws, x.path);
    v.push_back(x);
  }
  return v;
}

std::string Vma::range() const {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%llx-%llx", static_cast<unsigned long long>(begin),
                static_cast<unsigned long long>(end));
  return buf;
}

Live::~Live() {
  if (stdin_w >= 0) close(stdin_w);
  if (pid > 0) {
    int st;
    waitpid(pid, &st, 0);
  }
  if (stdout_r >= 0) close(stdout_r);
}

bool start_live(Live& l, const std::vector<std::string>& argv, const std::vector<std::string>& env, std::string& why) {
  int in[2], out[2];
  if (pipe(in) != 0 || pipe(out) != 0) {
    why = "pipe failed";
    return false;
  }
  l.pid = fork();
  if (l.pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    close(in[1]);
    close(out[0]);
    for (const std::string& kv : env) putenv(const_cast<char*>(kv.c_str()));
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    execvp(a[0], a.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  l.stdin_w = in[1];
  l.stdout_r = out[0];
  char buf[16] = {};
  const ssize_t n = read(l.stdout_r, buf, sizeof buf - 1);
  l.ready = n > 0 && std::string(buf) == "ready\n";
  if (!l.ready) why = "expected \"ready\" from " + argv[0] + ", got \"" + std::string(buf, n > 0 ? n : 0) + "\"";
  return l.ready;
}

}  // namespace sealkit::test
