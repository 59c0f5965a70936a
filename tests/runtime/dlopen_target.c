/* The program tests/runtime/dlopen_test.cpp runs under `sealkit run`. Each
 * command dlopens something and reports, from inside the process and right
 * after dlopen returned, whether the object's text is sealed: mprotect of its
 * text page to the protection it already has fails with EPERM only if the
 * page is sealed. One line per check: "NAME RESULT". */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <iconv.h>
#include <link.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char* text_state(void* fn) {
  uintptr_t page = (uintptr_t)fn & ~(uintptr_t)4095;
  if (mprotect((void*)page, 4096, PROT_READ | PROT_EXEC) == 0) return "open";
  return errno == EPERM ? "sealed" : "error";
}

static int call_int(void* h, const char* sym) {
  int (*f)(void) = (int (*)(void))dlsym(h, sym);
  return f ? f() : -1;
}

/* `check NAME MODE PATH SYMBOL`: dlopen with MODE (now, nodelete, noload). */
static int open_mode(const char* m) {
  if (strcmp(m, "nodelete") == 0) return RTLD_NOW | RTLD_NODELETE;
  return RTLD_NOW;
}

static int cmd_open(const char* label, const char* mode, const char* path, const char* sym) {
  void* h = dlopen(path, open_mode(mode));
  if (!h) {
    printf("%s dlopen-failed\n", label);
    return 1;
  }
  void* fn = dlsym(h, sym);
  printf("%s %s\n", label, fn ? text_state(fn) : "no-symbol");
  return 0;
}

/* Whether any VMA of a file whose path contains `needle` is mapped, and
 * whether any of them is sealed. */
static void mapped_state(const char* label, const char* needle) {
  FILE* f = fopen("/proc/self/smaps", "r");
  char line[4096];
  int in_match = 0, mapped = 0, sealed = 0;
  while (f && fgets(line, sizeof line, f)) {
    if (strncmp(line, "VmFlags:", 8) == 0) {
      if (in_match && strstr(line, " sl")) sealed = 1;
      continue;
    }
    unsigned long a, b;
    if (sscanf(line, "%lx-%lx ", &a, &b) == 2 && strchr(line, '/') == NULL) in_match = 0;
    else if (sscanf(line, "%lx-%lx ", &a, &b) == 2) {
      in_match = strstr(line, needle) != NULL;
      mapped |= in_match;
    }
  }
  if (f) fclose(f);
  printf("%s %s\n", label, !mapped ? "unmapped" : sealed ? "mapped-sealed" : "mapped-open");
}

/* A dlopen that fails: the object is mapped, relocation fails (RTLD_NOW and
 * an undefined symbol), and ld.so unmaps it. */
static void cmd_fail(const char* bad_path) {
  void* h = dlopen("/nonexistent/libsealkit-none.so", RTLD_NOW);
  printf("missing %s\n", h ? "loaded?" : "null");
  h = dlopen(bad_path, RTLD_NOW | RTLD_NODELETE);
  printf("failing %s\n", h ? "loaded?" : "null");
  const char* base = strrchr(bad_path, '/');
  mapped_state("failing_remnants", base ? base + 1 : bad_path);
  printf("dlerror_after %s\n", dlerror() ? "set" : "clear");
}

/* Seal an object behind glibc's back (every VMA of its file, as the runtime
 * would), dlclose it, and use it again through a new dlopen. */
static int seal_file_vmas(const char* needle) {
  FILE* f = fopen("/proc/self/maps", "r");
  char line[4096];
  int n = 0;
  while (f && fgets(line, sizeof line, f)) {
    unsigned long a, b;
    if (strstr(line, needle) && sscanf(line, "%lx-%lx", &a, &b) == 2)
      n += syscall(462, a, b - a, 0) == 0;
  }
  if (f) fclose(f);
  return n;
}

static void cmd_reopen(const char* path) {
  void* h = dlopen(path, RTLD_NOW);
  if (!h) {
    printf("reopen_first dlopen-failed\n");
    return;
  }
  const char* base = strrchr(path, '/');
  base = base ? base + 1 : path;
  int before = call_int(h, "sealkit_test_value");
  printf("reopen_sealed_vmas %d\n", seal_file_vmas(base));
  printf("reopen_dlclose %d\n", dlclose(h));
  mapped_state("reopen_after_close", base);
  void* h2 = dlopen(path, RTLD_NOW);
  printf("reopen_again %s\n", h2 && call_int(h2, "sealkit_test_value") == before ? "works" : "broken");
  if (h2) printf("reopen_dlclose_again %d\n", dlclose(h2));
}

struct job {
  const char* path;
  const char* result;
};

static void* thread_main(void* p) {
  struct job* j = p;
  for (int i = 0; i < 20; ++i) {
    void* h = dlopen(j->path, RTLD_NOW | RTLD_NODELETE);
    if (!h) {
      j->result = "dlopen-failed";
      return NULL;
    }
    void* fn = dlsym(h, "sealkit_test_value");
    const char* s = fn ? text_state(fn) : "no-symbol";
    if (strcmp(s, "sealed") != 0) {
      j->result = s;
      return NULL;
    }
    dlclose(h);
  }
  j->result = "sealed";
  return NULL;
}

