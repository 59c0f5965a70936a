// Sealed ranges gathered for one seccomp filter, checked and classified
// against one reading of /proc/self/maps, the way the kernel's mseal would see
// them: every page must be mapped (else ENOMEM, nothing added), and a piece is
// discard-protected when its VMA is anonymous (private, no file, not shmem)
// and not writable, which a seal makes permanent (docs/seccomp.md, "The
// library's backend" uses the same rule). 6.1 has no PROCMAP_QUERY, so the
// text is the one source that works on every kernel this backend is for.
//
// No libc and no allocation beyond mmap: the polyfill's SIGSYS handler uses it.
#pragma once

#include <cstddef>

#include "core/range.hpp"
#include "runtime/maps_snapshot.hpp"
#include "runtime/seccomp/install.hpp"

namespace sealkit::rt::seccomp {

enum class AddStatus { kOk, kUnmapped, kFull };

class Collector {
 public:
  Collector() = default;
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;
  ~Collector();

  // Reads the maps and maps the range storage; false when either fails.
  bool begin();
  // Adds the page-aligned range r (split at VMAs whose discard rule differs;
  // touching pieces of the same kind merged). Nothing is added unless it all is.
  AddStatus add(core::Range r);
  bool ready() const { return ready_; }
  // The maps it checks against (valid when ready()): the pass's one reading.
  const MapsSnapshot& maps() const { return maps_; }
  std::size_t size() const { return n_; }
  // One filter for everything added (see install_filter).
  FilterResult install(bool with_policy, SharerCheck check = SharerCheck::kLook) {
    return install_filter(ranges_, n_, with_policy, check);
  }

 private:
  static constexpr std::size_t kCapacity = 4096;  // backend::seccomp::kMaxRanges
  MapsSnapshot maps_;
  SealedRange* ranges_ = nullptr;
  std::size_t n_ = 0;
  bool ready_ = false;
};

}  // namespace sealkit::rt::seccomp
