/* A dependency whose constructor dlopens another object (as libGLdispatch
 * does): that dlopen runs while the outer dlopen is still running
 * constructors, before the constructor of the object that needs this one. */
#include <dlfcn.h>
#include <stdlib.h>

int sealkit_test_dep_ready = 0;

__attribute__((constructor)) static void dep_init(void) {
  const char* inner = getenv("SEALKIT_TEST_INNER_LIB");
  if (inner) dlopen(inner, RTLD_NOW);
  sealkit_test_dep_ready = 1;
}
