/* What the preload object's wrappers of libc's loaders cost a program when
 * they find nothing to seal (src/runtime/preload/glibc_loads.cpp,
 * symbol_lookup.cpp): the call through libc's name (the wrapper: the call,
 * then a look at ld.so's load counters) against libc's own function with no
 * wrapper in front of it. A lookup hands out the wrapper for that too
 * (symbol_lookup.cpp), so libc's address is taken from a second copy of
 * libc (dlmopen(LM_ID_NEWLM)): the function's offset in it, added to the
 * first copy's load address.
 *
 *   LD_PRELOAD=libsealkit-preload.so libc_wrappers_bench [ROUNDS]
 *   sealkit run -- libc_wrappers_bench [ROUNDS]
 *
 * Each round times every variant once, in alternation, and prints per
 * variant the median over rounds and the median of the per-round ratios to
 * its plain twin:
 *   getpwuid_r  a passwd lookup of uid 0 (its NSS modules loaded by the warm-up)
 *   getprotobynumber  a protocols lookup (/etc/protocols read each time)
 *   dlsym       dlsym(libc's handle, "getpid"): the lookup wrapper's route and
 *               its look at whether this object defines the name */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "paired_rounds.h"

typedef int (*getpwuid_r_fn)(uid_t, struct passwd *, char *, size_t, struct passwd **);
typedef struct protoent *(*getprotobynumber_fn)(int);
typedef void *(*dlsym_fn)(void *, const char *);

static void *g_libc;
static getpwuid_r_fn g_getpwuid_r;
static getprotobynumber_fn g_getprotobynumber;
static dlsym_fn g_dlsym;

static double pw_loop(int wrapped) {
  enum { kCalls = 50 };
  struct passwd pw, *res;
  char buf[4096];
  const double t0 = now_ns();
  for (int i = 0; i < kCalls; ++i) {
    if (wrapped) getpwuid_r(0, &pw, buf, sizeof buf, &res);
    else g_getpwuid_r(0, &pw, buf, sizeof buf, &res);
  }
  return (now_ns() - t0) / kCalls;
}

static double proto_loop(int wrapped) {
  enum { kCalls = 50 };
  const double t0 = now_ns();
  for (int i = 0; i < kCalls; ++i) {
    if (wrapped) getprotobynumber(6);
    else g_getprotobynumber(6);
  }
  return (now_ns() - t0) / kCalls;
}

static double dlsym_loop(int wrapped) {
  enum { kCalls = 500 };
  const double t0 = now_ns();
  for (int i = 0; i < kCalls; ++i) {
    if (wrapped) dlsym(g_libc, "getpid");
    else g_dlsym(g_libc, "getpid");
  }
  return (now_ns() - t0) / kCalls;
}

/* libc's own `name` in the first copy: its offset in a second copy, added
 * to the first copy's load address. */
static void *libc_own(const char *name) {
  static void *second;
  if (second == NULL) second = dlmopen(LM_ID_NEWLM, "libc.so.6", RTLD_NOW);
  struct link_map *first_map = NULL, *second_map = NULL;
  void *in_second = second ? dlsym(second, name) : NULL;
  if (!g_libc || !in_second || dlinfo(g_libc, RTLD_DI_LINKMAP, &first_map) != 0 ||
      dlinfo(second, RTLD_DI_LINKMAP, &second_map) != 0)
    return NULL;
  return (char *)in_second - second_map->l_addr + first_map->l_addr;
}

enum { kVariants = 6 };
static const char *const kNames[kVariants] = {"getpwuid_r_plain", "getpwuid_r_wrapped", "getprotobynumber_plain",
                                              "getprotobynumber_wrapped", "dlsym_plain", "dlsym_wrapped"};

static double run_variant(int v) {
  switch (v) {
    case 0: return pw_loop(0);
    case 1: return pw_loop(1);
    case 2: return proto_loop(0);
    case 3: return proto_loop(1);
    case 4: return dlsym_loop(0);
    default: return dlsym_loop(1);
  }
}

int main(int argc, char **argv) {
  const int rounds = argc > 1 ? atoi(argv[1]) : 201;
  if (rounds < 1) return 2;
  g_libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
  g_getpwuid_r = (getpwuid_r_fn)libc_own("getpwuid_r");
  g_getprotobynumber = (getprotobynumber_fn)libc_own("getprotobynumber");
  g_dlsym = (dlsym_fn)libc_own("dlsym");
  if (!g_libc || !g_getpwuid_r || !g_getprotobynumber || !g_dlsym) {
    fprintf(stderr, "libc_wrappers_bench: cannot find libc's own functions\n");
    return 2;
  }
  if (dlsym(RTLD_DEFAULT, "getpwuid_r") == (void *)g_getpwuid_r)
    fprintf(stderr, "libc_wrappers_bench: no preload object in front of libc: both variants are libc's\n");
  double *t[kVariants], *ratio[kVariants];
  for (int v = 0; v < kVariants; ++v) {
    t[v] = calloc((size_t)rounds, sizeof(double));
    ratio[v] = calloc((size_t)rounds, sizeof(double));
    if (t[v] == NULL || ratio[v] == NULL) return 2;
  }
  for (int w = 0; w < 2 * kVariants; ++w) (void)run_variant(w % kVariants);  // warm-up: NSS modules loaded
  for (int r = 0; r < rounds; ++r) {
    for (int k = 0; k < kVariants; ++k) {
      const int v = (r + k) % kVariants;
      t[v][r] = run_variant(v);
    }
    for (int v = 1; v < kVariants; v += 2) ratio[v][r] = t[v][r] / t[v - 1][r];
  }
  printf("%-26s %12s %14s\n", "variant", "median_ns", "paired_ratio");
  for (int v = 0; v < kVariants; ++v) {
    const double r = v % 2 ? median(ratio[v], rounds) : 1.0;
    printf("%-26s %12.0f %14.3f\n", kNames[v], median(t[v], rounds), r);
  }
  return 0;
}
