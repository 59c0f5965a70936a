// Half-open address ranges and a sorted, coalescing set of them.
#pragma once

#include <cstdint>
#include <vector>

namespace sealkit::core {

struct Range {
  std::uintptr_t begin = 0;
  std::uintptr_t end = 0;  // exclusive

  bool empty() const noexcept { return end <= begin; }
  std::uintptr_t size() const noexcept { return empty() ? 0 : end - begin; }
  bool contains(std::uintptr_t a) const noexcept { return a >= begin && a < end; }
  bool overlaps(const Range& o) const noexcept { return begin < o.end && o.begin < end; }
  friend bool operator==(const Range&, const Range&) = default;
};

// Disjoint ranges in address order; adjacent and overlapping inserts merge.
class RangeSet {
 public:
  void insert(Range r);
  void erase(Range r);
  // True when every byte of r lies in the set.
  bool covers(Range r) const noexcept;
  bool intersects(Range r) const noexcept;
  const std::vector<Range>& ranges() const noexcept { return ranges_; }
  bool empty() const noexcept { return ranges_.empty(); }
  void clear() noexcept { ranges_.clear(); }

 private:
  std::vector<Range> ranges_;
};

}  // namespace sealkit::core
