// Where each VMA, gap and band goes in the picture, top to bottom in address
// order. Sizes in an address space span 4 KiB to 128 TiB, so heights cannot
// be proportional. The rule (docs/map.md):
// - a VMA of P pages (4 KiB each, at least 1) is kVmaBaseHeight + kVmaLogHeight * log2(P)
//   pixels high: 16 px for 4 KiB, 48 px for 1 MiB, 88 px for 1 GiB;
// - a hole between two VMAs is a fixed kGapHeight break with its size written, whatever its size;
// - VMAs of one band touch; two bands that touch in memory are kBandSpacing
//   apart, so that each band's box stands out; a band (an object's VMAs, or
//   one mapping) is a box around its consecutive rows, and a band that
//   another mapping interrupts gets one box per run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cli/map/model.hpp"

namespace sealkit::cli::map {

inline constexpr double kVmaBaseHeight = 16;
inline constexpr double kVmaLogHeight = 4;
inline constexpr double kGapHeight = 16;
inline constexpr double kBandSpacing = 4;

struct VmaRow {
  std::size_t band = 0;
  std::size_t vma = 0;  // index into bands[band].vmas
  double y = 0;
  double height = 0;
};

struct GapRow {
  std::uintptr_t begin = 0;  // the hole [begin, end)
  std::uintptr_t end = 0;
  double y = 0;
  double height = 0;
};

struct BandBox {
  std::size_t band = 0;
  double y = 0;
  double height = 0;
  bool continued = false;  // not the band's first box
};

struct Layout {
  std::vector<VmaRow> vmas;  // address order
  std::vector<GapRow> gaps;
  std::vector<BandBox> boxes;
  double height = 0;
};

double vma_height(std::uint64_t bytes);

// Lays out every VMA of every band. VMAs must not overlap (as in /proc).
Layout lay_out(const Picture& picture);

}  // namespace sealkit::cli::map
