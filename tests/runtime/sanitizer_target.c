/* A program built with a sanitizer (tests/CMakeLists.txt builds it with
 * -fsanitize=address and with -fsanitize=thread). No argument: prints "ok".
 * "overflow": a heap buffer overflow, which AddressSanitizer reports.
 * "thread": a thread that returns, joined. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *run(void *arg) { return arg; }

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "overflow") == 0) {
    volatile char *p = malloc(8);
    p[8] = 1;
    free((void *)p);
  }
  if (argc > 1 && strcmp(argv[1], "thread") == 0) {
    pthread_t t;
    if (pthread_create(&t, NULL, run, NULL) != 0 || pthread_join(t, NULL) != 0) return 3;
  }
  printf("ok\n");
  return 0;
}
