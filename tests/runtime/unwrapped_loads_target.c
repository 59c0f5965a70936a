/* Loads objects in ways no dlopen wrapper sees, then says how many of each
 * object's VMAs are sealed, read in /proc/self/smaps right after the call
 * that loaded it, before the program uses what it loaded.
 *
 * glibc loading objects by itself (not through dlopen):
 *
 *   iconv      iconv_open("UTF-8", "LATIN1")      gconv/ISO8859-1.so
 *   nss        getpwnam("root")                   libnss_compat.so.2 (nsswitch.conf "passwd: compat")
 *   cancel     pthread_cancel of a waiting thread  libgcc_s.so.1 (read in the
 *   exit       a thread's pthread_exit             libgcc_s.so.1  thread's cleanup
 *                                                                 handler, as it unwinds)
 *   backtrace  backtrace()                         libgcc_s.so.1
 *
 *
 * dlopen found by a lookup rather than called by name (LIB: a library path):
 *
 *   next LIB    a linked library's dlsym(RTLD_NEXT, "dlopen")(LIB)
 *   vsym LIB    dlvsym(libc's handle, "dlopen", "GLIBC_2.34")(LIB)
 *   handle LIB  dlsym(libc's handle, "dlopen")(LIB)
 *
 * libc's own function called through libc's handle, as an FFI does:
 *
 *   ffi-iconv   dlsym(libc's handle, "iconv_open")("UTF-8", "LATIN1")
 *
 * A load inside a dlmopen namespace, through that namespace's own libc:
 *
 *   namespace OUTER LIB   dlmopen(LM_ID_NEWLM, OUTER), whose
 *               sealkit_test_plain_dlopen (next_dlopen_lib.c) loads LIB there;
 *               then the program's next lookup, getpwuid(0): "namespace" is
 *               LIB's state after that, "namespace-loaded" before it
 *
 * A lookup on another thread after a load that brings dependencies (a pass
 * that walks every namespace, the audit modules' too under `sealkit run`):
 *
 *   thread-lookup LIB   dlopen(LIB), then a thread's dlsym(RTLD_DEFAULT,
 *               "puts"); "thread-lookup-works yes" (SIGALRM after 20 s if
 *               ld.so's load lock was left taken)
 *
 * Each prints "LABEL all-sealed N", "LABEL open K-of-N" (K VMAs not sealed),
 * or "LABEL unmapped"; then "LABEL-works yes|no" for the call's own result. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <execinfo.h>
#include <iconv.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "object_state.h"

/* Run by the unwinder, while libgcc_s unwinds the thread's stack. */
static void state_while_unwinding(void* label) { object_state((const char*)label, "/libgcc_s.so.1"); }

void* sealkit_test_next_dlopen(const char* path); /* next_dlopen_lib.c */

/* The namespace an object was loaded into. */
static long namespace_of(void* h) {
  Lmid_t id = -1;
  return h && dlinfo(h, RTLD_DI_LMID, &id) == 0 ? (long)id : -1;
}

typedef void* (*dlopen_fn)(const char*, int);

/* Loads `path` through `open` and says how sealed it is. */
static void load_through(const char* label, dlopen_fn open, const char* path) {
  void* h = open ? open(path, RTLD_NOW) : NULL;
  const char* base = strrchr(path, '/');
  object_state(label, base ? base : path);
  printf("%s-works %s\n", label, h ? "yes" : "no");
}

static void* next_dlopen(const char* path, int mode) {
  (void)mode;
  return sealkit_test_next_dlopen(path);
}

static void* look_up_puts(void* arg) {
  (void)arg;
  return dlsym(RTLD_DEFAULT, "puts");
}

static void* wait_forever(void* arg) {
  pthread_cleanup_push(state_while_unwinding, "cancel");
  for (;;) pause();
  pthread_cleanup_pop(0);
  return arg;
}

