#include "cli/escape.hpp"

#include <array>
#include <cstdio>

namespace sealkit::cli {

namespace {

// Length of the well-formed UTF-8 sequence at s[i] and its code point (RFC
// 3629: no overlong forms, no surrogates, nothing above U+10FFFF); 0 when
// the bytes there are not one.
std::size_t utf8_sequence(std::string_view s, std::size_t i, char32_t& cp) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  std::size_t len;
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  } else if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    cp = b0 & 0x0F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const unsigned char b = byte(i + k);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr std::array<char32_t, 5> kMinimum{0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinimum[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

// Characters that are valid but must not reach the reader as themselves.
bool shown_as_bytes(char32_t cp) {
  if (cp < 0x20 || cp == 0x7F) return true;                   // C0 controls and DEL
  if (cp >= 0x80 && cp <= 0x9F) return true;                  // C1 controls: CSI (U+009B) starts a sequence
  if (cp == 0xFFFE || cp == 0xFFFF) return true;              // noncharacters, not XML characters
  if (cp == 0x061C || cp == 0x200E || cp == 0x200F) return true;  // bidi marks
  if (cp >= 0x202A && cp <= 0x202E) return true;              // bidi embeddings and overrides
  if (cp >= 0x2066 && cp <= 0x2069) return true;              // bidi isolates
  return false;
}

void append_hex(std::string& out, unsigned char b) {
  char buf[5];
  std::snprintf(buf, sizeof buf, "\\x%02x", b);
  out += buf;
}

}  // namespace

std::string valid_utf8(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size();) {
    char32_t cp = 0;
    const std::size_t len = utf8_sequence(raw, i, cp);
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(raw.substr(i, len));
      i += len;
    }
  }
  return out;
}

std::string visible_text(std::string_view raw, std::size_t max_chars) {
  std::string out;
  out.reserve(raw.size() + 16);
  std::size_t shown = 0;
  for (std::size_t i = 0; i < raw.size();) {
    if (shown >= max_chars) {
      out += "\u2026";
      break;
    }
    ++shown;
    char32_t cp = 0;
    const std::size_t len = utf8_sequence(raw, i, cp);
    if (len == 0) {
      shown += 3;
      append_hex(out, static_cast<unsigned char>(raw[i]));
      ++i;
      continue;
    }
    if (shown_as_bytes(cp)) {
      shown += 4 * len - 1;
      for (std::size_t k = 0; k < len; ++k) append_hex(out, static_cast<unsigned char>(raw[i + k]));
    } else if (cp == '\\') {
      ++shown;
      out += "\\\\";
    } else {
      out.append(raw.substr(i, len));
    }
    i += len;
  }
  return out;
}

}  // namespace sealkit::cli
