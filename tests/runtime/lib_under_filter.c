/* A program that seals its own memory with libsealkit, for the foreign-filter
 * tests: it must never be killed by what the library calls under someone
 * else's seccomp allow-list. Prints one "what result" line each:
 *   backend <kernel|seccomp|none>
 *   mseal <0|errno name>          a fresh read-write page, SEALKIT_MODE_UPSTREAM
 *   mprotect <EPERM|ok|->         on that page (- when it was not sealed)
 *   v8 <0|errno name>             sealkit_mmap(SEALKIT_PROT_SEAL) in SEALKIT_MODE_V8
 *   v8_rule <errno name>          sealkit_mseal of a page not mapped sealable, in that mode
 * and exits 0. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "sealkit/sealkit.h"

static const char *result(int err) { return err == 0 ? "0" : strerrorname_np(err); }

int main(void) {
  void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return 1;
  memset(page, 0x5a, 4096);
  const int sealed = sealkit_mseal(page, 4096, 0) == 0 ? 0 : errno;
  printf("backend %s\n", sealkit_backend());
  printf("mseal %s\n", result(sealed));
  if (sealed == 0)
    printf("mprotect %s\n", mprotect(page, 4096, PROT_READ) == 0 ? "ok" : result(errno));
  else
    printf("mprotect -\n");
  if (sealkit_set_mode(SEALKIT_MODE_V8) != 0) return 1;
  void *v8 = sealkit_mmap(NULL, 4096, PROT_READ | SEALKIT_PROT_SEAL, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  printf("v8 %s\n", result(v8 == MAP_FAILED ? errno : 0));
  void *plain = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (plain == MAP_FAILED) return 1;
  printf("v8_rule %s\n", result(sealkit_mseal(plain, 4096, 0) == 0 ? 0 : errno));
  return 0;
}
