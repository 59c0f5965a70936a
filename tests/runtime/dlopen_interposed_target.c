/* `dlopen_interposed_target interposed LIB`: dlopen LIB through a dlopen
 * wrapper of the program's own (dlopen_interposer_lib.c, linked in), then
 * says how sealed LIB is ("interposed all-sealed N" or "interposed open K-of-N",
 * as unwrapped_loads_target), how many calls the program's wrapper saw, and
 * whether the load worked. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "object_state.h"

int sealkit_test_interposer_calls(void);

int main(int argc, char** argv) {
  if (argc != 3 || strcmp(argv[1], "interposed") != 0) {
    fprintf(stderr, "usage: dlopen_interposed_target interposed LIB\n");
    return 2;
  }
  void* h = dlopen(argv[2], RTLD_NOW);
  const char* base = strrchr(argv[2], '/');
  object_state("interposed", base ? base : argv[2]);
  printf("interposer-calls %d\n", sealkit_test_interposer_calls());
  printf("interposed-works %s\n", h ? "yes" : "no");
  return 0;
}
