/* sealkit: memory sealing (mseal(2)) for Linux programs.
 *
 * The C ABI of libsealkit. Every function is thread-safe, never aborts, prints
 * nothing, and reports failure the POSIX way: -1 (or MAP_FAILED) and errno.
 *
 * A sealed mapping can no longer be mprotect'ed, munmap'ed, mremap'ed,
 * replaced with mmap(MAP_FIXED), or have its anonymous read-only pages
 * discarded with madvise. Seals last until the process exits or execs and are
 * inherited across fork. There is no unseal.
 *
 * See docs/api.md for the full contract of each function.
 */
#ifndef SEALKIT_SEALKIT_H
#define SEALKIT_SEALKIT_H

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SEALKIT_API __attribute__((visibility("default")))
#else
#define SEALKIT_API
#endif

/* The v8 mseal patch series' mmap/mprotect bits (dropped before merge; the
 * kernel never sees them: sealkit strips them before the system call).
 * SEALKIT_PROT_SEAL in prot: the mapping is sealed before the call returns.
 * SEALKIT_MAP_SEALABLE in flags: the mapping may be sealed later (matters only
 * in SEALKIT_MODE_V8). With MAP_HUGETLB, flag bits 26..31 encode the huge page
 * size, so SEALKIT_MAP_SEALABLE is not recognised there (see docs/api.md). */
#define SEALKIT_PROT_SEAL 0x04000000
#define SEALKIT_MAP_SEALABLE 0x08000000

/* Sealing rules, for sealkit_set_mode(). */
#define SEALKIT_MODE_UPSTREAM 0 /* any mapping may be sealed (Linux as merged) */
#define SEALKIT_MODE_V8 1       /* only MAP_SEALABLE mappings and ELF objects */

/* mseal(2), errno for errno as Linux implements it: EINVAL for flags != 0, an
 * unaligned addr or addr+len overflow; 0 and nothing done for len 0; len is
 * rounded up to whole pages; ENOMEM, with nothing sealed, when any page of the
 * range is unmapped; EPERM is never returned (sealing twice succeeds); ENOSYS
 * when no backend can seal. In SEALKIT_MODE_V8, EACCES, with nothing sealed,
 * when the range holds a mapping that is not sealable. On the seccomp backend,
 * EBUSY, with nothing sealed, while a task outside the thread group shares the
 * address space (clone with CLONE_VM, no CLONE_THREAD): no filter can bind it. */
SEALKIT_API int sealkit_mseal(void *addr, size_t len, unsigned long flags);

/* mmap(2) and mprotect(2) that understand SEALKIT_PROT_SEAL and
 * SEALKIT_MAP_SEALABLE. When sealing fails after mmap succeeded, the new
 * mapping is unmapped and the call fails with the sealing errno. */
SEALKIT_API void *sealkit_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
SEALKIT_API int sealkit_mprotect(void *addr, size_t len, int prot);

/* Select SEALKIT_MODE_UPSTREAM (the default) or SEALKIT_MODE_V8 for the whole
 * process. Returns the previous mode, or -1 with EINVAL for an unknown mode. */
SEALKIT_API int sealkit_set_mode(int mode);

/* 1 when every page of [addr, addr+len) is sealed, 0 when at least one is not,
 * -1 with ENOMEM when part of the range is unmapped, -1 with EINVAL for len 0
 * or a range that wraps. addr need not be aligned: every page the range
 * touches is considered. */
SEALKIT_API int sealkit_is_sealed(const void *addr, size_t len);

/* Seal every ELF object loaded in this process now (as dl_iterate_phdr lists
 * them, the vDSO included): the whole span of its PT_LOAD segments, the gaps
 * between them that the loader reserved and the bss. Returns how many objects
 * were sealed; -1 with errno when flags is not 0 or any object could not be
 * sealed (the others stay sealed). */
#define SEALKIT_SEAL_OBJECTS_DEFAULT 0u
SEALKIT_API int sealkit_seal_loaded_objects(unsigned flags);

/* What this process seals with, chosen once: "kernel" (mseal(2)), "seccomp"
 * (seccomp-BPF filters where mseal is missing, or forced), or "none" (nothing
 * can seal: sealkit_mseal fails with ENOSYS). SEALKIT_BACKEND=kernel|seccomp|auto
 * chooses (default auto: kernel, else seccomp, else none). On "seccomp" the first
 * seal sets no_new_privs for good: setuid/setgid programs and file capabilities
 * no longer raise privileges in this process or anything it executes. The filter
 * backend's other differences from mseal: docs/seccomp.md. */
SEALKIT_API const char *sealkit_backend(void);
/* The library version, "MAJOR.MINOR.PATCH". */
SEALKIT_API const char *sealkit_version(void);

#ifdef __cplusplus
}
#endif

#endif /* SEALKIT_SEALKIT_H */
