// The one path every seal in the library takes: the mseal contract (input
// checks, the V8 rule, the backend call).
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>

#include "backend/kernel.hpp"
#include "lib/backend_choice.hpp"
#include "lib/sealable.hpp"
#include "sealkit/sealkit.h"

namespace sealkit::lib {

// Every backend but the kernel's (the seccomp filter, or ENOSYS when nothing
// can seal), and the first seal of the process, which makes the choice: out
// of line, so the kernel path stays small. 0 or an errno value.
int seal_range_slow(std::uintptr_t addr, std::size_t len, unsigned long flags) noexcept;

// SEALKIT_MODE_V8's path for memory not known to be sealable: the kernel's
// own input checks, the v8 rule, then the seal. 0, or an errno value.
int seal_range_v8(std::uintptr_t addr, std::size_t len, unsigned long flags) noexcept;

// Seal [addr, addr+len) with mseal(2)'s contract. `v8_sealable_known` skips
// the V8-mode registry check for memory the caller just created sealable.
// 0, or an errno value; errno is left alone on success. Inline: in upstream
// mode this is the system call plus one mode check and one cached backend
// check, and it adds no return of its own after the system call
// (docs/benchmarks.md).
inline int seal_range(std::uintptr_t addr, std::size_t len, unsigned long flags, bool v8_sealable_known) noexcept {
  if (!v8_sealable_known && current_mode() == SEALKIT_MODE_V8) return seal_range_v8(addr, len, flags);
  if (!kernel_backend_chosen()) [[unlikely]] return seal_range_slow(addr, len, flags);
  if (backend::kernel::mseal(addr, len, flags) != 0) return errno;
  return 0;
}

}  // namespace sealkit::lib
