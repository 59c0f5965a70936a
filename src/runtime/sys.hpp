// Raw Linux system calls for the injected runtime, which links no libc: it is
// loaded by ld.so as an audit module in a namespace of its own, and a libc
// there would be a second copy of libc in every process (costly to load, and
// not initialised). Each call returns the kernel's value: -errno on failure.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/raw_syscall.hpp"

// Only macros (a client request is inline assembly): nothing to link.
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define SEALKIT_HAVE_VALGRIND_H 1
#else
#define SEALKIT_HAVE_VALGRIND_H 0
#endif

namespace sealkit::rt::sys {

using core::raw::call;
using core::raw::call6;
using core::raw::failed;

// The numbers the runtime uses, per architecture (the conventions are in
// core/raw_syscall.hpp).
#if defined(__x86_64__)
inline constexpr long kRead = 0, kWrite = 1, kOpen = 2, kClose = 3, kMmap = 9, kMunmap = 11, kMremap = 25,
                      kGetpid = 39, kGetuid = 102, kClockGettime = 228, kOpenat = 257, kReadlinkat = 267,
                      kStatx = 332, kMseal = 462, kSchedYield = 24, kFaccessat = 269,
                      kMsync = 26, kMadvise = 28, kProcessVmReadv = 310, kMprotect = 10, kPersonality = 135,
                      kPread64 = 17, kPrlimit64 = 302, kSocket = 41, kConnect = 42, kSendto = 44, kPrctl = 157,
                      kMkdirat = 258, kUtimensat = 280, kGeteuid = 107;
#elif defined(__aarch64__)
inline constexpr long kRead = 63, kWrite = 64, kClose = 57, kMmap = 222, kMunmap = 215, kMremap = 216,
                      kGetpid = 172, kGetuid = 174, kClockGettime = 113, kOpenat = 56, kReadlinkat = 78,
                      kStatx = 291, kMseal = 462, kSchedYield = 124, kFaccessat = 48,
                      kMsync = 227, kMadvise = 233, kProcessVmReadv = 270, kMprotect = 226, kPersonality = 92,
                      kPread64 = 67, kPrlimit64 = 261, kSocket = 198, kConnect = 203, kSendto = 206, kPrctl = 167,
                      kMkdirat = 34, kUtimensat = 88, kGeteuid = 175;
#elif defined(__i386__)
// mmap is mmap2 (offset in pages; the runtime maps only at offset 0), getuid the
// 32-bit-uid getuid32 (geteuid32 likewise), clock_gettime the 32-bit-time one,
// the socket calls the direct ones of Linux 4.3 (not socketcall).
inline constexpr long kRead = 3, kWrite = 4, kOpen = 5, kClose = 6, kMmap = 192, kMunmap = 91, kMremap = 163,
                      kGetpid = 20, kGetuid = 199, kClockGettime = 265, kOpenat = 295, kReadlinkat = 305,
                      kStatx = 383, kMseal = 462, kSchedYield = 158, kFaccessat = 307,
                      kMsync = 144, kMadvise = 219, kProcessVmReadv = 347, kMprotect = 125, kPersonality = 136,
                      kPread64 = 180, kPrlimit64 = 340, kSocket = 359, kConnect = 362, kSendto = 369, kPrctl = 172,
                      kMkdirat = 296, kUtimensat = 320, kGeteuid = 201;
#else
#error "sealkit runtime: add this architecture's system call numbers"
#endif

// open(2) flags that differ between architectures (asm/fcntl.h); the rest
// (O_RDONLY, O_NONBLOCK, O_NOCTTY, O_CLOEXEC, O_APPEND, O_CREAT) are the same everywhere here.
#if defined(__aarch64__)
inline constexpr long kODirectory = 040000, kONofollow = 0100000;
#else
inline constexpr long kODirectory = 0200000, kONofollow = 0400000;
#endif
inline constexpr long kOPath = 010000000, kOCloexec = 02000000, kONonblock = 04000, kONoctty = 0400;
inline constexpr long kOWronly = 01, kOCreat = 0100, kOExcl = 0200, kOAppend = 02000;

inline int open_read(const char* path) {
  return static_cast<int>(call(kOpenat, -100 /* AT_FDCWD */, reinterpret_cast<long>(path), 02000000 /* O_RDONLY|O_CLOEXEC */));
}
// For files that are not /proc's: O_NONBLOCK so that a FIFO put in a file's
// place cannot hang the process in open.
inline int open_read_nonblock(const char* path) {
  return static_cast<int>(call(kOpenat, -100, reinterpret_cast<long>(path), 02000000 | 04000 /* O_NONBLOCK */ | 0400 /* O_NOCTTY */));
}
// openat(dirfd, name, flags): one path component at a time, for the checks
// that must see each directory (runtime/trusted_file.hpp).
inline int openat(int dirfd, const char* name, long flags, long mode = 0) {
  return static_cast<int>(call(kOpenat, dirfd, reinterpret_cast<long>(name), flags, mode));
}
// statx(dirfd, name, AT_SYMLINK_NOFOLLOW, mask, buf): what `name` itself is, a link included.
inline long statx_nofollow(int dirfd, const char* name, unsigned mask, void* buf) {
  return call6(kStatx, dirfd, reinterpret_cast<long>(name), 0x100 /* AT_SYMLINK_NOFOLLOW */, mask,
               reinterpret_cast<long>(buf), 0);
}
// statx(fd, "", AT_EMPTY_PATH, mask, buf): the layout is the same on every architecture.
inline long fstatx(int fd, unsigned mask, void* buf) {
  return call6(kStatx, fd, reinterpret_cast<long>(""), 0x1000 /* AT_EMPTY_PATH */, mask, reinterpret_cast<long>(buf), 0);
}
inline long getuid() { return call(kGetuid); }
inline long geteuid() { return call(kGeteuid); }
// This process's soft RLIMIT_FSIZE (prlimit64: the same 64-bit struct on every
// architecture); ~0 (RLIM_INFINITY) when there is none or it cannot be read.
inline std::uint64_t file_size_limit() {
  std::uint64_t lim[2] = {~std::uint64_t{0}, ~std::uint64_t{0}};  // rlim_cur, rlim_max
  if (call(kPrlimit64, 0, 1 /* RLIMIT_FSIZE */, 0, reinterpret_cast<long>(lim)) != 0) return ~std::uint64_t{0};
  return lim[0];
}
inline long read(int fd, void* buf, std::size_t n) { return call(kRead, fd, reinterpret_cast<long>(buf), static_cast<long>(n)); }
inline long write(int fd, const void* buf, std::size_t n) {
  return call(kWrite, fd, reinterpret_cast<long>(buf), static_cast<long>(n));
}
inline void close(int fd) { call(kClose, fd); }
// pread64(fd, buf, n, offset); on i386 the offset is passed as two 32-bit halves.
inline long pread(int fd, void* buf, std::size_t n, std::uint64_t offset) {
#if defined(__i386__)
  return call6(kPread64, fd, reinterpret_cast<long>(buf), static_cast<long>(n), static_cast<long>(offset & 0xffffffffu),
               static_cast<long>(offset >> 32), 0);
#else
  return call(kPread64, fd, reinterpret_cast<long>(buf), static_cast<long>(n), static_cast<long>(offset));
#endif
}
inline long readlink(const char* path, char* buf, std::size_t n) {
  return call(kReadlinkat, -100, reinterpret_cast<long>(path), reinterpret_cast<long>(buf), static_cast<long>(n));
}
inline long getpid() { return call(kGetpid); }
inline void sched_yield() { call(kSchedYield); }
// faccessat(AT_FDCWD, path, F_OK): whether path names something.
inline bool exists(const char* path) { return call(kFaccessat, -100, reinterpret_cast<long>(path), 0) == 0; }
inline void* mmap_anon(std::size_t len) {
  long r = call6(kMmap, 0, static_cast<long>(len), 3 /* PROT_READ|PROT_WRITE */, 0x22 /* MAP_PRIVATE|MAP_ANONYMOUS */, -1, 0);
  return failed(r) ? nullptr : reinterpret_cast<void*>(r);
}
inline void munmap(void* p, std::size_t len) { call(kMunmap, reinterpret_cast<long>(p), static_cast<long>(len)); }
// msync(MS_ASYNC) changes nothing (a no-op since Linux 2.6.19) and fails with
// ENOMEM exactly when part of the range is not mapped: the runtime's "is this
// page mapped". Not mincore, which answers the same: systemd's
// SystemCallFilter=@system-service allows msync and not mincore, and an
// allow-list filter kills a process for any call it does not list
// (docs/runtime.md, "Processes under a seccomp filter").
inline long msync_async(std::uintptr_t start, std::size_t len) {
  return call(kMsync, static_cast<long>(start), static_cast<long>(len), 1 /* MS_ASYNC */);
}
inline long madvise(std::uintptr_t start, std::size_t len, int advice) {
  return call(kMadvise, static_cast<long>(start), static_cast<long>(len), advice);
}
// Copies n bytes at `addr` of this process into buf: -EFAULT instead of a
// fault when they are not mapped or not readable.
// `self` is getpid(), asked once by the caller per pass (one system call per
// object would be two).
inline long read_own_memory(long self, std::uintptr_t addr, void* buf, std::size_t n) {
  struct {
    const void* base;
    std::size_t len;
  } local{buf, n}, remote{reinterpret_cast<const void*>(addr), n};
  return call6(kProcessVmReadv, self, reinterpret_cast<long>(&local), 1, reinterpret_cast<long>(&remote), 1, 0);
}
inline long mprotect(std::uintptr_t start, std::size_t len, unsigned prot) {
  return call(kMprotect, static_cast<long>(start), static_cast<long>(len), static_cast<long>(prot));
}
// READ_IMPLIES_EXEC in this process's personality (setarch -X; a 32-bit
// program without PT_GNU_STACK): the kernel then makes every readable mapping
// executable, mprotect included. personality(0xffffffff) only asks.
inline bool read_implies_exec() {
  const long p = call(kPersonality, 0xffffffffL);
  return p >= 0 && (p & 0x0400000) != 0;
}
// valgrind does not know mseal: it answers ENOSYS and prints a warning on the
// program's stderr for every call, -q or not. Its client request (a sequence
// of rotations that is a no-op on a real CPU) tells it is there, with no
// system call; the runtime then asks nothing and says nothing.
inline bool under_valgrind() {
#if SEALKIT_HAVE_VALGRIND_H
  return RUNNING_ON_VALGRIND != 0;
#else
  return false;
#endif
}
inline long mseal(std::uintptr_t start, std::size_t len) {
  if (under_valgrind()) return -38;  // ENOSYS, what valgrind would answer
  return call(kMseal, static_cast<long>(start), static_cast<long>(len), 0);
}

// CLOCK_REALTIME in seconds: what file times are compared with.
inline std::int64_t realtime_s() {
  struct {
    long sec, nsec;
  } ts{0, 0};
  call(kClockGettime, 0 /* CLOCK_REALTIME */, reinterpret_cast<long>(&ts));
  return ts.sec;
}

// CLOCK_MONOTONIC in nanoseconds, by system call (the vDSO is not ours to call).
inline std::uint64_t monotonic_ns() {
  struct {
    long sec, nsec;
  } ts{0, 0};
  call(kClockGettime, 1 /* CLOCK_MONOTONIC */, reinterpret_cast<long>(&ts));
  return static_cast<std::uint64_t>(ts.sec) * 1000000000u + static_cast<std::uint64_t>(ts.nsec);
}

}  // namespace sealkit::rt::sys
