#include "runtime/system_extents.hpp"

#include "runtime/native_elf.hpp"
#include "runtime/sys.hpp"

namespace sealkit::rt {

namespace {

using sys::kPage;
constexpr std::uintptr_t kMaxStackPages = 2048;  // 8 MiB: the default RLIMIT_STACK
constexpr std::uintptr_t kTypicalStackPages = 33;
constexpr std::uintptr_t kMaxDataPages = 16;
constexpr std::uintptr_t kTypicalDataPages = 6;  // Linux 6.18 x86_64: 4 of [vvar], 2 of [vvar_vclock]

// Single pages are probed, not whole ranges (a range costs the kernel a page
// table walk): the extent found is sealed with one mseal, which fails with
// ENOMEM, sealing nothing, if a page in it is not mapped after all; the pass
// then takes the maps path for it.
bool mapped(std::uintptr_t page) { return sys::msync_async(page, kPage) == 0; }

// A page of a VM_PFNMAP or VM_IO mapping (system_extents.hpp).
bool kernel_data_page(std::uintptr_t page) { return sys::madvise(page, kPage, 22 /* MADV_POPULATE_READ */) == -EINVAL; }

// The largest n in [1, limit) with has(n), when has(n) holds exactly for n up
// to some bound: the typical n tried first, then doubling, then halving the
// interval. 0 when has(1) does not hold (asked only when has(typical) does
// not: below a page that has it, all do), or has(n) still holds at limit.
template <class Has>
std::uintptr_t largest(std::uintptr_t typical, std::uintptr_t limit, bool one_known, Has&& has) {
  std::uintptr_t yes = 1, no = 0;
  if (has(typical)) {
    yes = typical;
    if (!has(typical + 1)) no = typical + 1;
  } else {
    if (!one_known && !has(1)) return 0;
    no = typical;
  }
  for (std::uintptr_t n = 2 * typical; no == 0; n *= 2) {
    if (n >= limit) {
      if (has(limit)) return 0;
      no = limit;
    } else if (has(n)) {
      yes = n;
    } else {
      no = n;
    }
  }
  while (no - yes > 1) {
    const std::uintptr_t mid = yes + (no - yes) / 2;
    (has(mid) ? yes : no) = mid;
  }
  return yes;
}

}  // namespace

bool find_stack_without_proc(std::uintptr_t execfn, core::Range& out) {
  if (execfn == 0) return false;
  const char* name = reinterpret_cast<const char*>(execfn);
  std::uintptr_t len = 0;
  while (name[len] != '\0' && len < kPage) ++len;
  const std::uintptr_t top = execfn + len + 1 + 8;
  if (len == kPage || top % kPage != 0 || top / kPage <= kMaxStackPages) return false;  // changed since exec: ask
  // The string just read is in the top page: mapped. The page above must not be.
  if (mapped(top)) return false;
  const std::uintptr_t pages = largest(kTypicalStackPages, kMaxStackPages, true, [top](std::uintptr_t n) {
    return mapped(top - n * kPage);
  });
  if (pages == 0) return false;
  out = core::Range{top - pages * kPage, top};
  return true;
}

bool find_vdso_without_proc(std::uintptr_t vdso_ehdr, core::Range& out) {
  if (vdso_ehdr == 0 || vdso_ehdr % kPage != 0 || vdso_ehdr / kPage <= kMaxDataPages) return false;
  const auto* eh = reinterpret_cast<const NativeEhdr*>(vdso_ehdr);
  if (eh->e_ident[EI_MAG0] != ELFMAG0 || eh->e_ident[EI_MAG1] != ELFMAG1 || eh->e_ident[EI_MAG2] != ELFMAG2 ||
      eh->e_ident[EI_MAG3] != ELFMAG3 || eh->e_ident[EI_CLASS] != kNativeElfClass || eh->e_shoff == 0 ||
      eh->e_shentsize == 0 || eh->e_shnum == 0 || eh->e_phoff == 0 || eh->e_phentsize != sizeof(NativePhdr))
    return false;
  // The image's length: its section headers come last; no PT_LOAD reaches past them.
  std::uintptr_t length = eh->e_shoff + std::uintptr_t{eh->e_shnum} * eh->e_shentsize;
  const auto* ph = reinterpret_cast<const NativePhdr*>(vdso_ehdr + eh->e_phoff);
  for (unsigned i = 0; i < eh->e_phnum; ++i) {
    if (ph[i].p_type == PT_LOAD && ph[i].p_offset + ph[i].p_filesz > length) return false;
  }
  length = (length + kPage - 1) / kPage * kPage;
  if (length > 64 * kPage) return false;
  const std::uintptr_t pages = largest(kTypicalDataPages, kMaxDataPages, false, [vdso_ehdr](std::uintptr_t n) {
    return kernel_data_page(vdso_ehdr - n * kPage);
  });
  if (pages == 0) return false;
  out = core::Range{vdso_ehdr - pages * kPage, vdso_ehdr + length};
  return true;
}

}  // namespace sealkit::rt
