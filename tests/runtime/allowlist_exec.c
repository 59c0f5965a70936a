/* Runs a program under a seccomp allow-list the way systemd runs a service
 * with SystemCallFilter=: every system call not listed kills the process
 * (SIGSYS), except those newer than any listed, which fail with ENOSYS (what
 * systemd does for calls it does not know, since v247). The list is a file of
 * "NUMBER NAME" lines (x86_64 numbers; '#' lines are comments), compiled in
 * (SYSTEM_SERVICE_LIST_INC, made by tests/CMakeLists.txt from
 * systemd_system_service_x86_64.txt) so that the qemu guest, which holds the
 * build tree's programs only, runs it too.
 * Usage: allowlist_exec [--kill-newer] [--also NR]... PROGRAM [ARGS...].
 * --also allows one more system call by number (e.g. 317, seccomp, as
 * container runtimes' profiles do). --kill-newer kills for the newer calls
 * too, as an allow-list made with libseccomp's SCMP_ACT_KILL default (a
 * sandbox's own, or systemd's before v247) does: mseal among them. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_CALLS 1024

static const unsigned kList[] = {
#include SYSTEM_SERVICE_LIST_INC
};
_Static_assert(sizeof kList / sizeof kList[0] <= MAX_CALLS, "list longer than the program has room for");

int main(int argc, char **argv) {
  static unsigned calls[MAX_CALLS + 8];
  unsigned n = sizeof kList / sizeof kList[0];
  for (unsigned i = 0; i < n; ++i) calls[i] = kList[i];
  int first = 1;
  int kill_newer = 0;
  if (first < argc && strcmp(argv[first], "--kill-newer") == 0) {
    kill_newer = 1;
    ++first;
  }
  while (first + 1 < argc && strcmp(argv[first], "--also") == 0) {
    char *end = NULL;
    const unsigned long nr = strtoul(argv[first + 1], &end, 10);
    if (*argv[first + 1] == '\0' || *end != '\0' || nr > 1023 || n == MAX_CALLS + 8) {
      fprintf(stderr, "allowlist_exec: --also takes a system call number, not '%s'\n", argv[first + 1]);
      return 2;
    }
    calls[n++] = (unsigned)nr;
    first += 2;
  }
  if (first >= argc) {
    fprintf(stderr, "usage: allowlist_exec [--kill-newer] [--also NR]... PROGRAM [ARGS...]\n");
    return 2;
  }
  unsigned highest = 0;
  for (unsigned i = 0; i < sizeof kList / sizeof kList[0]; ++i)
    if (kList[i] > highest) highest = kList[i];
  static struct sock_filter prog[2 * (MAX_CALLS + 8) + 8];
  unsigned k = 0;
  prog[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
  prog[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
  prog[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
  prog[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
  for (unsigned i = 0; i < n; ++i) {  /* each listed call: allowed */
    prog[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, calls[i], 0, 1);
    prog[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  }
  if (!kill_newer) {
    prog[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, highest, 0, 1);
    prog[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
  }
  prog[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
  struct sock_fprog fprog = {.len = (unsigned short)k, .filter = prog};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) != 0) {
    perror("allowlist_exec: seccomp");
    return 2;
  }
  execv(argv[first], argv + first);
  perror("allowlist_exec: execv");
  return 127;
}
