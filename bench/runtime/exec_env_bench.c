/* What the preload object's execve wrapper costs under `sealkit run`
 * (src/runtime/preload/exec_env.hpp): execve through libc's name (the
 * wrapper: the secure-execution notice's look at the file, one pass over the
 * envp, a repaired copy when something is missing) against the system call
 * made directly, which is what glibc's own execve is.
 *
 *   sealkit run -- exec_env_bench [ROUNDS]
 *
 * Each round times every variant once, in alternation, and prints per
 * variant the median over rounds and the median of the per-round ratios to
 * its plain twin:
 *   fail_*   execve of a file that does not exist: the kernel returns at once,
 *            so the wrapper's own work is all the difference (200 calls a round);
 *            _env: the process's environment (carries everything: no copy);
 *            _empty: an empty envp (repaired: a copy with the injected variables)
 *   true_*   fork, execve of /bin/true with the environment, wait (10 a round):
 *            the whole exec as a program sees it. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "paired_rounds.h"

extern char **environ;

static char *const g_argv[] = {"x", NULL};
static char *const g_empty[] = {NULL};

static double fail_loop(int wrapped, char *const *envp) {
  enum { kCalls = 200 };
  const double t0 = now_ns();
  for (int i = 0; i < kCalls; ++i) {
    if (wrapped) execve("/nonexistent/sealkit-bench", g_argv, envp);
    else syscall(SYS_execve, "/nonexistent/sealkit-bench", g_argv, envp);
  }
  return (now_ns() - t0) / kCalls;
}

static double true_loop(int wrapped) {
  enum { kSpawns = 10 };
  char *const argv[] = {"/bin/true", NULL};
  const double t0 = now_ns();
  for (int i = 0; i < kSpawns; ++i) {
    const pid_t pid = fork();
    if (pid == 0) {
      if (wrapped) execve(argv[0], argv, environ);
      else syscall(SYS_execve, argv[0], argv, environ);
      _exit(127);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "exec_env_bench: /bin/true failed\n");
      exit(2);
    }
  }
  return (now_ns() - t0) / kSpawns;
}

enum { kVariants = 6 };
static const char *const kNames[kVariants] = {"fail_env_plain",   "fail_env_wrapped", "fail_empty_plain",
                                              "fail_empty_wrapped", "true_plain",       "true_wrapped"};

static double run_variant(int v) {
  switch (v) {
    case 0: return fail_loop(0, environ);
    case 1: return fail_loop(1, environ);
    case 2: return fail_loop(0, g_empty);
    case 3: return fail_loop(1, g_empty);
    case 4: return true_loop(0);
    default: return true_loop(1);
  }
}

int main(int argc, char **argv) {
  const int rounds = argc > 1 ? atoi(argv[1]) : 201;
  if (rounds < 1) return 2;
  if (getenv("LD_AUDIT") == NULL || strstr(getenv("LD_AUDIT"), "libsealkit-runtime") == NULL)
    fprintf(stderr, "exec_env_bench: not under sealkit run: the wrapper only forwards\n");
  double *t[kVariants], *ratio[kVariants];
  for (int v = 0; v < kVariants; ++v) {
    t[v] = calloc((size_t)rounds, sizeof(double));
    ratio[v] = calloc((size_t)rounds, sizeof(double));
    if (t[v] == NULL || ratio[v] == NULL) return 2;
  }
  for (int w = 0; w < 3; ++w) (void)run_variant(w % kVariants);  // warm-up
  for (int r = 0; r < rounds; ++r) {
    for (int k = 0; k < kVariants; ++k) {
      const int v = (r + k) % kVariants;
      t[v][r] = run_variant(v);
    }
    for (int v = 1; v < kVariants; v += 2) ratio[v][r] = t[v][r] / t[v - 1][r];
  }
  printf("%-20s %12s %14s\n", "variant", "median_ns", "paired_ratio");
  for (int v = 0; v < kVariants; ++v) {
    const double r = v % 2 ? median(ratio[v], rounds) : 1.0;
    printf("%-20s %12.0f %14.3f\n", kNames[v], median(t[v], rounds), r);
  }
  return 0;
}
