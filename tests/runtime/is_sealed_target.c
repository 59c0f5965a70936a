/* A program that asks libsealkit what is sealed in its own process, run by
 * seccomp_run_test.cpp plain, under `sealkit run --backend kernel` and under
 * `--backend seccomp`: seals the runtime made (its filter, or the supervisor)
 * must be reported by sealkit_is_sealed like the library's own.
 * Prints "<what> <answer>" lines: 1 sealed, 0 not, -1 error. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "sealkit/sealkit.h"

/* A whole page inside .bss that is not page-aligned itself (a page-aligned
 * section stays unsealed, core/mutable_sections.hpp). */
static char bss_storage[2 * 4096];
#define bss_page ((char*)(((uintptr_t)bss_storage + 4095) & ~(uintptr_t)4095))

int main(void) {
  const uintptr_t text = (uintptr_t)&main & ~(uintptr_t)4095;
  const uintptr_t libc_text = (uintptr_t)&strlen & ~(uintptr_t)4095;
  void *fresh = mmap(NULL, 3 * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (fresh == MAP_FAILED) return 2;
  bss_page[0] = 1;
  printf("program_text %d\n", sealkit_is_sealed((const void *)text, 4096));
  printf("libc_text %d\n", sealkit_is_sealed((const void *)libc_text, 4096));
  printf("program_bss %d\n", sealkit_is_sealed(bss_page, 4096));
  printf("fresh_anonymous %d\n", sealkit_is_sealed(fresh, 3 * 4096));
  /* Sealed by the library itself, next to pages it did not seal. */
  printf("library_seal %d\n", sealkit_mseal((char *)fresh + 4096, 4096, 0));
  printf("library_sealed_page %d\n", sealkit_is_sealed((char *)fresh + 4096, 4096));
  printf("half_sealed_range %d\n", sealkit_is_sealed(fresh, 2 * 4096));
  /* Whether that seal is enforced: EPERM, or "ok" when nothing holds it. */
  const int changed = mprotect((char *)fresh + 4096, 4096, PROT_READ | PROT_WRITE);
  printf("library_sealed_page_mprotect %s\n", changed == 0 ? "ok" : errno == EPERM ? "EPERM" : strerror(errno));
  printf("backend %s\n", sealkit_backend());
  return 0;
}
