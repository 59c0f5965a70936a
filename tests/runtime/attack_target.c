/* A program that attacks its own mappings with the primitives mseal blocks,
 * choosing forms that are harmless when the memory is NOT sealed (same
 * protection, an unused buffer), so that the unsealed run is the control.
 * Prints one line per attack: "<name> ok" or "<name> <errno name>".
 * With --wait it prints "ready" and waits for stdin to close instead. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Never used for anything but the attacks below. Not page-aligned itself (a page-aligned section stays unsealed,
 * core/mutable_sections.hpp): the attacks use the whole pages inside it. */
static char spare_bss_storage[5 * 4096];
#define spare_bss ((char*)(((uintptr_t)spare_bss_storage + 4095) & ~(uintptr_t)4095))
static const char rodata_marker[] = "sealkit attack target";

static uintptr_t page_of(const void *p) { return (uintptr_t)p & ~(uintptr_t)4095; }

static void report(const char *name, int rc) {
  printf("%s %s\n", name, rc == 0 ? "ok" : (errno == EPERM ? "EPERM" : strerror(errno)));
}

static int same_prot(const void *p, int prot) { return mprotect((void *)page_of(p), 4096, prot); }

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--wait") == 0) {
    printf("ready\n");
    fflush(stdout);
    char buf[16];
    while (read(0, buf, sizeof buf) > 0) {
    }
    return 0;
  }
  int local = 0;
  report("mprotect_program_text", same_prot((const void *)&main, PROT_READ | PROT_EXEC));
  report("mprotect_program_rodata", same_prot(rodata_marker, PROT_READ));
  report("mprotect_libc_text", same_prot((const void *)&printf, PROT_READ | PROT_EXEC));
  report("mprotect_stack", same_prot(&local, PROT_READ | PROT_WRITE));
  void *r = mremap((void *)page_of((const void *)&printf), 4096, 4096, 0);
  report("mremap_libc_text", r == MAP_FAILED ? -1 : 0);
  void *m = mmap(spare_bss, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  report("mmap_fixed_program_bss", m == MAP_FAILED ? -1 : 0);
  report("munmap_program_bss", munmap(spare_bss + 2 * 4096, 4096));
  report("madvise_dontneed_program_text", madvise((void *)page_of((const void *)&main), 4096, MADV_DONTNEED));
  return 0;
}
