/* A program that loads a plugin the way installed programs do: by a name
 * relative to its own directory ("$ORIGIN/...") or by a bare name found
 * through its own DT_RUNPATH. Prints which plugin it got ("loaded legit",
 * "loaded evil") or "failed <dlerror>", and whether the plugin's code can
 * still be made writable ("sealed" when mprotect says EPERM).
 *
 *   origin_host [NAME]     NAME defaults to $ORIGIN/libsealkit_origin_plugin.so
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char** argv) {
  const char* name = argc > 1 ? argv[1] : "$ORIGIN/libsealkit_origin_plugin.so";
  void* h = dlopen(name, RTLD_NOW | RTLD_NODELETE);
  if (!h) {
    printf("failed %s\n", dlerror());
    return 0;
  }
  const char* (*id)(void) = (const char* (*)(void))dlsym(h, "sealkit_origin_plugin_id");
  if (!id) {
    printf("failed no sealkit_origin_plugin_id\n");
    return 0;
  }
  const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  void* text = (void*)((uintptr_t)id & ~(page - 1));
  const int rc = mprotect(text, page, PROT_READ | PROT_EXEC);
  printf("loaded %s %s\n", id(), rc == 0 ? "open" : errno == EPERM ? "sealed" : "error");
  return 0;
}
