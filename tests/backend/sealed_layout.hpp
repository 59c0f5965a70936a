// The memory the seccomp tests seal: a few regions at fixed addresses chosen
// for the arithmetic they exercise (a sealed range straddling a 4 GiB
// boundary, requests crossing one, equal low halves in different high halves,
// the 4 GiB window 0), mapped the same way whether the seal then comes from
// mseal(2) or from the filter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "backend/seccomp/filter.hpp"

namespace sealkit::test::backend {

inline constexpr std::uint64_t kPage = 4096;

struct PageSpan {
  std::size_t first;  // page index in the region
  std::size_t end;    // exclusive
};

struct Region {
  std::uint64_t base;
  std::size_t pages;
  int prot;
  std::vector<PageSpan> sealed;
  std::vector<std::size_t> holes;  // pages unmapped before sealing
  std::uint64_t at(std::size_t page) const { return base + page * kPage; }
};

// A: [2^45 - 8 pages, 2^45 + 8 pages), read-only; sealed pages 2, 6..9 (across 2^45), 13; page 0 a hole.
// B: [2^45 + 4 GiB - 4 pages, + 8 pages), read-only; sealed page 6 (two pages above the boundary).
// C: 0x3000'0000'0000, 4 pages, read-only; sealed page 1.
// D: 0x3001'0000'0000, 4 pages, read-only; nothing sealed (same low halves as C).
// E: 0x3002'0000'0000, 4 pages, read-write; sealed page 1 (discard advice allowed).
// F: 0x1000'0000 (below 4 GiB), 4 pages, read-only; sealed page 1.
enum RegionId { kA, kB, kC, kD, kE, kF, kRegionCount };
const std::vector<Region>& regions();
inline std::uint64_t at(RegionId r, std::size_t page) { return regions()[r].at(page); }

enum class SealBy { kMseal, kFilter, kFilterHull };  // kFilterHull: mremap's destination by the hull

// In a child: maps every region (MAP_FIXED_NOREPLACE), punches the holes,
// names each sealed span (so the VMAs split the same way in both modes) and
// seals them. Returns an empty string, or what went wrong.
std::string map_and_seal(SealBy how);

// The sealed spans as filter input (discard-protected when not writable).
std::vector<sealkit::backend::seccomp::SealedRange> sealed_ranges();

}  // namespace sealkit::test::backend
