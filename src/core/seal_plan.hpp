// What sealing one ELF object means, as a pure function of its PT_LOAD
// segments and the process's mappings. Header-only and allocation-free: the
// library (core::object_seal_ranges) and the injected runtime share it.
//
// The rule:
// - every page of each PT_LOAD segment, [p_vaddr, p_vaddr + p_memsz) rounded
//   out to pages: text, rodata, RELRO, data and bss (file-backed and
//   anonymous parts alike);
// - in the gaps between segments, only VMAs backed by the object's own file:
//   ld.so fills gaps with PROT_NONE reservations of the file, while the
//   kernel's ELF loader leaves real holes that anything may be mapped into
//   later; such foreign memory is never sealed;
// - minus the ranges the object asks to keep mutable (PT_GNU_MUTABLE),
//   rounded out to pages so that no byte of them is sealed;
// - only mapped pages, as maximal contiguous runs (one mseal call each).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/maps_line.hpp"
#include "core/range.hpp"

namespace sealkit::core {

// `segments` and `keep_mutable` are page-rounded and sorted by address;
// `maps` is iterable over MapsEntry in address order (as /proc/PID/maps is).
// `emit(Range)` is called for each run to seal, in address order.
template <class Maps, class Emit>
void plan_object_seal(const Range* segments, std::size_t nseg, const Range* keep_mutable, std::size_t nmut,
                      const Maps& maps, Emit&& emit) {
  if (nseg == 0) return;
  Range span{segments[0].begin, segments[0].end};
  for (std::size_t i = 1; i < nseg; ++i) {
    if (segments[i].end > span.end) span.end = segments[i].end;
  }

  // The object's file: the file behind any VMA inside a segment (the first
  // page of the first segment is always file-backed).
  bool have_file = false;
  std::uint32_t dmaj = 0, dmin = 0;
  std::uint64_t ino = 0;
  for (const MapsEntry& m : maps) {
    if (m.inode == 0 || !m.range.overlaps(span)) continue;
    for (std::size_t i = 0; i < nseg && !have_file; ++i) {
      if (m.range.overlaps(segments[i])) {
        have_file = true;
        dmaj = m.dev_major;
        dmin = m.dev_minor;
        ino = m.inode;
      }
    }
    if (have_file) break;
  }

  // Pieces arrive in address order but may overlap (segments rounded out to
  // pages can share a page): extend the pending run or flush it.
  Range run{0, 0};
  auto push = [&](Range part) {
    if (part.empty()) return;
    if (!run.empty() && part.begin <= run.end) {
      if (part.end > run.end) run.end = part.end;
      return;
    }
    if (!run.empty()) emit(run);
    run = part;
  };
  // Everything of `piece` outside the mutable ranges.
  auto add = [&](Range piece) {
    for (std::size_t k = 0; k < nmut && !piece.empty(); ++k) {
      const Range& mut = keep_mutable[k];
      if (mut.end <= piece.begin) continue;
      if (mut.begin >= piece.end) break;
      push({piece.begin, mut.begin > piece.begin ? mut.begin : piece.begin});
      piece.begin = mut.end < piece.end ? mut.end : piece.end;
    }
    push(piece);
  };

  for (const MapsEntry& m : maps) {
    Range clipped{m.range.begin > span.begin ? m.range.begin : span.begin,
                  m.range.end < span.end ? m.range.end : span.end};
    if (clipped.empty()) continue;
    const bool same_file = have_file && m.inode == ino && m.dev_major == dmaj && m.dev_minor == dmin;
    if (same_file) {
      add(clipped);
      continue;
    }
    for (std::size_t i = 0; i < nseg; ++i) {
      Range part{clipped.begin > segments[i].begin ? clipped.begin : segments[i].begin,
                 clipped.end < segments[i].end ? clipped.end : segments[i].end};
      if (!part.empty()) add(part);
    }
  }
  if (!run.empty()) emit(run);
}

}  // namespace sealkit::core
