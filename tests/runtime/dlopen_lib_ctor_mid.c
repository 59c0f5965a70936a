/* Needs dlopen_lib_ctor_dep.c and is itself a dependency of the object the
 * test dlopens, so it has no search list of its own: a dlopen(RTLD_NOLOAD)
 * of it while the dependency's constructor runs would initialise it then.
 * Its constructor must run after the dependency's has finished. */
extern int sealkit_test_dep_ready;

static int order_ok = 0;

__attribute__((constructor)) static void outer_init(void) { order_ok = sealkit_test_dep_ready; }

int sealkit_test_order_ok(void) { return order_ok; }
