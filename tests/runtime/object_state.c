#include "object_state.h"

#include <stdio.h>
#include <string.h>

void object_state(const char* label, const char* suffix) {
  FILE* f = fopen("/proc/self/smaps", "r");
  char line[4096];
  int in_match = 0, vmas = 0, sealed = 0;
  const size_t n = strlen(suffix);
  while (f && fgets(line, sizeof line, f)) {
    unsigned long a, b;
    if (sscanf(line, "%lx-%lx ", &a, &b) == 2) {
      size_t len = strlen(line);
      while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == ' ')) line[--len] = '\0';
      in_match = len >= n && strcmp(line + len - n, suffix) == 0;
      vmas += in_match;
    } else if (in_match && strncmp(line, "VmFlags:", 8) == 0) {
      char* sl = strstr(line, " sl");
      sealed += sl != NULL && (sl[3] == ' ' || sl[3] == '\n');
    }
  }
  if (f) fclose(f);
  if (vmas == 0) printf("%s unmapped\n", label);
  else if (sealed == vmas) printf("%s all-sealed %d\n", label, vmas);
  else printf("%s open %d-of-%d\n", label, vmas - sealed, vmas);
}
