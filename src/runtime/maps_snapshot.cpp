#include "runtime/maps_snapshot.hpp"

#include "runtime/sys.hpp"

namespace sealkit::rt {

MapsSnapshot::~MapsSnapshot() {
  if (entries_) sys::munmap(entries_, cap_bytes_);
}

bool MapsSnapshot::load() {
  if (!text_.load("/proc/self/maps")) return false;
  std::string_view t = text_.text();
  std::size_t lines = 1;
  for (char c : t) lines += c == '\n';
  cap_bytes_ = lines * sizeof(core::MapsEntry);
  entries_ = static_cast<core::MapsEntry*>(sys::mmap_anon(cap_bytes_));
  if (!entries_) return false;
  std::uintptr_t last_end = 0;
  while (!t.empty()) {
    std::size_t nl = t.find('\n');
    std::string_view line = t.substr(0, nl);
    t.remove_prefix(nl == std::string_view::npos ? t.size() : nl + 1);
    if (line.empty()) continue;
    auto e = core::parse_maps_line(line);
    // Out-of-order or overlapping lines mean a torn read: drop them rather
    // than feed a planner that relies on address order.
    if (!e || e->range.begin < last_end) {
      ++bad_;
      continue;
    }
    last_end = e->range.end;
    entries_[n_++] = *e;
  }
  return true;
}

const core::MapsEntry* MapsSnapshot::find(std::uintptr_t addr) const {
  std::size_t lo = 0, hi = n_;
  while (lo < hi) {
    std::size_t mid = lo + (hi - lo) / 2;
    if (entries_[mid].range.end <= addr) lo = mid + 1;
    else hi = mid;
  }
  return lo < n_ && entries_[lo].range.contains(addr) ? &entries_[lo] : nullptr;
}

}  // namespace sealkit::rt
