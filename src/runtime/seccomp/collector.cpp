#include "runtime/seccomp/collector.hpp"

#include <string_view>

#include "runtime/sys.hpp"

namespace sealkit::rt::seccomp {

namespace {

constexpr std::size_t kStorageBytes = 4096 * sizeof(SealedRange);

// mm/madvise.c's rule: discard advice is refused on a sealed VMA only when it
// is anonymous and not writable. Special mappings ([vdso], [vvar]) have their
// own vm_ops, so they are not anonymous to the kernel either.
bool discard_protected(const core::MapsEntry& e) {
  if (e.write || e.shared || e.inode != 0) return false;
  const std::string_view p = e.path;
  return p.empty() || p == "[heap]" || p == "[stack]" || p.substr(0, 6) == "[anon:";
}

}  // namespace

Collector::~Collector() {
  if (ranges_ != nullptr) sys::munmap(ranges_, kStorageBytes);
}

bool Collector::begin() {
  if (ranges_ == nullptr) ranges_ = static_cast<SealedRange*>(sys::mmap_anon(kStorageBytes));
  ready_ = ranges_ != nullptr && maps_.load();
  return ready_;
}

AddStatus Collector::add(core::Range r) {
  if (r.empty()) return AddStatus::kOk;
  if (!ready_) return AddStatus::kFull;
  // First check that every page is mapped, then add: all or nothing.
  std::uintptr_t at = r.begin;
  while (at < r.end) {
    const core::MapsEntry* e = maps_.find(at);
    if (e == nullptr) return AddStatus::kUnmapped;
    at = e->range.end;
  }
  const std::size_t mark = n_;
  const std::uintptr_t mark_end = n_ > 0 ? ranges_[n_ - 1].end : 0;  // the last range may be extended
  for (at = r.begin; at < r.end;) {
    const core::MapsEntry* e = maps_.find(at);
    const std::uintptr_t end = e->range.end < r.end ? e->range.end : r.end;
    const bool protect = discard_protected(*e);
    if (n_ > 0 && ranges_[n_ - 1].end == at && ranges_[n_ - 1].discard_protected == protect) {
      ranges_[n_ - 1].end = end;
    } else if (n_ == kCapacity) {
      n_ = mark;
      if (n_ > 0) ranges_[n_ - 1].end = mark_end;
      return AddStatus::kFull;
    } else {
      ranges_[n_++] = SealedRange{at, end, protect};
    }
    at = end;
  }
  return AddStatus::kOk;
}

}  // namespace sealkit::rt::seccomp