static void cmd_threads(int n, char** paths) {
  pthread_t t[64];
  struct job jobs[64];
  if (n > 64) n = 64;
  for (int i = 0; i < n; ++i) {
    jobs[i].path = paths[i];
    jobs[i].result = "not-run";
    pthread_create(&t[i], NULL, thread_main, &jobs[i]);
  }
  for (int i = 0; i < n; ++i) pthread_join(t[i], NULL);
  for (int i = 0; i < n; ++i) printf("thread%d %s\n", i, jobs[i].result);
}

static void cmd_dlmopen(const char* path) {
  void* h = dlmopen(LM_ID_NEWLM, path, RTLD_NOW);
  if (!h) {
    printf("dlmopen dlopen-failed %s\n", dlerror());
    return;
  }
  void* fn = dlsym(h, "sealkit_test_value");
  printf("dlmopen %s\n", fn ? text_state(fn) : "no-symbol");
}

/* `no-sockets`: what a program that sandboxes itself after start-up does: a
 * seccomp filter of its own that kills the process on socket(2). */
static void cmd_no_sockets(void) {
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};
  const int ok = prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0;
  printf("no-sockets %s\n", ok ? "installed" : "failed");
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int i = 1; i < argc; ++i) {
    const char* c = argv[i];
    if (strcmp(c, "open") == 0 && i + 4 < argc) {
      cmd_open(argv[i + 1], argv[i + 2], argv[i + 3], argv[i + 4]);
      i += 4;
    } else if (strcmp(c, "fail") == 0 && i + 1 < argc) {
      cmd_fail(argv[++i]);
    } else if (strcmp(c, "reopen") == 0 && i + 1 < argc) {
      cmd_reopen(argv[++i]);
    } else if (strcmp(c, "threads") == 0) {
      cmd_threads(argc - i - 1, argv + i + 1);
      break;
    } else if (strcmp(c, "order") == 0 && i + 2 < argc) {
      /* `order TOP INNER`: TOP needs MID needs DEP; DEP's constructor dlopens INNER. */
      setenv("SEALKIT_TEST_INNER_LIB", argv[i + 2], 1);
      void* h = dlopen(argv[i + 1], RTLD_NOW);
      printf("order %s\n", !h ? "dlopen-failed" : call_int(h, "sealkit_test_order_ok") == 1 ? "kept" : "broken");
      void* inner = dlopen(argv[i + 2], RTLD_NOW | RTLD_NOLOAD);
      void* fn = inner ? dlsym(inner, "sealkit_test_value") : NULL;
      printf("order_inner %s\n", fn ? text_state(fn) : "not-loaded");
      void* outer_fn = h ? dlsym(h, "sealkit_test_order_ok") : NULL;
      printf("order_outer %s\n", outer_fn ? text_state(outer_fn) : "no-symbol");
      i += 2;
    } else if (strcmp(c, "error") == 0 && i + 2 < argc) {
      /* `error LABEL PATH`: dlopen and print what dlerror() says afterwards. */
      void* h = dlopen(argv[i + 2], RTLD_NOW);
      const char* e = h ? NULL : dlerror();
      printf("%s %s\n", argv[i + 1], h ? "opened" : e ? e : "failed-without-dlerror");
      i += 2;
    } else if (strcmp(c, "iconv") == 0 && i + 1 < argc) {
      /* `iconv LIB`: glibc loads the LATIN1 gconv module itself (not through
       * dlopen), then the program dlopens LIB: the runtime's next chance. */
      iconv_t cd = iconv_open("UTF-8", "LATIN1");
      printf("iconv_open %s\n", cd == (iconv_t)-1 ? "failed" : "ok");
      mapped_state("gconv_before_dlopen", "/ISO8859-1.so");
      void* h = dlopen(argv[++i], RTLD_NOW);
      printf("iconv_dlopen %s\n", h ? "ok" : "failed");
      mapped_state("gconv_after_dlopen", "/ISO8859-1.so");
      if (cd != (iconv_t)-1) iconv_close(cd);
    } else if (strcmp(c, "runpath") == 0 && i + 1 < argc) {
      /* `runpath LIB`: LIB dlopens a plugin by its own DT_RUNPATH, then by $ORIGIN. */
      void* h = dlopen(argv[++i], RTLD_NOW);
      printf("runpath %s\n", !h ? "dlopen-failed" : call_int(h, "sealkit_test_runpath_load") == 1 ? "found" : "not-found");
      printf("origin %s\n", !h ? "dlopen-failed" : call_int(h, "sealkit_test_origin_load") == 1 ? "found" : "not-found");
    } else if (strcmp(c, "many") == 0 && i + 2 < argc) {
      /* `many COUNT DIR`: dlopen DIR/lib0.so ... DIR/lib<COUNT-1>.so, distinct
       * files; says nothing (a test reads the result in smaps). */
      const int count = atoi(argv[i + 1]);
      char path[4096];
      for (int k = 0; k < count; ++k) {
        snprintf(path, sizeof path, "%s/lib%d.so", argv[i + 2], k);
        if (dlopen(path, RTLD_NOW) == NULL) fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
      }
      i += 2;
    } else if (strcmp(c, "no-sockets") == 0) {
      cmd_no_sockets();
    } else if (strcmp(c, "dlmopen") == 0 && i + 1 < argc) {
      cmd_dlmopen(argv[++i]);
    } else if (strcmp(c, "wait") == 0) {
      printf("ready\n");
      char b;
      while (read(0, &b, 1) > 0) {
      }
    } else {
      fprintf(stderr, "dlopen_target: bad command %s\n", c);
      return 2;
    }
  }
  return 0;
}
