/* A program whose two pages of `mutable_area` are declared mutable with a
 * PT_GNU_MUTABLE segment (added after linking by make_mutable.cpp: Debian's
 * binutils 2.40 cannot emit one). Prints what mprotect does to the mutable
 * area and to ordinary data; with --wait, only "ready", and waits. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

__attribute__((section("sealkit_mutable"), aligned(4096))) char mutable_area[2 * 4096] = {1};
/* Not page-aligned (a page-aligned section is kept mutable by its alignment,
 * core/mutable_sections.hpp): the whole page inside it is ordinary data. */
char ordinary_data[3 * 4096] = {1};

static const char* outcome(int rc) { return rc == 0 ? "ok" : errno == EPERM ? "EPERM" : strerror(errno); }

int main(int argc, char** argv) {
  if (argc == 1) {
    printf("mutable_mprotect %s\n", outcome(mprotect(mutable_area, sizeof mutable_area, PROT_READ | PROT_WRITE)));
    char* inner = (char*)(((uintptr_t)ordinary_data + 4095) & ~(uintptr_t)4095);
    printf("ordinary_mprotect %s\n", outcome(mprotect(inner, 4096, PROT_READ | PROT_WRITE)));
  } else if (strcmp(argv[1], "--wait") == 0) {
    printf("ready\n");
    fflush(stdout);
    char buf[16];
    while (read(0, buf, sizeof buf) > 0) {
    }
  }
  return 0;
}
