#include "cli/output.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "cli/escape.hpp"

namespace sealkit::cli {

void print_error(std::string_view what) {
  const std::string shown = visible_text(what);
  std::fprintf(stderr, "sealkit: error: %s\n", shown.c_str());
}

void print_warning(std::string_view what) {
  const std::string shown = visible_text(what);
  std::fprintf(stderr, "sealkit: warning: %s\n", shown.c_str());
}

std::string json_text(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', true, nlohmann::json::error_handler_t::replace);
}

void print_json(nlohmann::json j) {
  if (j.is_object()) j["schema"] = kJsonSchema;
  std::cout << json_text(j, 2) << '\n';
}

bool colour_on_stdout() {
  static const bool on = [] {
    const char* no_colour = std::getenv("NO_COLOR");
    const char* term = std::getenv("TERM");
    return ::isatty(STDOUT_FILENO) && (no_colour == nullptr || *no_colour == '\0') && term != nullptr &&
           std::string_view(term) != "dumb" && *term != '\0';
  }();
  return on;
}

std::string paint(std::string_view text, Colour c) {
  if (!colour_on_stdout()) return std::string(text);
  const char* sgr = c == Colour::kGreen ? "32" : c == Colour::kRed ? "31" : c == Colour::kYellow ? "33" : "1";
  return std::string("\033[") + sgr + "m" + std::string(text) + "\033[0m";
}

std::size_t terminal_columns() {
  if (const char* c = std::getenv("COLUMNS"); c && *c) {
    char* end = nullptr;
    const unsigned long n = std::strtoul(c, &end, 10);
    if (*end == '\0' && n >= 20 && n <= 10000) return n;
  }
  winsize ws{};
  if (::isatty(STDOUT_FILENO) && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20) return ws.ws_col;
  return 0;
}

namespace {

// No column is cut below this, nor below its header: a cut cell must still
// say something.
constexpr std::size_t kNarrowest = 12;

// Widths that fit in `columns` (0: no limit) as far as the floors allow: the
// column with the most to give gives way first.
void fit(std::vector<std::size_t>& width, const std::vector<std::size_t>& floor, std::size_t columns) {
  if (columns == 0 || width.empty()) return;
  for (;;) {
    std::size_t total = 2 * (width.size() - 1);
    for (std::size_t w : width) total += w;
    if (total <= columns) return;
    std::size_t best = 0, spare = 0;
    for (std::size_t i = 0; i < width.size(); ++i) {
      if (width[i] > floor[i] && width[i] - floor[i] > spare) {
        spare = width[i] - floor[i];
        best = i;
      }
    }
    if (spare == 0) return;
    width[best] -= std::min(spare, total - columns);
  }
}

// The length in bytes of the display unit at `s[i]` of a visible_text: one
// UTF-8 character, or an escape ("\\xNN", "\\\\") that must not be split.
std::size_t unit_at(const std::string& s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t n = 1;
  if (c == '\\') n = i + 1 < s.size() && s[i + 1] == 'x' ? 4 : 2;
  else if (c >= 0xF0) n = 4;
  else if (c >= 0xE0) n = 3;
  else if (c >= 0xC0) n = 2;
  return std::min(n, s.size() - i);
}

// What a visible_text takes on the screen: one column per unit.
std::size_t columns_of(const std::string& s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); i += unit_at(s, i)) ++n;
  return n;
}

// A cell cut to `w` columns: a path (it holds a '/') keeps its end (the
// file's name), other text its start; "..." marks the cut. Cuts fall between
// whole characters and escapes.
std::string cut(const std::string& cell, std::size_t w) {
  const std::size_t have = columns_of(cell);
  if (have <= w) return cell;
  const std::size_t keep = w > 3 ? w - 3 : 0;
  std::vector<std::size_t> starts;  // byte offset of each unit
  for (std::size_t i = 0; i < cell.size(); i += unit_at(cell, i)) starts.push_back(i);
  if (cell.find('/') != std::string::npos) return "..." + cell.substr(starts[have - keep]);
  return cell.substr(0, keep < starts.size() ? starts[keep] : cell.size()) + "...";
}

}  // namespace

void print_table(const std::vector<std::vector<std::string>>& rows, std::ostream& out) {
  std::vector<std::vector<std::string>> shown;
  shown.reserve(rows.size());
  std::vector<std::size_t> width;
  for (const auto& r : rows) {
    std::vector<std::string>& s = shown.emplace_back();
    for (const std::string& cell : r) s.push_back(visible_text(cell));
    if (width.size() < s.size()) width.resize(s.size(), 0);
    // A row shorter than the header (an error row) spans the rest with its last cell: it sets no width.
    const bool full = rows.empty() || s.size() >= rows.front().size();
    for (std::size_t i = 0; i < s.size() && (full || i + 1 < s.size()); ++i)
      width[i] = std::max(width[i], columns_of(s[i]));
  }
  std::vector<std::size_t> floor(width.size(), kNarrowest);
  for (std::size_t i = 0; !shown.empty() && i < shown.front().size(); ++i)
    floor[i] = std::max(kNarrowest, columns_of(shown.front()[i]));
  fit(width, floor, &out == &std::cout ? terminal_columns() : 0);
  for (const auto& r : shown) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      const bool last = i + 1 == r.size();
      // The last cell of a short row has the columns of the cells it spans.
      std::size_t w = width[i];
      if (last && r.size() < width.size())
        for (std::size_t k = i + 1; k < width.size(); ++k) w += width[k] + 2;
      const std::string cell = cut(r[i], w);
      line += cell;
      if (!last) line.append(width[i] - columns_of(cell) + 2, ' ');
    }
    out << line << '\n';
  }
}

}  // namespace sealkit::cli
