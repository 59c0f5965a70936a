/* What programs do to their own data after start-up, in one object: each
 * object of own_data_target (the program, a library it needs, a library it
 * dlopens) includes this once and reports with own_data_report().
 * - frozen: a page-aligned variable in .data made read-only once its values
 *   are set, as V8 freezes its flags;
 * - toggled: a page-aligned section named as a C identifier, found through
 *   __start_/__stop_, made read-only, writable for a moment, read-only again,
 *   as Chromium's protected_memory;
 * - ordinary: a page inside data that is not page-aligned (.bss), which
 *   sealing must keep as it is.
 * Each line is "PREFIX_NAME ok" or "PREFIX_NAME EPERM" (or the error). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define OWN_DATA_PAGE 4096

__attribute__((aligned(OWN_DATA_PAGE))) static volatile char frozen[OWN_DATA_PAGE] = {1};
__attribute__((section("own_data_protected"), aligned(OWN_DATA_PAGE), used)) static volatile char
    toggled[2 * OWN_DATA_PAGE] = {1};
extern char __start_own_data_protected[], __stop_own_data_protected[];
static char ordinary[3 * OWN_DATA_PAGE];

static const char* own_data_outcome(int rc) { return rc == 0 ? "ok" : errno == EPERM ? "EPERM" : strerror(errno); }

static int own_data_toggle(void) {
  const size_t len = (size_t)(__stop_own_data_protected - __start_own_data_protected);
  if (mprotect(__start_own_data_protected, len, PROT_READ) != 0) return -1;
  if (mprotect(__start_own_data_protected, 8, PROT_READ | PROT_WRITE) != 0) return -1;
  toggled[1] = 2;
  return mprotect(__start_own_data_protected, len, PROT_READ);
}

static void own_data_report(FILE* out, const char* prefix) {
  frozen[1] = 2;
  fprintf(out, "%s_frozen %s\n", prefix, own_data_outcome(mprotect((void*)frozen, sizeof frozen, PROT_READ)));
  fprintf(out, "%s_toggled %s\n", prefix, own_data_outcome(own_data_toggle()));
  char* inner = (char*)(((uintptr_t)ordinary + OWN_DATA_PAGE - 1) & ~(uintptr_t)(OWN_DATA_PAGE - 1));
  fprintf(out, "%s_ordinary %s\n", prefix, own_data_outcome(mprotect(inner, OWN_DATA_PAGE, PROT_READ)));
}
