/* Calls the preload object wraps, made under a seccomp filter the program
 * installed after start-up that kills one system call the call itself does
 * not make (as a sandboxed program's filter does): the wrapper must make no
 * such call either.
 *
 *   lookup     arch_prctl killed; dlsym(RTLD_DEFAULT, "puts") and
 *              dlsym(RTLD_NEXT, "puts")
 *   exit       openat killed; a thread's pthread_exit (libgcc_s is linked,
 *              so loaded and sealed at start-up)
 *   backtrace  openat killed; backtrace()
 *
 * Prints "COMMAND-works yes|no"; killed by SIGSYS if the wrapper made the
 * forbidden call. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int forbid(long nr) {
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {sizeof f / sizeof f[0], f};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

static void* exit_now(void* arg) { pthread_exit(arg); }

int main(int argc, char** argv) {
  const char* c = argc == 2 ? argv[1] : "";
  int ok = 0;
  if (strcmp(c, "lookup") == 0) {
#ifdef SYS_arch_prctl
    ok = forbid(SYS_arch_prctl) && dlsym(RTLD_DEFAULT, "puts") != NULL && dlsym(RTLD_NEXT, "puts") != NULL;
#else
    ok = 1; /* no arch_prctl on this architecture: nothing to forbid */
#endif
  } else if (strcmp(c, "exit") == 0) {
    pthread_t t;
    void* result = NULL;
    ok = forbid(SYS_openat) && pthread_create(&t, NULL, exit_now, (void*)42) == 0 && pthread_join(t, &result) == 0 &&
         result == (void*)42;
  } else if (strcmp(c, "backtrace") == 0) {
    void* frames[8];
    ok = forbid(SYS_openat) && backtrace(frames, 8) > 0;
  } else {
    fprintf(stderr, "sandboxed_calls_target: bad command %s\n", c);
    return 2;
  }
  printf("%s-works %s\n", c, ok ? "yes" : "no");
  return 0;
}
