// Raw x86_64 system calls for the registration client (registration.cpp),
// which must also run inside the libc-free runtime (src/runtime/sys.hpp has the
// same convention): no libc, no errno, -errno returned on failure.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sealkit::backend::seccomp::rawsys {

#if defined(__x86_64__)
inline long call6(long n, long a, long b, long c, long d, long e, long f) noexcept {
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}
inline constexpr long kWrite = 1, kClose = 3, kMmap = 9, kMunmap = 11, kSendmsg = 46, kRecvmsg = 47,
                      kSocketpair = 53, kSetsockopt = 54, kFcntl = 72, kFtruncate = 77, kGetrandom = 318,
                      kMemfdCreate = 319;
#else
// The filter is generated for x86_64 only (docs/seccomp.md); nothing registers elsewhere.
inline long call6(long, long, long, long, long, long, long) noexcept { return -38; /* ENOSYS */ }
inline constexpr long kWrite = -1, kClose = -1, kMmap = -1, kMunmap = -1, kSendmsg = -1, kRecvmsg = -1,
                      kSocketpair = -1, kSetsockopt = -1, kFcntl = -1, kFtruncate = -1, kGetrandom = -1,
                      kMemfdCreate = -1;
#endif

inline long call(long n, long a = 0, long b = 0, long c = 0, long d = 0) noexcept { return call6(n, a, b, c, d, 0, 0); }
inline bool failed(long r) noexcept { return r < 0 && r > -4096; }
inline long as_long(const void* p) noexcept { return reinterpret_cast<long>(p); }

}  // namespace sealkit::backend::seccomp::rawsys
