/* A program that sandboxes itself, as QEMU's -sandbox spawn=deny (libvirt's
 * default) does: a filter that allows every call but process creation, which
 * kills (clone without CLONE_THREAD, fork, vfork, wait4 as well here); then
 * it loads an object (argv[1]) with dlopen, as QEMU loads its modules. Prints
 * "loaded" and exits 0. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: sandbox_then_dlopen OBJECT\n");
    return 2;
  }
  struct sock_filter prog[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 2),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])), /* its flags */
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, 3, 2),                  /* a thread: allowed */
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_wait4, 1, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_fork, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog fprog = {.len = sizeof prog / sizeof prog[0], .filter = prog};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) != 0) {
    perror("sandbox_then_dlopen: seccomp");
    return 2;
  }
  if (dlopen(argv[1], RTLD_NOW) == NULL) {
    fprintf(stderr, "sandbox_then_dlopen: %s\n", dlerror());
    return 2;
  }
  puts("loaded");
  return 0;
}
