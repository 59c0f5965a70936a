/* A small library for the dlopen benchmark: a little text, data, bss and one
 * relocation against libc, like a small plugin. Built in many copies. */
#include <string.h>

static char scratch[4096];
const char* bench_dlopen_name = "bench";

unsigned long bench_dlopen_value(const char* s) {
  strncpy(scratch, s, sizeof scratch - 1);
  return strlen(scratch) + VALUE;
}
