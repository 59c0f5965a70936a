/* A library that finds dlopen the way wrappers of it do, with
 * dlsym(RTLD_NEXT, "dlopen"), and loads through what it found. Linked to
 * unwrapped_loads_target, so it comes after the preload object in the search
 * order: RTLD_NEXT from here is libc's dlopen without sealkit. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>

void* sealkit_test_next_dlopen(const char* path) {
  void* (*next)(const char*, int) = (void* (*)(const char*, int))dlsym(RTLD_NEXT, "dlopen");
  return next ? next(path, RTLD_NOW) : NULL;
}

/* dlopen called by name: in a dlmopen namespace, that namespace's own libc's. */
void* sealkit_test_plain_dlopen(const char* path) { return dlopen(path, RTLD_NOW); }
