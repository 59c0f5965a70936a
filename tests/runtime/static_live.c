/* A statically linked program for `sealkit run` (tests/runtime/static_run_test.cpp), built with glibc -static,
 * glibc -static-pie and musl-gcc -static: says "ready", runs until its stdin closes, then prints its first argument
 * and exits with status 7, so that the test can see its seals while it runs and its output and status after. */
#include <stdio.h>
#include <unistd.h>

int main(int argc, char** argv) {
  printf("ready\n");
  fflush(stdout);
  char buf[64];
  while (read(0, buf, sizeof buf) > 0) {
  }
  printf("done %s\n", argc > 1 ? argv[1] : "-");
  return 7;
}
