/* A library that changes its own protections in its constructor, before
 * sealkit seals it, as a hot patcher or a hooking library would; built twice
 * (tests/CMakeLists.txt): a copy the test program needs (DT_NEEDED) and a copy
 * it dlopens. PROT_ENV (a compile definition) names the environment variable
 * that says what the constructor does, comma-separated:
 *   text-rwx  its executable segment made readable, writable and executable
 *   relro-rw  its RELRO made writable again
 *   data-ro   its data page made read-only (less than the file asks: kept)
 * sealkit_prot_report() says how each went ("text-rwx=ok relro-rw=EPERM"),
 * sealkit_prot_addrs() where the three are. */
#define _GNU_SOURCE
#include <errno.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#ifndef PROT_ENV
#error "PROT_ENV: the environment variable to read"
#endif

/* Relocated pointers: .data.rel.ro, inside PT_GNU_RELRO (-z relro). */
static const char* const table[] = {"relro", "table"};
/* A page of its own in .data, so that making it read-only touches nothing
 * else: a whole page inside an array that is not page-aligned itself (a
 * page-aligned section stays unsealed, core/mutable_sections.hpp). */
static int data_storage[2 * 1024] = {1};
#define data_page ((int*)(((uintptr_t)data_storage + 4095) & ~(uintptr_t)4095))
static char report[256];

static void marker(void) {}

int sealkit_prot_value(void) { return data_page[0] + (int)strlen(table[1]); }
const char* sealkit_prot_report(void) { return report; }
void sealkit_prot_addrs(void** text, void** relro, void** data) {
  *text = (void*)&marker;
  *relro = (void*)table;
  *data = data_page;
}

struct self {
  uintptr_t text_begin, text_end, relro_begin, relro_end;
  int found;
};

/* This object: the one whose executable segment holds marker(). */
static int find_self(struct dl_phdr_info* info, size_t size, void* p) {
  (void)size;
  struct self* s = p;
  const uintptr_t at = (uintptr_t)&marker;
  for (int pass = 0; pass < 2; ++pass) {
    for (int i = 0; i < info->dlpi_phnum; ++i) {
      const ElfW(Phdr)* ph = &info->dlpi_phdr[i];
      const uintptr_t b = info->dlpi_addr + ph->p_vaddr, e = b + ph->p_memsz;
      if (pass == 0 && ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && at >= b && at < e) {
        s->text_begin = b & ~(uintptr_t)4095;
        s->text_end = (e + 4095) & ~(uintptr_t)4095;
        s->found = 1;
      } else if (pass == 1 && s->found && ph->p_type == PT_GNU_RELRO) {
        s->relro_begin = b & ~(uintptr_t)4095;  /* as ld.so rounds it */
        s->relro_end = e & ~(uintptr_t)4095;
      }
    }
    if (!s->found) return 0;
  }
  return 1;
}

static void note(const char* what, int rc) {
  char one[64];
  snprintf(one, sizeof one, "%s%s=%s", report[0] ? " " : "", what, rc == 0 ? "ok" : errno == EPERM ? "EPERM" : "error");
  strncat(report, one, sizeof report - strlen(report) - 1);
}

__attribute__((constructor)) static void change_own_protections(void) {
  const char* what = getenv(PROT_ENV);
  if (what == NULL) return;
  struct self s = {0};
  dl_iterate_phdr(find_self, &s);
  if (!s.found) {
    note("self", -1);
    return;
  }
  if (strstr(what, "text-rwx"))
    note("text-rwx", mprotect((void*)s.text_begin, s.text_end - s.text_begin, PROT_READ | PROT_WRITE | PROT_EXEC));
  if (strstr(what, "relro-rw") && s.relro_end > s.relro_begin)
    note("relro-rw", mprotect((void*)s.relro_begin, s.relro_end - s.relro_begin, PROT_READ | PROT_WRITE));
  if (strstr(what, "data-ro")) note("data-ro", mprotect(data_page, 4096, PROT_READ));
}
