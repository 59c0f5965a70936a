// Page arithmetic with overflow checks. Every address computation on a
// caller-supplied range goes through here, so that wrap-around is handled once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace sealkit::core {

// The system page size, read once (sysconf is not async-signal-unsafe, but it
// is not free either).
std::size_t page_size() noexcept;

inline std::uintptr_t page_down(std::uintptr_t a, std::size_t ps) noexcept { return a & ~(std::uintptr_t{ps} - 1); }
inline bool is_page_aligned(std::uintptr_t a, std::size_t ps) noexcept { return (a & (std::uintptr_t{ps} - 1)) == 0; }

// Round up to a page multiple; nullopt when that overflows.
inline std::optional<std::uintptr_t> page_up(std::uintptr_t a, std::size_t ps) noexcept {
  std::uintptr_t r;
  if (__builtin_add_overflow(a, std::uintptr_t{ps} - 1, &r)) return std::nullopt;
  return r & ~(std::uintptr_t{ps} - 1);
}

// [start, end) of `len` bytes from `addr` rounded out to pages, as mseal and
// mprotect see it: nullopt when the end wraps.
struct PageSpan {
  std::uintptr_t start;
  std::uintptr_t end;
};
inline std::optional<PageSpan> page_span(std::uintptr_t addr, std::size_t len, std::size_t ps) noexcept {
  std::uintptr_t end;
  if (__builtin_add_overflow(addr, len, &end)) return std::nullopt;
  auto up = page_up(end, ps);
  if (!up) return std::nullopt;
  return PageSpan{page_down(addr, ps), *up};
}

}  // namespace sealkit::core
