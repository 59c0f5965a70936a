// The raw system calls of the registration client (registration.cpp), which
// must also run inside the libc-free runtime: the numbers it needs, the
// convention from core/raw_syscall.hpp. No libc, no errno, -errno on failure.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/raw_syscall.hpp"

namespace sealkit::backend::seccomp::rawsys {

#if defined(__x86_64__)
inline constexpr long kRead = 0, kWrite = 1, kClose = 3, kMmap = 9, kMprotect = 10, kMunmap = 11, kSendmsg = 46, kRecvmsg = 47,
                      kSocketpair = 53, kSetsockopt = 54, kGetsockopt = 55, kFcntl = 72, kFtruncate = 77,
                      kGetppid = 110, kGetuid = 102, kPrctl = 157, kOpenat = 257, kGetrandom = 318,
                      kMemfdCreate = 319;
#else
// The filter is generated for x86_64 only (docs/seccomp.md); nothing registers
// elsewhere: number -1 makes every call ENOSYS.
inline constexpr long kRead = -1, kWrite = -1, kClose = -1, kMmap = -1, kMprotect = -1, kMunmap = -1, kSendmsg = -1, kRecvmsg = -1,
                      kSocketpair = -1, kSetsockopt = -1, kGetsockopt = -1, kFcntl = -1, kFtruncate = -1,
                      kGetppid = -1, kGetuid = -1, kPrctl = -1, kOpenat = -1, kGetrandom = -1, kMemfdCreate = -1;
#endif

using core::raw::call;
using core::raw::call6;
using core::raw::failed;
inline long as_long(const void* p) noexcept { return reinterpret_cast<long>(p); }

}  // namespace sealkit::backend::seccomp::rawsys
