// Small scanners for the kernel's text formats (/proc maps, smaps, ...).
// Header-only, allocation-free and exception-free: the injected runtime uses
// them too, where there is no C++ runtime library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sealkit::core::scan {

// Consumes lowercase hex digits from `s`; false when there are none or the
// value does not fit 64 bits.
inline bool take_hex(std::string_view& s, std::uint64_t& out) noexcept {
  std::size_t i = 0;
  std::uint64_t v = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    unsigned d;
    if (c >= '0' && c <= '9') d = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f') d = static_cast<unsigned>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') d = static_cast<unsigned>(c - 'A' + 10);
    else break;
    if (v >> 60) return false;  // one more digit would overflow
    v = (v << 4) | d;
  }
  if (i == 0 || i > 16) return false;
  s.remove_prefix(i);
  out = v;
  return true;
}

inline bool take_dec(std::string_view& s, std::uint64_t& out) noexcept {
  std::size_t i = 0;
  std::uint64_t v = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    if (__builtin_mul_overflow(v, 10u, &v) || __builtin_add_overflow(v, static_cast<unsigned>(s[i] - '0'), &v))
      return false;
  }
  if (i == 0) return false;
  s.remove_prefix(i);
  out = v;
  return true;
}

inline bool take_char(std::string_view& s, char c) noexcept {
  if (s.empty() || s.front() != c) return false;
  s.remove_prefix(1);
  return true;
}

inline void skip_spaces(std::string_view& s) noexcept {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
}

inline bool take_perm(std::string_view& s, char yes, bool& out) noexcept {
  if (s.empty()) return false;
  if (s.front() == yes) out = true;
  else if (s.front() == '-') out = false;
  else return false;
  s.remove_prefix(1);
  return true;
}

// Splits off the next line (without '\n'); the last line may lack one.
inline std::string_view next_line(std::string_view& text) noexcept {
  auto nl = text.find('\n');
  std::string_view line = text.substr(0, nl);
  text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  return line;
}

}  // namespace sealkit::core::scan
