/* A program that discards its own sealed RELRO: pointers in .data.rel.ro,
 * relocated by ld.so at start-up (a PIE's R_X86_64_RELATIVE: the file holds
 * no address), are sealed read-only by the runtime. MADV_DONTNEED on a page
 * of them drops the relocated copy-on-write page when mseal lets it (a
 * private file mapping), and the page then reads back from the file,
 * unrelocated. The table spans three pages, so that the page discarded holds
 * nothing but table entries (the GOT's page would take the program with it).
 *
 * Prints, one `key value` per line:
 *   relro_sealed     yes|no   (its VMA's VmFlags has "sl")
 *   madvise          ok|EPERM|<error>
 *   process_madvise  ok|EPERM|<error>|ENOSYS  (the same advice through process_madvise)
 *   relro_intact     yes|no   (the pointer still points at its string)
 *   anon_dontneed    ok|...   (MADV_DONTNEED on an anonymous page still works, zeroed)
 *
 * With --exec-stale it instead execs itself with an empty environment (no
 * runtime in the next image, whose filters are the ones inherited) as
 * `--stale ADDR`, ADDR the page discarded above; that image maps anonymous
 * memory at ADDR and at the page above the table and discards both, printing
 *   stale_relro_dontneed  ok|EPERM   (anonymous memory where the old image's RELRO was)
 *   elsewhere_dontneed    ok|EPERM */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <stdlib.h>
#include <unistd.h>

#define ENTRIES (3 * 4096 / sizeof(const char*))
const char* const sealkit_relro_table[ENTRIES] = {[0 ... ENTRIES - 1] = "relocated"};

static const char* outcome(long rc) { return rc == 0 ? "ok" : errno == EPERM ? "EPERM" : strerror(errno); }

/* The first entry on a page of its own within the table. */
static const char* const* entry(void) {
  uintptr_t first = ((uintptr_t)sealkit_relro_table + 4095) & ~(uintptr_t)4095;
  return (const char* const*)first;
}

static const char* read_pointer(void) { return *(const char* const volatile*)entry(); }

/* Whether the VMA holding `addr` is sealed, from /proc/self/smaps. */
static int sealed(uintptr_t addr) {
  FILE* f = fopen("/proc/self/smaps", "r");
  if (f == NULL) return 0;
  char line[512];
  int in = 0, result = 0;
  while (fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, ':') != NULL && line[0] != 'V') {
      in = addr >= lo && addr < hi;
    } else if (in && strncmp(line, "VmFlags:", 8) == 0) {
      result = strstr(line, " sl") != NULL;
      break;
    }
  }
  fclose(f);
  return result;
}

/* Anonymous memory at `addr` in this image, discarded. */
static const char* discard_at(uintptr_t addr) {
  char* p = mmap((void*)addr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (p == MAP_FAILED) return "not_mapped";
  p[0] = 1;
  return outcome(madvise(p, 4096, MADV_DONTNEED));
}

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "--stale") == 0) {
    uintptr_t addr = strtoull(argv[2], NULL, 16);
    printf("stale_relro_dontneed %s\n", discard_at(addr));
    printf("elsewhere_dontneed %s\n", discard_at(addr + 0x40000000));
    return 0;
  }
  if (argc == 2 && strcmp(argv[1], "--exec-stale") == 0) {
    char addr[32];
    snprintf(addr, sizeof addr, "%lx", (unsigned long)entry());
    char* args[] = {argv[0], "--stale", addr, NULL};
    char* env[] = {NULL};
    fflush(stdout);
    execve("/proc/self/exe", args, env);
    return 1;
  }
  const char* before = read_pointer();
  uintptr_t page = (uintptr_t)entry();
  printf("relro_sealed %s\n", sealed(page) ? "yes" : "no");
  printf("madvise %s\n", outcome(madvise((void*)page, 4096, MADV_DONTNEED)));
  int same = read_pointer() == before && strcmp(before, "relocated") == 0;
  long pidfd = syscall(SYS_pidfd_open, getpid(), 0);
  struct iovec iov = {(void*)page, 4096};
  long pm = pidfd < 0 ? -1 : syscall(SYS_process_madvise, pidfd, &iov, 1, MADV_DONTNEED, 0);
  printf("process_madvise %s\n", pm == 4096 ? "ok" : outcome(pm));
  same = same && read_pointer() == before;
  printf("relro_intact %s\n", same ? "yes" : "no");
  char* anon = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (anon == MAP_FAILED) return 1;
  anon[0] = 7;
  long rc = madvise(anon, 4096, MADV_DONTNEED);
  printf("anon_dontneed %s\n", rc != 0 ? outcome(rc) : anon[0] == 0 ? "ok" : "not_zeroed");
  return 0;
}
