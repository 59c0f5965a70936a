/* A program run under `sealkit run --backend seccomp` by seccomp_run_test.cpp:
 * attacks on its own sealed memory, the mseal polyfill (raw syscall 462), the
 * io_uring refusal, a SIGSYS handler of its own, and the later-object budget.
 * Prints "<name> <result>" lines; each result is what the kernel said, so
 * the unsealed run is the control. Usage: seccomp_target MODE [ARGS...]. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *errname(int e) {
  switch (e) {
    case 0: return "ok";
    case EPERM: return "EPERM";
    case EINVAL: return "EINVAL";
    case ENOMEM: return "ENOMEM";
    case ENOSYS: return "ENOSYS";
    case EBUSY: return "EBUSY";
    default: return strerror(e);
  }
}
static void report(const char *name, long rc) { printf("%s %s\n", name, errname(rc < 0 ? errno : 0)); }
static uintptr_t page_of(const void *p) { return (uintptr_t)p & ~(uintptr_t)4095; }
static long raw_mseal(void *addr, size_t len, unsigned long flags) { return syscall(462, addr, len, flags); }

/* In .data.rel.ro of a PIE: RELRO, read-only after relocation. */
static const char *const relro_table[] = {"a", "b", "c"};
/* Not page-aligned itself (a page-aligned section stays unsealed,
 * core/mutable_sections.hpp): the attacks use the whole pages inside it. */
static char spare_bss_storage[5 * 4096];
#define spare_bss ((char*)(((uintptr_t)spare_bss_storage + 4095) & ~(uintptr_t)4095))

static int attacks(void) {
  int local = 0;
  report("mprotect_program_text", mprotect((void *)page_of((const void *)&attacks), 4096, PROT_READ | PROT_EXEC));
  report("mprotect_relro", mprotect((void *)page_of(&relro_table[0]), 4096, PROT_READ));
  report("mprotect_libc_text", mprotect((void *)page_of((const void *)&printf), 4096, PROT_READ | PROT_EXEC));
  report("mprotect_stack", mprotect((void *)page_of(&local), 4096, PROT_READ | PROT_WRITE));
  void *r = mremap((void *)page_of((const void *)&printf), 4096, 4096, 0);
  report("mremap_libc_text", r == MAP_FAILED ? -1 : 0);
  void *m = mmap(spare_bss, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  report("mmap_fixed_program_bss", m == MAP_FAILED ? -1 : 0);
  report("munmap_program_bss", munmap(spare_bss + 2 * 4096, 4096));
  /* Fresh memory is never sealed: the filter must leave it alone. */
  void *fresh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  report("mprotect_fresh", mprotect(fresh, 4096, PROT_READ));
  report("munmap_fresh", munmap(fresh, 4096));
  return 0;
}

static int filters_now(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  int n = -1;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "Seccomp_filters: %d", &n) == 1) break;
  if (f) fclose(f);
  return n;
}

/* An anonymous read-only page sealed through the polyfill: discard advice
 * must fail, and the data must survive. */
static int polyfill(void) {
  char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset(p, 'x', 3 * 4096);
  mprotect(p, 3 * 4096, PROT_READ);
  report("mseal_flags", raw_mseal(p, 4096, 1));
  report("mseal_unaligned", raw_mseal(p + 1, 4096, 0));
  report("mseal_wrapping_length", raw_mseal(p, (size_t)-1, 0));
  report("mseal_len0", raw_mseal(p, 0, 0));
  int filters_before = filters_now();
  report("mseal", raw_mseal(p, 4096, 0));
  /* Not compared with the unsealed run: the polyfill adds a filter, mseal(2) does not. */
  printf("filter_added %s\n", filters_now() > filters_before ? "yes" : "no");
  report("mprotect_sealed", mprotect(p, 4096, PROT_READ | PROT_WRITE));
  report("munmap_sealed", munmap(p, 4096));
  report("madvise_dontneed_sealed", madvise(p, 4096, MADV_DONTNEED));
  printf("data_kept %s\n", p[0] == 'x' ? "yes" : "no");
  report("mprotect_neighbour", mprotect(p + 4096, 4096, PROT_READ));
  /* A hole in the range: ENOMEM, and nothing of it sealed. */
  munmap(p + 2 * 4096, 4096);
  report("mseal_hole", raw_mseal(p + 4096, 2 * 4096, 0));
  report("mprotect_after_hole", mprotect(p + 4096, 4096, PROT_READ));
  return 0;
}

