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

// The system call numbers are the kernel's __NR_* (core/raw_syscall.hpp).
// Where an architecture's call of that name is not the one the runtime
// means, the helpers below pick it: i386's mmap is old_mmap (arguments in
// memory), so mmap2 (offset in pages; the runtime maps only at offset 0), and
// its getuid/geteuid return 16-bit ids, so getuid32/geteuid32. i386's
// __NR_clock_gettime is the 32-bit-time one and its __NR_socket, connect and
// sendto the direct calls of Linux 4.3 (not socketcall).
#if !defined(__x86_64__) && !defined(__aarch64__) && !defined(__i386__)
#error "sealkit runtime: check this architecture's system calls (core/raw_syscall.hpp, the helpers below)"
#endif
#if defined(__i386__)
inline constexpr long kNrMmap = __NR_mmap2, kNrGetuid = __NR_getuid32, kNrGeteuid = __NR_geteuid32;
#else
inline constexpr long kNrMmap = __NR_mmap, kNrGetuid = __NR_getuid, kNrGeteuid = __NR_geteuid;
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
inline constexpr long kAtFdcwd = -100;  // AT_FDCWD: a path relative to the working directory

// The page the runtime rounds segments to, probes and seals in: 4 KiB, the
// page of x86_64, i386 and the aarch64 kernels it seals on.
inline constexpr std::uintptr_t kPage = 4096;

