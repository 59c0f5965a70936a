/* A library of the program's that wraps dlopen itself, the usual way: its
 * dlopen counts the call and goes on to the next definition, found with
 * dlsym(RTLD_NEXT, "dlopen"). Behind the preload object it is the preload
 * object's next dlopen; handing it the preload object's wrapper as its next
 * would make a loop. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>

static int calls;

int sealkit_test_interposer_calls(void) { return calls; }

void* dlopen(const char* path, int mode) {
  static void* (*next)(const char*, int);
  if (next == NULL) next = (void* (*)(const char*, int))dlsym(RTLD_NEXT, "dlopen");
  ++calls;
  void* h = next ? next(path, mode) : NULL;
  return h;
}
