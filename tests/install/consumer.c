/* A C program built against the INSTALLED sealkit through pkg-config:
 *   cc consumer.c $(pkg-config --cflags --libs sealkit)
 * It includes only sealkit.h of sealkit's headers. It seals, queries and maps
 * with SEALKIT_PROT_SEAL, then checks that mprotect, munmap and mremap of the
 * sealed memory fail with EPERM, while the same calls on an unsealed mapping
 * succeed (so that EPERM cannot come from something else). Exits 0 only when
 * every check passed. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sealkit/sealkit.h>

static int failures = 0;
static int checks = 0;

static void check(int ok, const char *what) {
  ++checks;
  if (!ok) {
    ++failures;
    fprintf(stderr, "consumer.c: FAILED: %s (errno %d: %s)\n", what, errno, strerror(errno));
  }
}

/* -1 with EPERM, as a sealed mapping answers. */
static int eperm(int rc) { return rc == -1 && errno == EPERM; }
static int eperm_ptr(void *p) { return p == MAP_FAILED && errno == EPERM; }

/* Every way to change a mapping that the Done-when line names: all must fail on sealed memory. */
static void attack_sealed(void *p, size_t len, const char *name) {
  char what[128];
  snprintf(what, sizeof what, "%s: mprotect(PROT_READ|PROT_WRITE) fails with EPERM", name);
  check(eperm(mprotect(p, len, PROT_READ | PROT_WRITE)), what);
  snprintf(what, sizeof what, "%s: munmap fails with EPERM", name);
  check(eperm(munmap(p, len)), what);
  snprintf(what, sizeof what, "%s: mremap (shrink) fails with EPERM", name);
  check(eperm_ptr(mremap(p, len, len / 2, 0)), what);
  /* A free place to move it to, reserved so that MREMAP_FIXED replaces nothing of ours. */
  void *elsewhere = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  snprintf(what, sizeof what, "%s: mremap (move) fails with EPERM", name);
  check(elsewhere != MAP_FAILED && eperm_ptr(mremap(p, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, elsewhere)), what);
  if (elsewhere != MAP_FAILED) munmap(elsewhere, len);
  snprintf(what, sizeof what, "%s: is still sealed afterwards", name);
  check(sealkit_is_sealed(p, len) == 1, what);
}

int main(void) {
  const size_t ps = (size_t)sysconf(_SC_PAGESIZE);
  const size_t len = 2 * ps;
  printf("consumer.c: sealkit %s, backend %s\n", sealkit_version(), sealkit_backend());
  if (strcmp(sealkit_backend(), "none") == 0) {
    fprintf(stderr, "consumer.c: FAILED: this kernel cannot seal (no mseal); the checks need Linux >= 6.10\n");
    return 1;
  }

  /* 1. sealkit_mmap with SEALKIT_PROT_SEAL: sealed before the call returns. */
  char *mapped = sealkit_mmap(NULL, len, PROT_READ | SEALKIT_PROT_SEAL, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(mapped != MAP_FAILED, "sealkit_mmap(PROT_READ | SEALKIT_PROT_SEAL) succeeds");
  if (mapped != MAP_FAILED) {
    check(sealkit_is_sealed(mapped, len) == 1, "a SEALKIT_PROT_SEAL mapping is sealed");
    attack_sealed(mapped, len, "sealkit_mmap(SEALKIT_PROT_SEAL)");
  }

  /* 2. Plain memory, filled, then sealkit_mseal. */
  char *table = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(table != MAP_FAILED, "mmap of the table");
  if (table != MAP_FAILED) {
    strcpy(table, "written before the seal");
    check(sealkit_is_sealed(table, len) == 0, "an unsealed mapping is reported unsealed");
    check(sealkit_mseal(table, len, 0) == 0, "sealkit_mseal succeeds");
    check(sealkit_is_sealed(table, len) == 1, "sealkit_mseal'ed memory is sealed");
    attack_sealed(table, len, "sealkit_mseal");
    check(strcmp(table, "written before the seal") == 0, "the sealed table still holds its data");
  }

  /* 3. sealkit_mprotect with SEALKIT_PROT_SEAL: read-only and sealed in one call. */
  char *frozen = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(frozen != MAP_FAILED, "mmap of the frozen region");
  if (frozen != MAP_FAILED) {
    check(sealkit_mprotect(frozen, len, PROT_READ | SEALKIT_PROT_SEAL) == 0, "sealkit_mprotect(SEALKIT_PROT_SEAL)");
    check(sealkit_is_sealed(frozen, len) == 1, "sealkit_mprotect(SEALKIT_PROT_SEAL) sealed the range");
    attack_sealed(frozen, len, "sealkit_mprotect(SEALKIT_PROT_SEAL)");
  }

  /* 4. The control: the same calls on an unsealed mapping succeed. */
  char *plain = sealkit_mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(plain != MAP_FAILED, "sealkit_mmap without SEALKIT_PROT_SEAL");
  if (plain != MAP_FAILED) {
    check(sealkit_is_sealed(plain, len) == 0, "a mapping made without SEALKIT_PROT_SEAL is not sealed");
    check(mprotect(plain, len, PROT_READ | PROT_WRITE) == 0, "control: mprotect of unsealed memory succeeds");
    check(mremap(plain, len, len / 2, 0) == plain, "control: mremap (shrink) of unsealed memory succeeds");
    check(munmap(plain, len / 2) == 0, "control: munmap of unsealed memory succeeds");
  }

  /* 5. Bad input through the library, errno for errno. */
  check(sealkit_mseal(table + 1, ps, 0) == -1 && errno == EINVAL, "sealkit_mseal of an unaligned address: EINVAL");
  check(sealkit_mseal(table, ps, 1) == -1 && errno == EINVAL, "sealkit_mseal with flags != 0: EINVAL");

  if (failures) {
    fprintf(stderr, "consumer.c: %d of %d checks failed\n", failures, checks);
    return 1;
  }
  printf("consumer.c: all %d checks passed\n", checks);
  return 0;
}
