/* A process that execs itself over and over, each image making N small
 * mappings (argv[1]) before the next exec: its smaps is long (one entry per
 * mapping), and the address space behind it is replaced many times a second.
 * For `sealkit audit` read while the image changes under it. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
  const int n = argc > 1 ? atoi(argv[1]) : 3000;
  for (int i = 0; i < n; ++i) {
    char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 1;
    /* Two VMAs per mapping: neighbours never merge. */
    if (mprotect(p, 4096, PROT_READ) != 0) return 1;
  }
  execv("/proc/self/exe", argv);
  return 1;
}
