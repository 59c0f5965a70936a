// The kernel backend: mseal(2) itself, and a side-effect-free way to ask the
// kernel whether one VMA is sealed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unistd.h>

#include "backend/kernel_abi.hpp"

namespace sealkit::backend::kernel {

// mseal(2) as a raw system call: 0, or -1 with errno. Inline, so that the
// seal path has no frame of its own between the system call and the C ABI
// function: each user-space return after a system call is measurably slow on
// machines with return-stack mitigations (docs/benchmarks.md).
inline int mseal(std::uintptr_t start, std::size_t len, unsigned long flags) noexcept {
  return static_cast<int>(::syscall(__NR_mseal, start, len, flags));
}

// Whether this kernel implements mseal: mseal(NULL, 0, 0) is a no-op that
// succeeds exactly where the system call exists (and no seccomp filter denies
// it). Tested once, then cached.
bool available() noexcept;
// The same, asked afresh each time (available() asks once per process).
bool exists() noexcept;

// Whether every page of [start, end) (page-aligned) is mapped: 0, ENOMEM for a
// hole, or another errno; errno itself is left as it was. msync(MS_ASYNC)
// walks the range's VMAs and fails with ENOMEM at the first hole, changing
// nothing (MS_ASYNC has written nothing since Linux 2.6.19). Not mincore:
// hardened services' allow-lists (systemd's @system-service) do not name it,
// and kill the process that calls it.
int check_mapped(std::uintptr_t start, std::uintptr_t end) noexcept;

enum class VmaState { kSealed, kUnsealed, kUnmapped, kUnknown };

// The seal state of the VMA that holds `page` (page-aligned).
//
// Why mremap: a same-size, non-moving mremap(page, ps, ps, 0) is a no-op on
// every kernel with mseal, but the kernel looks up the VMA and refuses a
// sealed one with EPERM before it notices that nothing would change
// (mm/mremap.c: do_mremap checks can_modify_vma before mremap_at's
// MREMAP_NO_RESIZE case). So it answers "is this VMA sealed" in one system
// call with nothing changed either way. Because that ordering is an
// implementation detail, probe_reliable() verifies it on a scratch mapping
// before any answer is trusted; where it does not hold, kUnknown is returned
// and callers fall back to /proc/self/smaps.
VmaState probe_vma(std::uintptr_t page) noexcept;

// The same mremap probe of one page, with no verification: for a caller that
// knows the refusal comes first whatever the kernel's ordering (a seccomp
// filter refuses before the system call runs: backend/seccomp/sealer.cpp).
VmaState probe_page_unverified(std::uintptr_t page) noexcept;
// The same for [start, start + len) inside one VMA (a filter checks the whole
// old range): kSealed when anything refuses any page of it.
VmaState probe_unverified(std::uintptr_t start, std::size_t len) noexcept;

// True when probe_vma() was verified on this kernel (sealed scratch page
// answers EPERM, unsealed one answers success). The check runs once and
// leaves one sealed page mapped for the life of the process, since a sealed
// page cannot be unmapped (it is named "sealkit-probe" where the kernel has
// CONFIG_ANON_VMA_NAME).
bool probe_reliable() noexcept;

}  // namespace sealkit::backend::kernel
