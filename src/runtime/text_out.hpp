// A fixed-size text buffer for the runtime's one log line and warnings (no
// printf here: no libc). Output that does not fit is cut, never overflowed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sealkit::rt {

class TextOut {
 public:
  TextOut& str(std::string_view s) {
    for (char c : s) put(c);
    return *this;
  }
  // A JSON string literal that any JSON reader takes, whatever bytes `s`
  // holds (a path may hold anything but NUL; another user names the programs
  // whose lines share a log): quote, backslash, control bytes and DEL escaped,
  // well-formed UTF-8 kept, every other byte written as U+FFFD, as the CLI's
  // JSON does. At most `max_out` bytes of text go between the quotes (the
  // rest is left out), so that the line it is part of always fits and ends.
  TextOut& json_str(std::string_view s, std::size_t max_out = 768) {
    static const char hex[] = "0123456789abcdef";
    put('"');
    std::size_t out = 0;
    for (std::size_t i = 0; i < s.size();) {
      const auto u = static_cast<unsigned char>(s[i]);
      const std::size_t n = utf8_length(s, i);
      const std::size_t cost = n > 1 ? n : n == 0 ? 6 : (u == '"' || u == '\\') ? 2 : (u < 0x20 || u == 0x7f) ? 6 : 1;
      if (out + cost > max_out) break;
      out += cost;
      if (n == 0) {
        str("\\ufffd");
        ++i;
      } else if (n > 1) {
        str(std::string_view(s.data() + i, n));
        i += n;
      } else {
        if (u == '"' || u == '\\') {
          put('\\');
          put(s[i]);
        } else if (u < 0x20 || u == 0x7f) {
          str("\\u00");
          put(hex[u >> 4]);
          put(hex[u & 15]);
        } else {
          put(s[i]);
        }
        ++i;
      }
    }
    put('"');
    return *this;
  }
  // Text for a terminal: every byte outside printable ASCII becomes '?', as
  // ps does, so that a file name cannot move the cursor or reorder the line.
  TextOut& printable(std::string_view s) {
    for (char c : s) put(c >= 0x20 && c < 0x7f ? c : '?');
    return *this;
  }
  TextOut& num(std::uint64_t v) {
    char d[20];
    int n = 0;
    do {
      d[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v);
    while (n) put(d[--n]);
    return *this;
  }
  std::string_view view() const { return {buf_, len_}; }

 private:
  // The length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no
  // overlong forms, no surrogates, nothing above U+10FFFF), or 0.
  static std::size_t utf8_length(std::string_view s, std::size_t i) {
    const auto b = [&](std::size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
    const auto cont = [&](std::size_t k) { return (b(k) & 0xc0) == 0x80; };
    const unsigned c = b(0);
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
      const unsigned lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
      return b(1) >= lo && b(1) <= hi && cont(2) ? 3 : 0;
    }
    if (c >= 0xf0 && c <= 0xf4) {
      const unsigned lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
      return b(1) >= lo && b(1) <= hi && cont(2) && cont(3) ? 4 : 0;
    }
    return 0;
  }

  void put(char c) {
    if (len_ < sizeof buf_) buf_[len_++] = c;
  }
  char buf_[2048];
  std::size_t len_ = 0;
};

}  // namespace sealkit::rt