inline int open_read(const char* path) {
  return static_cast<int>(call(__NR_openat, kAtFdcwd, reinterpret_cast<long>(path), kOCloexec /* O_RDONLY */));
}
// For files that are not /proc's: O_NONBLOCK so that a FIFO put in a file's
// place cannot hang the process in open.
inline int open_read_nonblock(const char* path) {
  return static_cast<int>(call(__NR_openat, kAtFdcwd, reinterpret_cast<long>(path), kOCloexec | kONonblock | kONoctty));
}
// openat(dirfd, name, flags): one path component at a time, for the checks
// that must see each directory (runtime/trusted_file.hpp).
inline int openat(int dirfd, const char* name, long flags, long mode = 0) {
  return static_cast<int>(call(__NR_openat, dirfd, reinterpret_cast<long>(name), flags, mode));
}
// statx(dirfd, name, AT_SYMLINK_NOFOLLOW, mask, buf): what `name` itself is, a link included.
inline long statx_nofollow(int dirfd, const char* name, unsigned mask, void* buf) {
  return call6(__NR_statx, dirfd, reinterpret_cast<long>(name), 0x100 /* AT_SYMLINK_NOFOLLOW */, mask,
               reinterpret_cast<long>(buf), 0);
}
// statx(fd, "", AT_EMPTY_PATH, mask, buf): the layout is the same on every architecture.
inline long fstatx(int fd, unsigned mask, void* buf) {
  return call6(__NR_statx, fd, reinterpret_cast<long>(""), 0x1000 /* AT_EMPTY_PATH */, mask, reinterpret_cast<long>(buf), 0);
}
inline long getuid() { return call(kNrGetuid); }
inline long geteuid() { return call(kNrGeteuid); }
// This process's soft RLIMIT_FSIZE (prlimit64: the same 64-bit struct on every
// architecture); ~0 (RLIM_INFINITY) when there is none or it cannot be read.
inline std::uint64_t file_size_limit() {
  std::uint64_t lim[2] = {~std::uint64_t{0}, ~std::uint64_t{0}};  // rlim_cur, rlim_max
  if (call(__NR_prlimit64, 0, 1 /* RLIMIT_FSIZE */, 0, reinterpret_cast<long>(lim)) != 0) return ~std::uint64_t{0};
  return lim[0];
}
inline long read(int fd, void* buf, std::size_t n) { return call(__NR_read, fd, reinterpret_cast<long>(buf), static_cast<long>(n)); }
inline long write(int fd, const void* buf, std::size_t n) {
  return call(__NR_write, fd, reinterpret_cast<long>(buf), static_cast<long>(n));
}
inline void close(int fd) { call(__NR_close, fd); }
// pread64(fd, buf, n, offset); on i386 the offset is passed as two 32-bit halves.
inline long pread(int fd, void* buf, std::size_t n, std::uint64_t offset) {
#if defined(__i386__)
  return call6(__NR_pread64, fd, reinterpret_cast<long>(buf), static_cast<long>(n), static_cast<long>(offset & 0xffffffffu),
               static_cast<long>(offset >> 32), 0);
#else
  return call(__NR_pread64, fd, reinterpret_cast<long>(buf), static_cast<long>(n), static_cast<long>(offset));
#endif
}
inline long readlink(const char* path, char* buf, std::size_t n) {
  return call(__NR_readlinkat, kAtFdcwd, reinterpret_cast<long>(path), reinterpret_cast<long>(buf), static_cast<long>(n));
}
inline long getpid() { return call(__NR_getpid); }
inline void sched_yield() { call(__NR_sched_yield); }
// faccessat(AT_FDCWD, path, F_OK): whether path names something.
inline bool exists(const char* path) { return call(__NR_faccessat, kAtFdcwd, reinterpret_cast<long>(path), 0) == 0; }
// mmap(hint, len, prot, flags, -1, 0): anonymous memory; the kernel's value.
inline long mmap_anon_at(std::uintptr_t hint, std::size_t len, long prot, long flags) {
  return call6(kNrMmap, static_cast<long>(hint), static_cast<long>(len), prot, flags, -1, 0);
}
inline void* mmap_anon(std::size_t len) {
  long r = mmap_anon_at(0, len, 3 /* PROT_READ|PROT_WRITE */, 0x22 /* MAP_PRIVATE|MAP_ANONYMOUS */);
  return failed(r) ? nullptr : reinterpret_cast<void*>(r);
}
inline void munmap(void* p, std::size_t len) { call(__NR_munmap, reinterpret_cast<long>(p), static_cast<long>(len)); }
// msync(MS_ASYNC) changes nothing (a no-op since Linux 2.6.19) and fails with
// ENOMEM exactly when part of the range is not mapped: the runtime's "is this
// page mapped". Not mincore, which answers the same: systemd's
// SystemCallFilter=@system-service allows msync and not mincore, and an
// allow-list filter kills a process for any call it does not list
// (docs/runtime.md, "Processes under a seccomp filter").
inline long msync_async(std::uintptr_t start, std::size_t len) {
  return call(__NR_msync, static_cast<long>(start), static_cast<long>(len), 1 /* MS_ASYNC */);
}
inline long madvise(std::uintptr_t start, std::size_t len, int advice) {
  return call(__NR_madvise, static_cast<long>(start), static_cast<long>(len), advice);
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
  return call6(__NR_process_vm_readv, self, reinterpret_cast<long>(&local), 1, reinterpret_cast<long>(&remote), 1, 0);
}
inline long mprotect(std::uintptr_t start, std::size_t len, unsigned prot) {
  return call(__NR_mprotect, static_cast<long>(start), static_cast<long>(len), static_cast<long>(prot));
}
// READ_IMPLIES_EXEC in this process's personality (setarch -X; a 32-bit
// program without PT_GNU_STACK): the kernel then makes every readable mapping
// executable, mprotect included. personality(0xffffffff) only asks.
inline bool read_implies_exec() {
  const long p = call(__NR_personality, 0xffffffffL);
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
  if (under_valgrind()) return -ENOSYS;  // what valgrind would answer
  return call(__NR_mseal, static_cast<long>(start), static_cast<long>(len), 0);
}

// CLOCK_REALTIME in seconds: what file times are compared with.
inline std::int64_t realtime_s() {
  struct {
    long sec, nsec;
  } ts{0, 0};
  call(__NR_clock_gettime, 0 /* CLOCK_REALTIME */, reinterpret_cast<long>(&ts));
  return ts.sec;
}

// CLOCK_MONOTONIC in nanoseconds, by system call (the vDSO is not ours to call).
inline std::uint64_t monotonic_ns() {
  struct {
    long sec, nsec;
  } ts{0, 0};
  call(__NR_clock_gettime, 1 /* CLOCK_MONOTONIC */, reinterpret_cast<long>(&ts));
  return static_cast<std::uint64_t>(ts.sec) * 1000000000u + static_cast<std::uint64_t>(ts.nsec);
}

}  // namespace sealkit::rt::sys
