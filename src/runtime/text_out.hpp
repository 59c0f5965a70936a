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
  // A JSON string literal: quotes, and escapes for quote, backslash and
  // control bytes (paths may hold anything but NUL).
  TextOut& json_str(std::string_view s) {
    static const char hex[] = "0123456789abcdef";
    put('"');
    for (char c : s) {
      auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        put('\\');
        put(c);
      } else if (u < 0x20) {
        str("\\u00");
        put(hex[u >> 4]);
        put(hex[u & 15]);
      } else {
        put(c);
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
  void put(char c) {
    if (len_ < sizeof buf_) buf_[len_++] = c;
  }
  char buf_[2048];
  std::size_t len_ = 0;
};

}  // namespace sealkit::rt
