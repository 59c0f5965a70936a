/* A process for the audit's process states (tests/fleet/process_states_test.cpp). "plain": nothing; "seal-vdso":
 * seals its own [vdso] with mseal(2) (whole: the kernel does not split it), one VMA the audit's rule asks for, so
 * that some but not all of what should be sealed is. Then says "ready" and runs until its stdin closes. Built twice: dynamically
 * linked and with -static. */
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_mseal
#define SYS_mseal 462
#endif

int main(int argc, char** argv) {
  if (argc != 2 || (strcmp(argv[1], "plain") != 0 && strcmp(argv[1], "seal-vdso") != 0)) {
    fprintf(stderr, "usage: %s plain|seal-vdso\n", argv[0]);
    return 2;
  }
  if (strcmp(argv[1], "seal-vdso") == 0) {
    unsigned long begin = 0, end = 0;
    char line[512];
    FILE* maps = fopen("/proc/self/maps", "r");
    while (maps && fgets(line, sizeof line, maps)) {
      if (strstr(line, "[vdso]") && sscanf(line, "%lx-%lx", &begin, &end) == 2) break;
    }
    if (maps) fclose(maps);
    if (end <= begin || syscall(SYS_mseal, begin, end - begin, 0UL) != 0) {
      perror("mseal of [vdso]");
      return 1;
    }
  }
  printf("ready\n");
  fflush(stdout);
  char buf[64];
  while (read(0, buf, sizeof buf) > 0) {
  }
  return 0;
}
