#include "audit/smaps_scan.hpp"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sealkit::audit {

using namespace core;

namespace {

bool hex_digit(char c) noexcept { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Whether the line at p[0..n) can be a field line and not a maps line: it
// starts with a capital letter, and is not hex digits then '-' (a maps line
// may start with 'A'-'F'; "Anonymous:" and "FilePmdMapped:" do too).
bool field_start(const char* p, std::size_t n) noexcept {
  if (n == 0 || p[0] < 'A' || p[0] > 'Z') return false;
  if (p[0] > 'F') return true;
  std::size_t i = 1;
  while (i < n && hex_digit(p[i])) ++i;
  return i == n || p[i] != '-';
}

// True when every line of `region` (complete lines, each ending in '\n') is
// a field line by field_start: no maps line inside. Run over every byte of
// smaps, so it looks at 16 bytes at a time for newlines.
bool field_lines_only(const char* p, std::size_t n) noexcept {
  if (n == 0) return true;
  if (!field_start(p, n)) return false;
  std::size_t i = 0;
#if defined(__SSE2__)
  const __m128i nl = _mm_set1_epi8('\n');
  for (; i + 16 <= n; i += 16) {
    unsigned mask = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)), nl)));
    while (mask) {
      const std::size_t at = i + static_cast<std::size_t>(__builtin_ctz(mask));
      if (at + 1 < n && !field_start(p + at + 1, n - at - 1)) return false;
      mask &= mask - 1;
    }
  }
#endif
  for (; i < n; ++i) {
    if (p[i] == '\n' && i + 1 < n && !field_start(p + i + 1, n - i - 1)) return false;
  }
  return true;
}

// VmFlags values are two-letter mnemonics separated by single spaces.
bool has_sl(std::string_view flags) noexcept {
  for (std::size_t i = 0; i + 1 < flags.size(); ++i) {
    if (flags[i] == 's' && flags[i + 1] == 'l' && (i == 0 || flags[i - 1] == ' ') &&
        (i + 2 == flags.size() || flags[i + 2] == ' '))
      return true;
  }
  return false;
}

}  // namespace

bool scan_smaps_fast(std::string_view text, const std::function<void(const MapsEntry&, bool sealed)>& fn) {
  static constexpr std::string_view kFlags = "VmFlags:";
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t header_end = text.find('\n', pos);
    if (header_end == std::string_view::npos) return false;  // a maps line with no fields
    auto entry = parse_maps_line(text.substr(pos, header_end - pos));
    if (!entry) return false;
    const std::size_t body = header_end + 1;
    // VmFlags is the only field whose name starts with 'V'; a path may hold
    // one, but paths are on the maps line, before `body`.
    std::size_t flags = text.find(kFlags, body);
    if (flags == std::string_view::npos || text[flags - 1] != '\n') return false;
    if (!field_lines_only(text.data() + body, flags - body)) return false;
    std::size_t eol = text.find('\n', flags);
    if (eol == std::string_view::npos) eol = text.size();
    fn(*entry, has_sl(text.substr(flags + kFlags.size(), eol - flags - kFlags.size())));
    pos = eol + 1;
  }
  return true;
}

}  // namespace sealkit::audit
