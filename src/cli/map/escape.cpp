#include "cli/map/escape.hpp"

namespace sealkit::cli::map {

std::string markup_escape(std::string_view raw, std::size_t max_chars) {
  const std::string shown = visible_text(raw, max_chars);
  std::string out;
  out.reserve(shown.size() + 16);
  for (char c : shown) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace sealkit::cli::map
