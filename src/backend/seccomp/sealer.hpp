// mseal(2) and "is it sealed" on the seccomp backend: what the library calls
// when it seals with filters (docs/seccomp.md, "The library's backend").
#pragma once

#include <cstddef>
#include <cstdint>

namespace sealkit::backend::seccomp {

// Whether filters can be installed in this process: nullptr when they can, else
// why not (for `sealkit probe`). Does not install anything or set no_new_privs.
// Under a filter some other program installed, asks in a child first
// (existing_filter.hpp). Decided once per process.
const char* unusable_reason() noexcept;

// mseal(addr, len, flags) with the kernel's validation and errnos, then one new
// filter (all threads) for the pieces no filter enforces yet (asked of the
// filters themselves, not of memory). 0, or an errno value (EINVAL, ENOMEM for
// an unmapped page or an exhausted filter budget, EACCES without
// no_new_privs, EAGAIN when TSYNC fails, EBUSY when a task outside the thread
// group shares the address space, or whether one does cannot be told:
// mm_sharers.hpp). On failure no filter was added, except for EBUSY found only
// after the install (a task made meanwhile). Serialized internally.
int seal(std::uintptr_t addr, std::size_t len, unsigned long flags) noexcept;

// For a page-aligned, non-empty span: 1 when every page is refused by the
// enforcement (this library's filters, the runtime's, a supervisor, the
// kernel's mseal) and every task sharing the address space is bound; 0 when
// not; -1 with errno ENOMEM for an unmapped page.
int is_sealed(std::uintptr_t start, std::uintptr_t end) noexcept;

}  // namespace sealkit::backend::seccomp
