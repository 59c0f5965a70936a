#include "core/range.hpp"

#include <algorithm>

namespace sealkit::core {

namespace {
// First range whose end is >= a (candidates to touch or follow a).
auto first_ending_at_or_after(std::vector<Range>& v, std::uintptr_t a) {
  return std::lower_bound(v.begin(), v.end(), a, [](const Range& r, std::uintptr_t x) { return r.end < x; });
}
}  // namespace

void RangeSet::insert(Range r) {
  if (r.empty()) return;
  auto first = first_ending_at_or_after(ranges_, r.begin);
  auto last = first;
  while (last != ranges_.end() && last->begin <= r.end) {
    r.begin = std::min(r.begin, last->begin);
    r.end = std::max(r.end, last->end);
    ++last;
  }
  if (first == last) {  // touches nothing: a new entry
    ranges_.insert(first, r);
    return;
  }
  // Merged into existing entries: reuse the first in place, so extending a
  // range (sealkit_mmap next to an earlier mapping) moves nothing.
  *first = r;
  ranges_.erase(first + 1, last);
}

void RangeSet::erase(Range r) {
  if (r.empty()) return;
  std::vector<Range> out;
  out.reserve(ranges_.size() + 1);
  for (const Range& x : ranges_) {
    if (!x.overlaps(r)) {
      out.push_back(x);
      continue;
    }
    if (x.begin < r.begin) out.push_back({x.begin, r.begin});
    if (x.end > r.end) out.push_back({r.end, x.end});
  }
  ranges_.swap(out);
}

bool RangeSet::covers(Range r) const noexcept {
  if (r.empty()) return true;
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), r.begin,
                             [](std::uintptr_t x, const Range& e) { return x < e.end; });
  // Ranges are coalesced, so one range must hold all of r.
  return it != ranges_.end() && it->begin <= r.begin && it->end >= r.end;
}

bool RangeSet::intersects(Range r) const noexcept {
  if (r.empty()) return false;
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), r.begin,
                             [](std::uintptr_t x, const Range& e) { return x < e.end; });
  return it != ranges_.end() && it->begin < r.end;
}

}  // namespace sealkit::core
