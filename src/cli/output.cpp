#include "cli/output.hpp"

#include <algorithm>
#include <cstdio>
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

void print_json(const nlohmann::json& j) { std::cout << json_text(j, 2) << '\n'; }

void print_table(const std::vector<std::vector<std::string>>& rows, std::ostream& out) {
  std::vector<std::vector<std::string>> shown;
  shown.reserve(rows.size());
  std::vector<std::size_t> width;
  for (const auto& r : rows) {
    std::vector<std::string>& s = shown.emplace_back();
    for (const std::string& cell : r) s.push_back(visible_text(cell));
    if (width.size() < s.size()) width.resize(s.size(), 0);
    for (std::size_t i = 0; i < s.size(); ++i) width[i] = std::max(width[i], s[i].size());
  }
  for (const auto& r : shown) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line.append(width[i] - r[i].size() + 2, ' ');
    }
    out << line << '\n';
  }
}

}  // namespace sealkit::cli
