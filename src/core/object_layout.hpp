// What sealing one ELF object starts from, read from its program headers in
// memory: its PT_LOAD segments with the protection each asks for, its RELRO
// as ld.so protects it, and the ranges it asks to keep mutable
// (PT_GNU_MUTABLE). One reading for the library (core/loaded_objects.cpp,
// sealkit_seal_loaded_objects) and the injected runtime
// (runtime/elf_image.cpp): what either leaves unsealed, the other does too
// (core/seal_plan.hpp plans the seal from it; core/mutable_sections.hpp adds
// the mutable sections from the file).
//
// Header-only and allocation-free, fixed-size arrays: the freestanding
// runtime includes it. A template over the ELF class's Ehdr and Phdr, so that
// the runtime's 32-bit build reads its own objects.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/page.hpp"
#include "core/range.hpp"

namespace sealkit::core {

// Program header types and flags (elf.h), spelled here so that this header
// needs no system header.
inline constexpr std::uint32_t kPtLoad = 1, kPtDynamic = 2, kPtGnuRelro = 0x6474e552, kPtGnuMutable = 0x6474f555;
inline constexpr std::uint32_t kPfX = 1, kPfW = 2, kPfR = 4;
// A segment's protection as mmap(2)'s PROT_* bits (and PROCMAP_QUERY's).
inline constexpr unsigned kSegmentRead = 1, kSegmentWrite = 2, kSegmentExec = 4;

struct ObjectLayout {
  // More of any kind and the object is not read (LayoutError::kTooMany): it
  // is left unsealed rather than half-read. Real objects have 2 to 5 PT_LOADs.
  static constexpr std::size_t kMaxRanges = 32;
  Range segments[kMaxRanges];          // each PT_LOAD [vaddr, vaddr + memsz) rounded out to pages, sorted
  std::uint8_t prot[kMaxRanges] = {};  // each segment's p_flags as kSegment* bits
  std::size_t nseg = 0;
  // PT_GNU_RELRO as ld.so makes it read-only once relocated: both ends
  // rounded down to pages (glibc's _dl_protect_relro); empty without one.
  Range relro;
  Range keep_mutable[kMaxRanges];  // PT_GNU_MUTABLE, rounded out to pages (no byte of it sealed), sorted
  std::size_t nmut = 0;
  std::uintptr_t dynamic = 0;  // bias + PT_DYNAMIC's p_vaddr; 0 without PT_DYNAMIC
  // The ELF header where the readable PT_LOAD that maps file offset 0 put it;
  // 0 without one.
  std::uintptr_t header = 0;
};

enum class LayoutError { kNone, kNoLoad, kTooMany };

namespace layout_detail {

// Insertion sort: at most kMaxRanges entries; `prot`, when given, moves along.
inline void sort_ranges(Range* r, std::size_t n, std::uint8_t* prot = nullptr) {
  for (std::size_t i = 1; i < n; ++i) {
    const Range x = r[i];
    const std::uint8_t p = prot ? prot[i] : 0;
    std::size_t j = i;
    for (; j > 0 && r[j - 1].begin > x.begin; --j) {
      r[j] = r[j - 1];
      if (prot) prot[j] = prot[j - 1];
    }
    r[j] = x;
    if (prot) prot[j] = p;
  }
}

inline bool add_range(Range* arr, std::size_t& n, std::uintptr_t bias, std::uint64_t vaddr, std::uint64_t memsz,
                      std::size_t page) {
  std::uintptr_t start;
  if (__builtin_add_overflow(bias, static_cast<std::uintptr_t>(vaddr), &start)) return false;
  const auto span = page_span(start, static_cast<std::size_t>(memsz), page);
  if (!span || n == ObjectLayout::kMaxRanges) return false;
  arr[n++] = {span->start, span->end};
  return true;
}

}  // namespace layout_detail

// Reads `phnum` program headers at `ph` of the object loaded with bias `bias`.
// Headers with p_memsz 0 are ignored; a segment or mutable range whose end
// wraps, or more than kMaxRanges of either, is kTooMany; no PT_LOAD is kNoLoad.
template <class Ehdr, class Phdr>
LayoutError read_object_layout(std::uintptr_t bias, const Phdr* ph, std::size_t phnum, std::size_t page,
                               ObjectLayout& out) {
  out.nseg = out.nmut = 0;
  out.relro = {};
  out.dynamic = out.header = 0;
  for (std::size_t i = 0; i < phnum; ++i) {
    const Phdr& p = ph[i];
    if (p.p_type == kPtLoad && p.p_memsz != 0) {
      if (!layout_detail::add_range(out.segments, out.nseg, bias, p.p_vaddr, p.p_memsz, page))
        return LayoutError::kTooMany;
      out.prot[out.nseg - 1] = static_cast<std::uint8_t>(((p.p_flags & kPfR) ? kSegmentRead : 0) |
                                                         ((p.p_flags & kPfW) ? kSegmentWrite : 0) |
                                                         ((p.p_flags & kPfX) ? kSegmentExec : 0));
      std::uintptr_t at;
      if (p.p_offset == 0 && (p.p_flags & kPfR) && p.p_filesz >= sizeof(Ehdr) &&
          !__builtin_add_overflow(bias, static_cast<std::uintptr_t>(p.p_vaddr), &at) && at % alignof(Ehdr) == 0)
        out.header = at;
    } else if (p.p_type == kPtGnuRelro && p.p_memsz != 0) {
      // Rounded down at both ends, as ld.so's mprotect: the partial last page
      // stays as writable as its segment. A range that wraps is ignored (the
      // segments then say what is asked).
      std::uintptr_t start, end;
      if (!__builtin_add_overflow(bias, static_cast<std::uintptr_t>(p.p_vaddr), &start) &&
          !__builtin_add_overflow(start, static_cast<std::uintptr_t>(p.p_memsz), &end))
        out.relro = {page_down(start, page), page_down(end, page)};
    } else if (p.p_type == kPtGnuMutable && p.p_memsz != 0) {
      if (!layout_detail::add_range(out.keep_mutable, out.nmut, bias, p.p_vaddr, p.p_memsz, page))
        return LayoutError::kTooMany;
    } else if (p.p_type == kPtDynamic) {
      out.dynamic = bias + static_cast<std::uintptr_t>(p.p_vaddr);  // wraps like ld.so's l_ld; only compared
    }
  }
  if (out.nseg == 0) return LayoutError::kNoLoad;
  layout_detail::sort_ranges(out.segments, out.nseg, out.prot);
  layout_detail::sort_ranges(out.keep_mutable, out.nmut);
  return LayoutError::kNone;
}

}  // namespace sealkit::core