static void* exit_now(void* arg) {
  pthread_cleanup_push(state_while_unwinding, "exit");
  pthread_exit(arg);
  pthread_cleanup_pop(0);
}

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const char* c = argv[i];
    if (strcmp(c, "iconv") == 0) {
      iconv_t cd = iconv_open("UTF-8", "LATIN1");
      object_state("iconv", "/gconv/ISO8859-1.so");
      char in[] = "caf\xe9", out[16] = {0};
      char *ip = in, *op = out;
      size_t il = 4, ol = sizeof out - 1;
      const int ok = cd != (iconv_t)-1 && iconv(cd, &ip, &il, &op, &ol) != (size_t)-1 && strcmp(out, "caf\xc3\xa9") == 0;
      printf("iconv-works %s\n", ok ? "yes" : "no");
      if (cd != (iconv_t)-1) iconv_close(cd);
    } else if (strcmp(c, "nss") == 0) {
      struct passwd* p = getpwnam("root");
      object_state("nss", "/libnss_compat.so.2");
      printf("nss-works %s\n", p != NULL && p->pw_uid == 0 ? "yes" : "no");
    } else if (strcmp(c, "cancel") == 0) {
      pthread_t t;
      void* result = NULL;
      const int ok = pthread_create(&t, NULL, wait_forever, NULL) == 0 && pthread_cancel(t) == 0 &&
                     pthread_join(t, &result) == 0 && result == PTHREAD_CANCELED;
      printf("cancel-works %s\n", ok ? "yes" : "no");
    } else if (strcmp(c, "exit") == 0) {
      pthread_t t;
      void* result = NULL;
      const int ok = pthread_create(&t, NULL, exit_now, (void*)42) == 0 && pthread_join(t, &result) == 0 &&
                     result == (void*)42;
      printf("exit-works %s\n", ok ? "yes" : "no");
    } else if (strcmp(c, "backtrace") == 0) {
      void* frames[16];
      const int n = backtrace(frames, 16);
      object_state("backtrace", "/libgcc_s.so.1");
      printf("backtrace-works %s\n", n > 0 ? "yes" : "no");
    } else if (strcmp(c, "next") == 0 && i + 1 < argc) {
      load_through("next", next_dlopen, argv[++i]);
    } else if (strcmp(c, "vsym") == 0 && i + 1 < argc) {
      void* libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
      load_through("vsym", libc ? (dlopen_fn)dlvsym(libc, "dlopen", "GLIBC_2.34") : NULL, argv[++i]);
    } else if (strcmp(c, "handle") == 0 && i + 1 < argc) {
      void* libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
      load_through("handle", libc ? (dlopen_fn)dlsym(libc, "dlopen") : NULL, argv[++i]);
    } else if (strcmp(c, "ffi-iconv") == 0) {
      void* libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
      iconv_t (*open_fn)(const char*, const char*) =
          libc ? (iconv_t (*)(const char*, const char*))dlsym(libc, "iconv_open") : NULL;
      iconv_t cd = open_fn ? open_fn("UTF-8", "LATIN1") : (iconv_t)-1;
      object_state("ffi-iconv", "/gconv/ISO8859-1.so");
      printf("ffi-iconv-works %s\n", cd != (iconv_t)-1 ? "yes" : "no");
    } else if (strcmp(c, "thread-lookup") == 0 && i + 1 < argc) {
      alarm(20);
      void* h = dlopen(argv[++i], RTLD_NOW);
      pthread_t t;
      void* found = NULL;
      const int ok = h != NULL && pthread_create(&t, NULL, look_up_puts, NULL) == 0 && pthread_join(t, &found) == 0 &&
                     found != NULL;
      printf("thread-lookup-works %s\n", ok ? "yes" : "no");
    } else if (strcmp(c, "namespace") == 0 && i + 2 < argc) {
      void* outer = dlmopen(LM_ID_NEWLM, argv[i + 1], RTLD_NOW);
      void* (*load)(const char*) = outer ? (void* (*)(const char*))dlsym(outer, "sealkit_test_plain_dlopen") : NULL;
      const char* path = argv[i + 2];
      const char* base = strrchr(path, '/');
      void* h = load ? load(path) : NULL;
      object_state("namespace-loaded", base ? base : path);
      getpwuid(0);
      object_state("namespace", base ? base : path);
      printf("namespace-works %s\n", h && namespace_of(h) == namespace_of(outer) && namespace_of(h) > 0 ? "yes" : "no");
      i += 2;
    } else {
      fprintf(stderr, "unwrapped_loads_target: bad command %s\n", c);
      return 2;
    }
    fflush(stdout);
  }
  return 0;
}
