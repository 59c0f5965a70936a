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
inline constexpr long kRtSigaction = 13, kMadvise = 28, kCapget = 125, kPrctl = 157, kSeccomp = 317,
                      kIoUringSetup = 425, kMseal = 462;
#else
inline constexpr bool kSupported = false;
inline constexpr long kRtSigaction = -1, kMadvise = -1, kCapget = -1, kPrctl = -1, kSeccomp = -1,
                      kIoUringSetup = -1, kMseal = 462;
#endif

inline constexpr long kPrSetNoNewPrivs = 38, kPrGetNoNewPrivs = 39;
inline constexpr long kSeccompSetModeFilter = 1, kSeccompGetActionAvail = 2;
inline constexpr long kSeccompFilterFlagTsync = 1;

inline void* mmap_anon(std::size_t len) { return rt::sys::mmap_anon(len); }
inline void munmap(void* p, std::size_t len) { rt::sys::munmap(p, len); }

// Whether the calling thread has CAP_SYS_ADMIN in its effective set (capget,
// _LINUX_CAPABILITY_VERSION_3: two 32-bit words of each set).
inline bool has_cap_sys_admin() {
  struct {
    std::uint32_t version;
    int pid;
  } header{0x20080522, 0};
  struct {
    std::uint32_t effective, permitted, inheritable;
  } data[2] = {};
  if (call(kCapget, reinterpret_cast<long>(&header), reinterpret_cast<long>(data)) != 0) return false;
  constexpr unsigned kCapSysAdmin = 21;
  return (data[kCapSysAdmin / 32].effective >> (kCapSysAdmin % 32)) & 1u;
}

}  // namespace sealkit::rt::seccomp::sys
