// mseal(2)'s own argument checks, in the kernel's order (mm/mseal.c): flags
// must be 0 and the start page-aligned; the length is rounded up to pages,
// and a rounding or an end that wraps is EINVAL; an empty range is a
// success that seals nothing. Every sealer of the project (the library's
// kernel and seccomp paths, the runtime's polyfill) answers these the same
// way, from here. Freestanding: no libc, usable in the injected runtime.
#pragma once

#include <asm-generic/errno-base.h>

#include <cstdint>

namespace sealkit::core {

// `error` is 0 or EINVAL; with 0, [start, end) is the page range to seal
// (empty when start == end: nothing to do).
template <class U>
struct MsealArgs {
  int error;
  U start;
  U end;
  constexpr bool empty() const noexcept { return start == end; }
};

// U is the width of an address for the caller (std::uintptr_t, or the
// 64-bit registers the polyfill reads); `page` a power of two.
template <class U>
constexpr MsealArgs<U> check_mseal_args(U addr, U len, std::uint64_t flags, U page) noexcept {
  const U mask = page - 1;
  if (flags != 0 || (addr & mask) != 0) return {EINVAL, 0, 0};
  const U rounded = static_cast<U>(len + mask) & ~mask;
  if (len != 0 && rounded == 0) return {EINVAL, 0, 0};  // the rounding wrapped
  const U end = static_cast<U>(addr + rounded);
  if (end < addr) return {EINVAL, 0, 0};  // the end wrapped
  return {0, addr, end};
}

}  // namespace sealkit::core
