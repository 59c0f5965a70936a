#include "lib/sealable.hpp"

#include <atomic>
#include <cerrno>
#include <mutex>
#include <sys/mman.h>

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

namespace {

// ENOMEM when any page of the page-aligned range is unmapped: msync with
// MS_ASYNC fails so exactly then, and changes nothing. Not mincore(2), which
// hardened services' system call allow-lists do not name (a call they do not
// name kills the process).
int check_mapped(core::Range r) noexcept {
  if (::msync(reinterpret_cast<void*>(r.begin), r.end - r.begin, MS_ASYNC) != 0) return errno;
  return 0;
}

}  // namespace

int check_v8_rule(core::Range r) noexcept {
  if (int e = check_mapped(r)) return e;
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
