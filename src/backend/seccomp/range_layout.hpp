// The sealed ranges as the filter searches them: sorted, merged, and cut at
// every 4 GiB boundary, because classic BPF compares 32-bit words.
//
// A 64-bit address is a (window, offset) pair: window = high 32 bits, offset =
// low 32 bits. Each merged range becomes pieces of one window each (inclusive
// offsets [first, last]); the windows a range covers entirely in its middle
// become one "full" window entry. The filter first searches the window of the
// request's start, then the offsets inside that window (filter.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

namespace sealkit::backend::seccomp {

struct SealedRange;

// Upper bounds of the workspace. A piece costs the filter at least 3
// instructions, so more than kMaxPieces pieces would never fit anyway.
inline constexpr std::size_t kMaxRanges = 4096;
inline constexpr std::size_t kMaxPieces = 2048;
inline constexpr std::size_t kMaxWindows = 2048;

struct Piece {
  std::uint32_t first;  // low 32 bits, inclusive
  std::uint32_t last;   // inclusive
};

struct WindowEntry {
  std::uint32_t first_window;  // high 32 bits, inclusive
  std::uint32_t last_window;   // equals first_window unless the entry is full
  std::uint32_t piece_begin;   // index into pieces
  std::uint32_t piece_count;   // 0: every address of these windows is sealed
  bool full() const noexcept { return piece_count == 0; }
  // The lowest sealed offset in first_window.
  std::uint32_t first_offset(const Piece* pieces) const noexcept { return full() ? 0 : pieces[piece_begin].first; }
};

struct RangeLayout {
  std::size_t merged_ranges = 0;
  Piece pieces[kMaxPieces];
  std::size_t piece_count = 0;
  WindowEntry windows[kMaxWindows];
  std::size_t window_count = 0;
};

// A [start, end) pair after validation; kept separate from SealedRange so the
// sort works on plain values.
struct Span {
  std::uint64_t start;
  std::uint64_t end;
};

enum class LayoutStatus { kOk, kInvalidRange, kTooMany };

// The lowest and the highest sealed address of a layout with at least one window.
std::uint64_t first_address(const RangeLayout& t) noexcept;
std::uint64_t last_address(const RangeLayout& t) noexcept;

// Checks every range (page-aligned, start < end), keeps those for which
// `pick` is true (all, or only the discard-protected ones), sorts and merges
// touching ones in `scratch` (capacity kMaxRanges) and fills `out`.
LayoutStatus make_layout(const SealedRange* ranges, std::size_t count, bool discard_protected_only, Span* scratch,
                         RangeLayout& out) noexcept;

}  // namespace sealkit::backend::seccomp
