/* A 32-bit (i386) process for `sealkit audit`'s filter tests
 * (audit_filters_test.cpp): it maps six pages, read-only, makes the fourth
 * PROT_NONE so that the kernel keeps the first three and the last two apart,
 * and installs a seccomp filter of its own that refuses, with EPERM, the i386
 * mprotect, munmap, mremap, mmap2 and madvise on the first three pages:
 * sealed as sealkit's filter would seal them. (The i386 runtime cannot seal
 * on the seccomp backend: its filter generator is 64-bit only.)
 * It checks that the filter really refuses (and the control is free), prints
 * "sealed BEGIN END", "control BEGIN END", "ready", and waits for SIGKILL. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
#if !defined(__i386__)
  fprintf(stderr, "build this with -m32\n");
  return 2;
#else
  const uint32_t page = 4096;
  char *region = mmap(NULL, 6 * page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region == MAP_FAILED || mprotect(region + 3 * page, page, PROT_NONE) != 0) return 3;
  const uint32_t lo = (uint32_t)(uintptr_t)region, hi = lo + 3 * page;
  struct sock_filter insns[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 11),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mprotect, 4, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_munmap, 3, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mremap, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mmap2, 1, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_madvise, 0, 5),
      /* a one-page request at args[0] touches [lo, hi) when lo <= args[0] < hi */
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
      BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, hi, 3, 0),
      BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, lo, 0, 2),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {sizeof insns / sizeof insns[0], insns};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
    perror("seccomp");
    return 4;
  }
  if (mprotect(region, page, PROT_READ) != -1 || errno != EPERM) {
    fprintf(stderr, "the filter does not refuse mprotect on the sealed pages\n");
    return 5;
  }
  if (mprotect(region + 4 * page, page, PROT_READ) != 0) {
    perror("mprotect of the control");
    return 6;
  }
  printf("sealed %x %x\ncontrol %x %x\nready\n", lo, hi, lo + 4 * page, lo + 6 * page);
  fflush(stdout);
  for (;;) pause();
#endif
}
