/* The program tests/runtime/protections_test.cpp inspects while it runs.
 * It needs libsealkit_prot_needed.so (and, built as sealkit_prot_target_wx,
 * libsealkit_prot_wx.so too); `prot_target REPORT [COMMAND...]` runs the
 * commands, writes "NAME VALUE" lines to the file REPORT, prints "ready" and
 * waits for the end of its stdin. `prot_target --read-implies-exec REPORT ...`
 * first execs itself with READ_IMPLIES_EXEC in its personality (what
 * `setarch -X` does). Commands:
 *   dlopen PATH   dlopen PATH (a copy of prot_lib.c, whose constructor may
 *                 change its protections, or prot_wx.c): its addresses
 *   gconv PATH    iconv_open of LATIN1 in a second namespace (a dlmopen of
 *                 libc.so.6, whose own iconv_open no wrapper stands in front
 *                 of): glibc loads its gconv module there itself; the program
 *                 then makes that module's text writable and executable and
 *                 its RELRO writable, as code running before such a load is
 *                 sealed could; then dlopen PATH, the runtime's next chance
 *                 to seal the module
 *   read-implies-exec   READ_IMPLIES_EXEC in the personality from now on: the
 *                 kernel maps what is dlopen'd later readable and executable */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <iconv.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <unistd.h>

const char* sealkit_prot_report(void);
void sealkit_prot_addrs(void** text, void** relro, void** data);
#ifdef WITH_WX
void* sealkit_wx_addr(void);
#endif

static FILE* out;

static void addrs(const char* who, void (*get)(void**, void**, void**), const char* (*report)(void)) {
  void *text, *relro, *data;
  get(&text, &relro, &data);
  fprintf(out, "%s_text %p\n%s_relro %p\n%s_data %p\n", who, text, who, relro, who, data);
  fprintf(out, "%s_ctor %s\n", who, report()[0] ? report() : "nothing");
}

struct module {
  const char* needle;
  uintptr_t text_begin, text_end, relro_begin, relro_end;
};

static int find_module(struct dl_phdr_info* info, size_t size, void* p) {
  (void)size;
  struct module* m = p;
  if (info->dlpi_name == NULL || strstr(info->dlpi_name, m->needle) == NULL) return 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)* ph = &info->dlpi_phdr[i];
    const uintptr_t b = info->dlpi_addr + ph->p_vaddr, e = b + ph->p_memsz;
    if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
      m->text_begin = b & ~(uintptr_t)4095;
      m->text_end = (e + 4095) & ~(uintptr_t)4095;
    } else if (ph->p_type == PT_GNU_RELRO) {
      m->relro_begin = b & ~(uintptr_t)4095;
      m->relro_end = e & ~(uintptr_t)4095;
    }
  }
  return 1;
}

/* The same, for an object of another namespace (dl_iterate_phdr lists only
 * the caller's): found in the list `any` is on, its program headers read
 * behind its ELF header (a shared object's first segment maps it). */
static void find_module_near(struct link_map* any, struct module* m) {
  while (any && any->l_prev) any = any->l_prev;
  for (struct link_map* l = any; l; l = l->l_next) {
    if (l->l_name == NULL || strstr(l->l_name, m->needle) == NULL) continue;
    const ElfW(Ehdr)* eh = (const ElfW(Ehdr)*)l->l_addr;
    struct dl_phdr_info info = {.dlpi_addr = l->l_addr, .dlpi_name = l->l_name,
                                .dlpi_phdr = (const ElfW(Phdr)*)(l->l_addr + eh->e_phoff), .dlpi_phnum = eh->e_phnum};
    find_module(&info, sizeof info, m);
    return;
  }
}

static const char* result(int rc) { return rc == 0 ? "ok" : errno == EPERM ? "EPERM" : "error"; }

int main(int argc, char** argv) {
  if (argc > 2 && strcmp(argv[1], "--read-implies-exec") == 0) {
    if (personality(READ_IMPLIES_EXEC) == -1) return 3;
    argv[1] = argv[0];
    execv("/proc/self/exe", argv + 1);
    return 4;
  }
  if (argc < 2 || (out = fopen(argv[1], "w")) == NULL) return 2;
  addrs("needed", sealkit_prot_addrs, sealkit_prot_report);
#ifdef WITH_WX
  fprintf(out, "wx_data %p\n", sealkit_wx_addr());
#endif
  for (int i = 2; i < argc; ++i) {
    if (strcmp(argv[i], "dlopen") == 0 && i + 1 < argc) {
      void* h = dlopen(argv[++i], RTLD_NOW);
      if (h == NULL) {
        fprintf(out, "dlopen failed\n");
        continue;
      }
      void (*get)(void**, void**, void**) = (void (*)(void**, void**, void**))dlsym(h, "sealkit_prot_addrs");
      const char* (*report)(void) = (const char* (*)(void))dlsym(h, "sealkit_prot_report");
      void* (*wx)(void) = (void* (*)(void))dlsym(h, "sealkit_wx_addr");
      if (get && report) addrs("dl", get, report);
      if (wx) fprintf(out, "dl_wx_data %p\n", wx());
    } else if (strcmp(argv[i], "read-implies-exec") == 0) {
      fprintf(out, "personality %s\n", personality(READ_IMPLIES_EXEC) == -1 ? "failed" : "ok");
    } else if (strcmp(argv[i], "gconv") == 0 && i + 1 < argc) {
      void* libc = dlmopen(LM_ID_NEWLM, "libc.so.6", RTLD_NOW);
      iconv_t (*open_libcs)(const char*, const char*) =
          libc ? (iconv_t (*)(const char*, const char*))dlsym(libc, "iconv_open") : NULL;
      iconv_t cd = open_libcs ? open_libcs("UTF-8", "LATIN1") : (iconv_t)-1;
      struct module m = {"/ISO8859-1.so", 0, 0, 0, 0};
      struct link_map* in_namespace = NULL;
      if (libc) dlinfo(libc, RTLD_DI_LINKMAP, &in_namespace);
      find_module_near(in_namespace, &m);
      fprintf(out, "gconv_open %s\n", cd == (iconv_t)-1 || m.text_end == 0 ? "failed" : "ok");
      fprintf(out, "gconv_text %p\ngconv_relro %p\n", (void*)m.text_begin, (void*)m.relro_begin);
      fprintf(out, "gconv_text_rwx %s\n",
              result(mprotect((void*)m.text_begin, m.text_end - m.text_begin, PROT_READ | PROT_WRITE | PROT_EXEC)));
      if (m.relro_end > m.relro_begin)
        fprintf(out, "gconv_relro_rw %s\n",
                result(mprotect((void*)m.relro_begin, m.relro_end - m.relro_begin, PROT_READ | PROT_WRITE)));
      fprintf(out, "gconv_dlopen %s\n", dlopen(argv[++i], RTLD_NOW) ? "ok" : "failed");
    }
  }
  fclose(out);
  printf("ready\n");
  fflush(stdout);
  char buf[64];
  while (read(0, buf, sizeof buf) > 0) {
  }
  return 0;
}
