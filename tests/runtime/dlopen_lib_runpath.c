/* Loads a plugin the way a program with its own search path does: by bare
 * name, found only through this object's DT_RUNPATH, and by "$ORIGIN/...".
 * ld.so resolves both from the calling object, which the preload's dlopen
 * wrapper stands in front of. */
#include <dlfcn.h>

int sealkit_test_runpath_load(void) { return dlopen("libsealkit_dl_plugin.so", RTLD_NOW) != 0; }

int sealkit_test_origin_load(void) { return dlopen("$ORIGIN/plugins/libsealkit_dl_plugin.so", RTLD_NOW) != 0; }
