// Keeps N idle processes alive for bench/audit/run: forks them, prints
// "ready N" once all exist, and kills them when its standard input closes.
// Each child asks the kernel for SIGKILL when this parent dies
// (PR_SET_PDEATHSIG), so that no child outlives a bench that crashes or is
// interrupted.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 2 || std::atoi(argv[1]) <= 0) {
    std::fprintf(stderr, "usage: idle_swarm N   (N > 0 idle processes until stdin closes)\n");
    return 2;
  }
  const int n = std::atoi(argv[1]);
  const pid_t parent = getpid();
  std::vector<pid_t> kids;
  kids.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    pid_t pid = fork();
    if (pid < 0) {
      std::perror("idle_swarm: fork");
      break;
    }
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(0);  // the parent died before the request took effect
      for (;;) pause();
    }
    kids.push_back(pid);
  }
  std::printf("ready %zu\n", kids.size());
  std::fflush(stdout);
  char buf[64];
  while (read(0, buf, sizeof buf) > 0) {
  }
  for (pid_t k : kids) kill(k, SIGKILL);
  for (pid_t k : kids) waitpid(k, nullptr, 0);
  return kids.size() == static_cast<std::size_t>(n) ? 0 : 1;
}
