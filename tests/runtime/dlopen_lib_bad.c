/* Needs a symbol nothing defines: dlopen(RTLD_NOW) maps it, fails during
 * relocation, and unmaps it again. Nothing of it may stay sealed. */
extern int sealkit_test_no_such_symbol(void);

int sealkit_test_bad(void) { return sealkit_test_no_such_symbol(); }