/* io_uring_setup through int $0x80, the i386 ABI a 64-bit process can still
 * use (the same number there); its params must lie below 4 GiB. */
static long io_uring_setup_int80(void) {
#if defined(__x86_64__)
  void *params = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
  if (params == MAP_FAILED) return -1;
  long rc;
  __asm__ volatile("int $0x80" : "=a"(rc) : "a"(425L), "b"(4L), "c"((long)(uintptr_t)params) : "memory");
  munmap(params, 4096);
  if (rc < 0 && rc > -4096) {
    errno = (int)-rc;
    return -1;
  }
  return rc;
#else
  errno = ENOSYS;
  return -1;
#endif
}

/* Only where the kernel has the i386 ABI: without it int $0x80 kills the process. */
static int io_uring_int80(void) {
  long fd = io_uring_setup_int80();
  report("io_uring_setup_int80", fd);
  if (fd >= 0) close((int)fd);
  return 0;
}

static int io_uring(void) {
  unsigned char params[120] = {0}; /* struct io_uring_params */
  long fd = syscall(425 /* io_uring_setup */, 4, params);
  report("io_uring_setup", fd);
  if (fd >= 0) close((int)fd);
  /* What a program does without io_uring: plain system calls. */
  char buf[8];
  FILE *f = fopen("/proc/self/stat", "r");
  size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
  if (f) fclose(f);
  printf("fallback_read %s\n", n > 0 ? "ok" : "failed");
  return 0;
}

static volatile sig_atomic_t own_calls, own_nr, own_errno;
static void own_handler(int sig, siginfo_t *si, void *ctx) {
  (void)sig, (void)ctx;
  own_calls++;
  own_nr = si->si_syscall;
  own_errno = si->si_errno;
}
/* The program replaces the runtime's SIGSYS handler with its own. */
static int own_sigsys(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = own_handler;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSYS, &sa, NULL);
  void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  long rc = raw_mseal(p, 4096, 0);
  printf("own_handler_calls %d nr %d si_errno %d\n", (int)own_calls, (int)own_nr, (int)own_errno);
  printf("mseal_returned %ld\n", rc);
  report("mprotect_after", mprotect(p, 4096, PROT_READ | PROT_WRITE));
  return 0;
}

/* dlopen each library given; count those after which a filter was added. */
static int dlopen_count(int argc, char **argv) {
  int before = filters_now(), sealed = 0, opened = 0;
  for (int i = 0; i < argc; ++i) {
    int f0 = filters_now();
    if (!dlopen(argv[i], RTLD_NOW)) {
      printf("dlopen_failed %s\n", dlerror());
      return 1;
    }
    ++opened;
    if (filters_now() > f0) ++sealed;
  }
  printf("opened %d sealed %d filters_before %d filters_after %d\n", opened, sealed, before, filters_now());
  /* The first object's first page: sealed by its pass's filter; the last
   * one's: left open once the budget was spent. */
  for (int k = 0; k < 2; ++k) {
    void *h = dlopen(argv[k == 0 ? 0 : argc - 1], RTLD_NOW | RTLD_NOLOAD);
    struct link_map *lm = NULL;
    if (!h || dlinfo(h, RTLD_DI_LINKMAP, &lm) != 0) return 1;
    int rc = mprotect((void *)lm->l_addr, 4096, PROT_READ);
    printf("%s_object_sealed %s\n", k == 0 ? "first" : "last", rc != 0 && errno == EPERM ? "yes" : "no");
  }
  return 0;
}

