/* For bench/runtime/harden_discard: the nanoseconds 1000 calls of
 * madvise(MADV_DONTNEED) on an anonymous page take in this process (the call
 * glibc's malloc makes when it trims a heap), the median of 101 batches,
 * printed alone on stdout for spawn_ab --child-reports, which shows it in
 * microseconds: so its figure reads as nanoseconds per call. Under
 * harden-discard every such call runs the discard-only filter; no other
 * call does. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int by_value(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

int main(void) {
  enum { kBatches = 101, kCalls = 1000 };
  char* page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return 1;
  double per_batch[kBatches];
  for (int b = 0; b < kBatches; ++b) {
    double t0 = now_ns();
    for (int i = 0; i < kCalls; ++i)
      if (madvise(page, 4096, MADV_DONTNEED) != 0) return 1;
    per_batch[b] = now_ns() - t0;
  }
  qsort(per_batch, kBatches, sizeof per_batch[0], by_value);
  printf("%.0f\n", per_batch[kBatches / 2]);
  return 0;
}
