/* Runs a command as on a kernel without mseal(2) and without CAP_SYS_ADMIN,
 * for the tests of `sealkit run`'s backend choice on this 6.18 machine: a
 * seccomp filter answers system call 462 with ENOSYS, as Debian 12's 6.1 does,
 * and CAP_SYS_ADMIN leaves the bounding set, so that the command (root or not)
 * has no CAP_SYS_ADMIN after execve. no_new_privs is set only when the filter
 * needs it (no CAP_SYS_ADMIN here already), so that a test can see the runtime
 * set it. Usage: seccomp_no_mseal PROGRAM ARGS... */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: seccomp_no_mseal PROGRAM ARGS...\n");
    return 2;
  }
  struct sock_filter insns[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 462, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {sizeof insns / sizeof insns[0], insns};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
      perror("seccomp_no_mseal: seccomp");
      return 2;
    }
  }
  if (prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0) != 0 && errno != EPERM) {
    perror("seccomp_no_mseal: PR_CAPBSET_DROP");
    return 2;
  }
  execvp(argv[1], argv + 1);
  perror("seccomp_no_mseal: exec");
  return 127;
}
