// sealkit_mseal and sealkit_set_mode.
#include <cerrno>
#include <sys/mman.h>

#include "backend/kernel.hpp"
#include "backend/seccomp/sealer.hpp"
#include "lib/backend_choice.hpp"
#include "core/mseal_args.hpp"
#include "core/page.hpp"
#include "lib/seal.hpp"
#include "lib/sealable.hpp"
#include "sealkit/sealkit.h"

namespace sealkit::lib {

int seal_range_slow(std::uintptr_t addr, std::size_t len, unsigned long flags) noexcept {
  switch (chosen_backend()) {
    case Backend::kKernel: return backend::kernel::mseal(addr, len, flags) != 0 ? errno : 0;
    case Backend::kSeccomp: return backend::seccomp::seal(addr, len, flags);
    case Backend::kUnchosen:
    case Backend::kNone: break;
  }
  return ENOSYS;  // as the missing system call would
}

int seal_range_v8(std::uintptr_t addr, std::size_t len, unsigned long flags) noexcept {
  // The kernel's own input checks come first, then the v8 rule. ENOMEM
  // (an unmapped page) is reported before EACCES when both apply.
  if (chosen_backend() == Backend::kNone) return ENOSYS;  // as the missing system call would
  const auto args = core::check_mseal_args<std::uintptr_t>(addr, len, flags, core::page_size());
  if (args.error != 0) return args.error;
  if (args.empty()) return 0;
  const int saved = errno;  // the registry and dl_iterate_phdr may set it on success
  if (int e = check_v8_rule({args.start, args.end})) return e;
  errno = saved;
  return seal_range_slow(addr, len, flags);
}

}  // namespace sealkit::lib

extern "C" int sealkit_mseal(void* addr, size_t len, unsigned long flags) {
  // errno is written only on failure: on success seal_range leaves it as it
  // was, and not touching it keeps this wrapper within a few instructions of
  // the raw system call (docs/benchmarks.md).
  if (int e = sealkit::lib::seal_range(reinterpret_cast<std::uintptr_t>(addr), len, flags, false)) {
    errno = e;
    return -1;
  }
  return 0;
}

extern "C" int sealkit_set_mode(int mode) {
  if (mode != SEALKIT_MODE_UPSTREAM && mode != SEALKIT_MODE_V8) {
    errno = EINVAL;
    return -1;
  }
  return sealkit::lib::exchange_mode(mode);
}