/* A task that shares the address space without being a thread (clone with
 * CLONE_VM and no CLONE_THREAD, as vfork-like helpers are made): told a page,
 * it mprotects it read-write and answers with the errno. Raw system calls
 * only: it shares the main thread's thread-local storage. */
static int vm_commands[2], vm_answers[2];
static char vm_stack[64 * 1024] __attribute__((aligned(16)));
static int vm_task(void *arg) {
  (void)arg;
  syscall(SYS_close, vm_commands[1]);
  syscall(SYS_close, vm_answers[0]);
  uintptr_t page;
  while (syscall(SYS_read, vm_commands[0], &page, sizeof page) == (long)sizeof page && page != 0) {
    long rc = syscall(SYS_mprotect, page, 4096, PROT_READ | PROT_WRITE);
    int e = rc == 0 ? 0 : errno;
    syscall(SYS_write, vm_answers[1], &e, sizeof e);
  }
  return 0;
}
static pid_t vm_start(void) {
  if (pipe(vm_commands) != 0 || pipe(vm_answers) != 0) return -1;
  pid_t pid = clone(vm_task, vm_stack + sizeof vm_stack, CLONE_VM | SIGCHLD, NULL);
  close(vm_commands[0]);
  close(vm_answers[1]);
  return pid;
}
static const char *vm_change(void *page) {
  uintptr_t a = (uintptr_t)page;
  int e = -1;
  if (write(vm_commands[1], &a, sizeof a) != (ssize_t)sizeof a || read(vm_answers[0], &e, sizeof e) != (ssize_t)sizeof e)
    return "no_answer";
  return errname(e);
}
static void vm_stop(pid_t pid) {
  uintptr_t zero = 0;
  (void)!write(vm_commands[1], &zero, sizeof zero);
  waitpid(pid, NULL, 0);
  close(vm_commands[1]);
  close(vm_answers[0]);
}

/* Sealing (the polyfill, a dlopen pass) while such a task exists, and after. */
static int clone_vm(const char *lib) {
  char *p = mmap(NULL, 2 * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  pid_t early = vm_start();
  if (p == MAP_FAILED || early < 0) return 1;
  report("mseal_while_a_task_shares_memory", raw_mseal(p, 4096, 0));
  printf("task_made_before_changes_it %s\n", vm_change(p));
  void *h = dlopen(lib, RTLD_NOW);
  struct link_map *lm = NULL;
  if (!h || dlinfo(h, RTLD_DI_LINKMAP, &lm) != 0) return 1;
  int rc = mprotect((void *)lm->l_addr, 4096, PROT_READ);
  printf("object_loaded_meanwhile_sealed %s\n", rc != 0 && errno == EPERM ? "yes" : "no");
  vm_stop(early);
  report("mseal_after_the_task_is_gone", raw_mseal(p + 4096, 4096, 0));
  pid_t late = vm_start();
  if (late < 0) return 1;
  printf("task_made_after_changes_it %s\n", vm_change(p + 4096));
  vm_stop(late);
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char *mode = argc > 1 ? argv[1] : "attacks";
  if (strcmp(mode, "probe_mseal") == 0) {
    report("mseal", raw_mseal(NULL, 0, 0));
    return 0;
  }
  if (strcmp(mode, "nnp") == 0) {
    printf("no_new_privs %d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    return 0;
  }
  if (strcmp(mode, "attacks") == 0) return attacks();
  if (strcmp(mode, "polyfill") == 0) return polyfill();
  if (strcmp(mode, "io_uring") == 0) return io_uring();
  if (strcmp(mode, "io_uring_int80") == 0) return io_uring_int80();
  if (strcmp(mode, "own_sigsys") == 0) return own_sigsys();
  if (strcmp(mode, "dlopen_count") == 0) return dlopen_count(argc - 2, argv + 2);
  if (strcmp(mode, "clone_vm") == 0 && argc > 2) return clone_vm(argv[2]);
  fprintf(stderr, "unknown mode %s\n", mode);
  return 2;
}
