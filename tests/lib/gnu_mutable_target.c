/* A program whose `mutable_area` is declared mutable by a PT_GNU_MUTABLE
 * segment only (added after linking by tests/runtime/make_mutable.cpp): the
 * section is 64-byte aligned, so the page-alignment rule for mutable sections
 * (core/mutable_sections.hpp) does not keep it. With --seal it seals itself
 * with sealkit_seal_loaded_objects() first; under `sealkit run` the runtime
 * has sealed it before main. Prints, one `key value` per line:
 *   seal               ok|<error>   (with --seal only)
 *   mutable_mprotect   ok|EPERM     (a whole page inside mutable_area)
 *   ordinary_mprotect  ok|EPERM     (a whole page inside ordinary data) */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "sealkit/sealkit.h"

__attribute__((section("sealkit_mutable"), aligned(64))) char mutable_area[2 * 4096] = {1};
char ordinary_data[3 * 4096] = {1};

static const char* outcome(int rc) { return rc == 0 ? "ok" : errno == EPERM ? "EPERM" : strerror(errno); }

static void* inner_page(void* p) { return (void*)(((uintptr_t)p + 4095) & ~(uintptr_t)4095); }

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "--seal") == 0) {
    int n = sealkit_seal_loaded_objects(SEALKIT_SEAL_OBJECTS_DEFAULT);
    printf("seal %s\n", n > 0 ? "ok" : strerror(errno));
  }
  printf("mutable_mprotect %s\n", outcome(mprotect(inner_page(mutable_area), 4096, PROT_READ | PROT_WRITE)));
  printf("ordinary_mprotect %s\n", outcome(mprotect(inner_page(ordinary_data), 4096, PROT_READ | PROT_WRITE)));
  return 0;
}
