// The raw system calls the runtime's seccomp backend needs beyond
// runtime/sys.hpp. x86_64 only: the filter generator guards the x86_64 ABI
// (docs/seccomp.md), so on any other architecture the runtime never picks
// this backend and these are never called.
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/sys.hpp"

namespace sealkit::rt::seccomp::sys {

using rt::sys::call;
using rt::sys::call6;

#if defined(__x86_64__)
inline constexpr bool kSupported = true;
inline constexpr long kRtSigaction = 13, kMadvise = 28, kPrctl = 157, kSeccomp = 317,
                      kIoUringSetup = 425, kMseal = 462;
#else
inline constexpr bool kSupported = false;
inline constexpr long kRtSigaction = -1, kMadvise = -1, kPrctl = -1, kSeccomp = -1,
                      kIoUringSetup = -1, kMseal = 462;
#endif

inline constexpr long kPrGetNoNewPrivs = 39;
inline constexpr long kSeccompGetActionAvail = 2;

inline void* mmap_anon(std::size_t len) { return rt::sys::mmap_anon(len); }
inline void munmap(void* p, std::size_t len) { rt::sys::munmap(p, len); }

}  // namespace sealkit::rt::seccomp::sys
