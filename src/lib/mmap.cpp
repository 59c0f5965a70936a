// sealkit_mmap and sealkit_mprotect: the v8 PROT_SEAL / MAP_SEALABLE API on
// top of plain mmap(2), mprotect(2) and mseal(2).
#include <cerrno>
#include <sys/mman.h>

#include "lib/backend_choice.hpp"
#include "core/page.hpp"
#include "lib/seal.hpp"
#include "lib/sealable.hpp"
#include "sealkit/sealkit.h"

namespace {

// With MAP_HUGETLB, flag bits 26..31 are the huge page size (MAP_HUGE_SHIFT),
// and bit 27 is part of it: there the bit belongs to the kernel.
bool wants_sealable(int flags) noexcept {
  return (flags & MAP_HUGETLB) == 0 && (flags & SEALKIT_MAP_SEALABLE) != 0;
}

int strip_flags(int flags) noexcept {
  return (flags & MAP_HUGETLB) ? flags : (flags & ~SEALKIT_MAP_SEALABLE);
}

}  // namespace

extern "C" void* sealkit_mmap(void* addr, size_t len, int prot, int flags, int fd, off_t off) {
  const bool seal = (prot & SEALKIT_PROT_SEAL) != 0;
  const bool sealable = seal || wants_sealable(flags);
  void* p = ::mmap(addr, len, prot & ~SEALKIT_PROT_SEAL, strip_flags(flags), fd, off);
  if (p == MAP_FAILED) return p;

  const auto start = reinterpret_cast<std::uintptr_t>(p);
  const auto span = sealkit::core::page_span(start, len, sealkit::core::page_size());
  // mmap succeeded, so the span cannot wrap.
  if (!sealkit::lib::note_new_mapping({span->start, span->end}, sealable)) {
    ::munmap(p, len);
    errno = ENOMEM;
    return MAP_FAILED;
  }
  if (seal) {
    if (int e = sealkit::lib::seal_range(start, len, 0, /*v8_sealable_known=*/true)) {
      // Never hand out a mapping that was asked to be sealed and is not.
      ::munmap(p, len);
      sealkit::lib::note_new_mapping({span->start, span->end}, false);
      errno = e;
      return MAP_FAILED;
    }
  }
  return p;
}

extern "C" int sealkit_mprotect(void* addr, size_t len, int prot) {
  if ((prot & SEALKIT_PROT_SEAL) == 0) return ::mprotect(addr, len, prot);

  // Where nothing can seal, fail before the protection changes.
  if (sealkit::lib::chosen_backend() == sealkit::lib::Backend::kNone) {
    errno = ENOSYS;
    return -1;
  }
  const auto start = reinterpret_cast<std::uintptr_t>(addr);
  // The v8 rule is checked before the protection changes, so that a range
  // that may not be sealed is left exactly as it was.
  if (sealkit::lib::current_mode() == SEALKIT_MODE_V8) {
    auto span = sealkit::core::page_span(start, len, sealkit::core::page_size());
    if (span && span->start < span->end) {
      if (int e = sealkit::lib::check_v8_rule({span->start, span->end})) {
        errno = e;
        return -1;
      }
    }
  }
  if (::mprotect(addr, len, prot & ~SEALKIT_PROT_SEAL) != 0) return -1;
  if (int e = sealkit::lib::seal_range(start, len, 0, /*v8_sealable_known=*/true)) {
    errno = e;
    return -1;
  }
  return 0;
}
