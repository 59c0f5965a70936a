/* Times its own dlopen calls: dlopen(RTLD_NOW) of each library named on the
 * command line, once, in order; prints the total in nanoseconds on stdout
 * (read by spawn_ab --child-reports). Exits 1 if a dlopen fails. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <time.h>

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char** argv) {
  double total = 0;
  for (int i = 1; i < argc; ++i) {
    const double t0 = now_ns();
    void* h = dlopen(argv[i], RTLD_NOW);
    total += now_ns() - t0;
    if (!h) {
      fprintf(stderr, "dlopen_child: %s\n", dlerror());
      return 1;
    }
  }
  printf("%.0f\n", total);
  return 0;
}
