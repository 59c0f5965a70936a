/* Linked with -static: no ld.so, so no runtime can be injected. */
#include <stdio.h>
int main(void) {
  puts("static ok");
  return 0;
}
