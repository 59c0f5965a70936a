// The one path every seal in the library takes: the mseal contract (input
// checks, the V8 rule, the backend call).
#pragma once

#include <cstddef>
#include <cstdint>

namespace sealkit::lib {

// Seal [addr, addr+len) with mseal(2)'s contract. `v8_sealable_known` skips
// the V8-mode registry check for memory the caller just created sealable.
// 0, or an errno value.
int seal_range(std::uintptr_t addr, std::size_t len, unsigned long flags, bool v8_sealable_known) noexcept;

}  // namespace sealkit::lib
