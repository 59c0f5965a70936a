/* A library whose constructor takes LD_PRELOAD out of the environment
 * (unsetenv, which shifts the envp array; with ENV_LIB_REPLACE set, setenv to
 * "", which replaces its pointer in place): ld.so runs it before the preload
 * object's constructor, so the preload object must find what `sealkit run`
 * injected in the strings the kernel placed, not in the envp array
 * (src/runtime/preload/exec_env.hpp). */
#include <stdlib.h>

__attribute__((constructor)) static void unset_preload(void) {
  if (getenv("ENV_LIB_REPLACE") != NULL) setenv("LD_PRELOAD", "", 1);
  else unsetenv("LD_PRELOAD");
}

int sealkit_env_unsetting_lib_linked(void) { return 1; }
