#include "backend/seccomp/range_layout.hpp"

#include <algorithm>

#include "backend/seccomp/filter.hpp"

namespace sealkit::backend::seccomp {
namespace {

constexpr std::uint64_t kPageMask = kPageSize - 1;

std::uint32_t high(std::uint64_t v) noexcept { return static_cast<std::uint32_t>(v >> 32); }
std::uint32_t low(std::uint64_t v) noexcept { return static_cast<std::uint32_t>(v); }

class LayoutBuilder {
 public:
  explicit LayoutBuilder(RangeLayout& out) noexcept : out_(out) {
    out_.piece_count = 0;
    out_.window_count = 0;
  }

  bool add_piece(std::uint32_t window, std::uint32_t first, std::uint32_t last) noexcept {
    if (out_.piece_count >= kMaxPieces) return false;
    WindowEntry* back = out_.window_count ? &out_.windows[out_.window_count - 1] : nullptr;
    if (back == nullptr || back->full() || back->first_window != window) {
      if (out_.window_count >= kMaxWindows) return false;
      out_.windows[out_.window_count++] =
          WindowEntry{window, window, static_cast<std::uint32_t>(out_.piece_count), 0};
      back = &out_.windows[out_.window_count - 1];
    }
    out_.pieces[out_.piece_count++] = Piece{first, last};
    ++back->piece_count;
    return true;
  }

  bool add_full(std::uint32_t first_window, std::uint32_t last_window) noexcept {
    if (out_.window_count >= kMaxWindows) return false;
    out_.windows[out_.window_count++] = WindowEntry{first_window, last_window, 0, 0};
    return true;
  }

  // [start, end): split at 4 GiB boundaries.
  bool add_range(std::uint64_t start, std::uint64_t end) noexcept {
    const std::uint64_t last = end - 1;
    const std::uint32_t w0 = high(start), w1 = high(last);
    if (w0 == w1) return add_piece(w0, low(start), low(last));
    if (!add_piece(w0, low(start), 0xffffffffu)) return false;
    if (w1 - w0 > 1 && !add_full(w0 + 1, w1 - 1)) return false;
    return add_piece(w1, 0, low(last));
  }

 private:
  RangeLayout& out_;
};

}  // namespace

std::uint64_t first_address(const RangeLayout& t) noexcept {
  const WindowEntry& w = t.windows[0];
  return std::uint64_t{w.first_window} << 32 | w.first_offset(t.pieces);
}

std::uint64_t last_address(const RangeLayout& t) noexcept {
  const WindowEntry& w = t.windows[t.window_count - 1];
  const std::uint32_t offset = w.full() ? 0xffffffffu : t.pieces[w.piece_begin + w.piece_count - 1].last;
  return std::uint64_t{w.last_window} << 32 | offset;
}

LayoutStatus make_layout(const SealedRange* ranges, std::size_t count, bool discard_protected_only, Span* scratch,
                         RangeLayout& out) noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const SealedRange& r = ranges[i];
    if ((r.start & kPageMask) || (r.end & kPageMask) || r.start >= r.end) return LayoutStatus::kInvalidRange;
    if (discard_protected_only && !r.discard_protected) continue;
    if (n >= kMaxRanges) return LayoutStatus::kTooMany;
    scratch[n++] = Span{r.start, r.end};
  }
  std::sort(scratch, scratch + n, [](const Span& a, const Span& b) { return a.start < b.start; });
  // Merge overlapping and touching ranges: the filter only needs their union.
  std::size_t merged = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (merged && scratch[i].start <= scratch[merged - 1].end) {
      scratch[merged - 1].end = std::max(scratch[merged - 1].end, scratch[i].end);
    } else {
      scratch[merged++] = scratch[i];
    }
  }
  out.merged_ranges = merged;
  LayoutBuilder builder(out);
  for (std::size_t i = 0; i < merged; ++i) {
    if (!builder.add_range(scratch[i].start, scratch[i].end)) return LayoutStatus::kTooMany;
  }
  return LayoutStatus::kOk;
}

}  // namespace sealkit::backend::seccomp
