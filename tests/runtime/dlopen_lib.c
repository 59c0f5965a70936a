/* A small object for tests/runtime/dlopen_test.cpp to dlopen. Built several
 * times under different names (threads need distinct objects); VALUE tells
 * the copies apart. A pointer in initialised data gives it a RELRO page. */
#ifndef VALUE
#define VALUE 1
#endif

static int value = VALUE;
int* const sealkit_test_value_ptr = &value;

int sealkit_test_value(void) { return *sealkit_test_value_ptr; }
