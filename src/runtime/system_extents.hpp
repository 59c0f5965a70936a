// Where the main thread's stack and the kernel's vDSO pages lie, found without
// /proc. The start-up pass needs both extents exactly (a seal must cover whole
// VMAs), and PROCMAP_QUERY needs an open /proc/self/maps: the first /proc/self
// lookup of a new process costs ~20 us, 3% of a spawn of /bin/true, the single
// dearest step of the pass (docs/benchmarks.md, "The machine-wide object at
// process start"). Each function says false when what it finds does not check
// out, and the pass then asks PROCMAP_QUERY.
#pragma once

#include <cstdint>

#include "core/range.hpp"

namespace sealkit::rt {

// The main thread's stack VMA. Its top: the kernel copies the executable's
// name (AT_EXECFN) to the very top of the new stack, followed by one 8-byte
// word (fs/exec.c, bprm->p starts at vm_end - sizeof(void *) of the 64-bit
// kernel), so the string's end plus 8 is the VMA's end, page-aligned; the page
// above must be unmapped. Its bottom: the lowest address from which every page
// up to the top is mapped (msync says ENOMEM over a range with a hole); the
// kernel keeps a guard gap of unmapped pages below a stack (stack_guard_gap,
// 1 MiB), so the first hole below is the stack's end. At most 8 MiB deep.
bool find_stack_without_proc(std::uintptr_t execfn, core::Range& out);

// The vDSO's VMA and the kernel's data pages right below it ([vvar],
// [vvar_vclock]; every kernel that has them maps them there). The data pages
// are VM_PFNMAP|VM_IO mappings, which madvise(MADV_POPULATE_READ) refuses
// with EINVAL, and which nothing else at start-up is; an ordinary page below
// them is populated, which changes nothing the program can see. The vDSO's
// own size is its image's: the section header table ends it (vdso2c maps the
// stripped file, page-rounded). At most 16 data pages.
bool find_vdso_without_proc(std::uintptr_t vdso_ehdr, core::Range& out);

}  // namespace sealkit::rt
