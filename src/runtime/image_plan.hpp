// One object's seal runs planned without the /proc/self/maps text, from its
// program headers (ElfImage) alone, or with PROCMAP_QUERY lookups where its
// segments leave gaps. The start-up sealer and the preload object's later
// passes both plan this way, and fall back to the maps text when it fails.
//
// Why the segments alone are enough when they leave no gap: core's rule then
// seals every mapped page of their page-rounded union, and a page that is not
// mapped makes mseal fail with ENOMEM before it seals anything, which sends the
// object to the maps path. With gaps, only the object's own file's VMAs in a
// gap may be sealed, which only a lookup can tell.
#pragma once

#include "core/seal_plan.hpp"
#include "runtime/elf_image.hpp"
#include "runtime/maps_snapshot.hpp"

namespace sealkit::rt {

inline bool has_gaps(const ElfImage& img) {
  if (img.nseg == 0) return false;
  std::uintptr_t reach = img.segments[0].end;
  for (std::size_t i = 1; i < img.nseg; ++i) {
    if (img.segments[i].begin > reach) return true;
    if (img.segments[i].end > reach) reach = img.segments[i].end;
  }
  return false;
}

// The planner's view of the segments as if each were one VMA.
struct SegmentMaps {
  core::MapsEntry entries[ElfImage::kMaxRanges];
  std::size_t n = 0;
  explicit SegmentMaps(const ElfImage& img) {
    for (std::size_t i = 0; i < img.nseg; ++i) entries[n++].range = img.segments[i];
  }
  const core::MapsEntry* begin() const { return entries; }
  const core::MapsEntry* end() const { return entries + n; }
};

// Calls emit(core::Range) for each run. `q` is needed only when has_gaps(img)
// (it may be null otherwise); false when the plan could not be completed, in
// which case some runs may have been emitted already.
template <class Emit>
bool plan_without_maps(VmaQuery* q, const ElfImage& img, Emit&& emit) {
  if (img.nseg == 0) return false;
  if (!has_gaps(img)) {
    SegmentMaps segs(img);
    core::plan_object_seal(img.segments, img.nseg, img.keep_mutable, img.nmut, segs, emit);
    return true;
  }
  if (q == nullptr) return false;
  core::Range span{img.segments[0].begin, img.segments[0].end};
  for (std::size_t i = 1; i < img.nseg; ++i) {
    if (img.segments[i].end > span.end) span.end = img.segments[i].end;
  }
  QueriedSpan vmas(*q, span);
  core::plan_object_seal(img.segments, img.nseg, img.keep_mutable, img.nmut, vmas, emit);
  return !vmas.failed();
}

}  // namespace sealkit::rt
