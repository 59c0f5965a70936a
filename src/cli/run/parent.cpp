#include "cli/run/parent.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sealkit::cli::run_parent {

namespace {

volatile sig_atomic_t g_child = 0;

constexpr int kForwarded[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGALRM};

void forward(int sig, siginfo_t* info, void*) {
  // A terminal's SIGINT/SIGQUIT/SIGWINCH... (si_code SI_KERNEL) goes to the whole
  // foreground process group, the program included: sending it again would
  // deliver it twice. Signals sent to sealkit alone (kill, SI_USER) are passed on.
  if (info != nullptr && info->si_code == SI_KERNEL) return;
  const pid_t child = g_child;
  if (child > 0) ::kill(child, sig);
}

// SIGCHLD only wakes the supervising loop (poll returns EINTR), which reaps
// the orphans of the tree it adopted (spawn_supervised) as they end. (An
// inherited SIG_IGN, under which the kernel would reap the program before its
// exit status could be read, spawn_supervised has already set aside.)
void wake(int) {}

// Signals ignored by whoever started sealkit stay ignored (`nohup sealkit
// run ...`): the program inherits that across its exec, as it would have
// without sealkit, and there is nothing to forward.
bool ignored(int sig) {
  struct sigaction old{};
  return ::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN;
}

}  // namespace

void install_forwarding() {
  struct sigaction sa{};
  sa.sa_sigaction = forward;
  sa.sa_flags = SA_SIGINFO;  // no SA_RESTART: poll returns, and the loop goes on
  sigemptyset(&sa.sa_mask);
  for (int sig : kForwarded)
    if (!ignored(sig)) ::sigaction(sig, &sa, nullptr);
}

void install_wake_on_child_exit() {
  struct sigaction sa{};
  sa.sa_handler = wake;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGCHLD, &sa, nullptr);
}

void set_child(pid_t pid) { g_child = pid; }

void restore_defaults() {
  struct sigaction sa{};
  sa.sa_handler = SIG_DFL;
  sigemptyset(&sa.sa_mask);
  for (int sig : kForwarded) {
    struct sigaction old{};
    if (::sigaction(sig, nullptr, &old) == 0 && old.sa_sigaction == forward) ::sigaction(sig, &sa, nullptr);
  }
  struct sigaction old{};
  if (::sigaction(SIGCHLD, nullptr, &old) == 0 && old.sa_handler == wake) ::sigaction(SIGCHLD, &sa, nullptr);
}

void end_like(int status) {
  if (WIFEXITED(status)) ::_exit(WEXITSTATUS(status));
  const int sig = WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL;
  // Die of the same signal, so that our parent sees what the program did.
  // No core file of sealkit's own: the program already dumped its own.
  struct sigaction sa{};
  sa.sa_handler = SIG_DFL;
  sigemptyset(&sa.sa_mask);
  ::sigaction(sig, &sa, nullptr);
  const rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
  ::raise(sig);
  ::_exit(128 + sig);  // a signal that does not end a process (SIGCHLD, SIGCONT...)
}

}  // namespace sealkit::cli::run_parent
