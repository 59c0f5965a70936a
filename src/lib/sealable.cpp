#include "lib/sealable.hpp"

#include <atomic>
#include <cerrno>
#include <mutex>
#include <sys/mman.h>

#include "backend/kernel.hpp"
#include "core/loaded_objects.hpp"
#include "core/page.hpp"
#include "sealkit/sealkit.h"

namespace sealkit::lib {

namespace {
std::atomic<int> g_mode{SEALKIT_MODE_UPSTREAM};
std::mutex g_mu;
core::RangeSet& registry() {
  static core::RangeSet* r = new core::RangeSet;  // never destroyed: usable from other destructors
  return *r;
}
}  // namespace

int current_mode() noexcept { return g_mode.load(std::memory_order_relaxed); }
int exchange_mode(int mode) noexcept { return g_mode.exchange(mode); }

bool note_new_mapping(core::Range r, bool sealable) noexcept {
  try {
    std::lock_guard lock(g_mu);
    core::RangeSet& reg = registry();
    // erase() rebuilds the whole set; most new mappings replace nothing that
    // is registered, and the cheap test keeps sealkit_mmap close to plain
    // mmap (docs/benchmarks.md).
    if (reg.intersects(r)) reg.erase(r);
    if (sealable) reg.insert(r);
    return true;
  } catch (...) {
    return false;
  }
}

int check_v8_rule(core::Range r) noexcept {
  if (int e = backend::kernel::check_mapped(r.begin, r.end)) return e;
  try {
    core::RangeSet ok;
    {
      std::lock_guard lock(g_mu);
      for (const core::Range& x : registry().ranges())
        if (x.overlaps(r)) ok.insert(x);
    }
    if (ok.covers(r)) return 0;
    for (const core::LoadedObject& o : core::loaded_objects()) ok.insert(o.span);
    return ok.covers(r) ? 0 : EACCES;
  } catch (...) {
    return ENOMEM;
  }
}

}  // namespace sealkit::lib
