#include "cli/output.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>

namespace sealkit::cli {

void print_error(std::string_view what) {
  std::fprintf(stderr, "sealkit: error: %.*s\n", static_cast<int>(what.size()), what.data());
}

void print_warning(std::string_view what) {
  std::fprintf(stderr, "sealkit: warning: %.*s\n", static_cast<int>(what.size()), what.data());
}

void print_json(const nlohmann::json& j) { std::cout << j.dump(2) << '\n'; }

void print_table(const std::vector<std::vector<std::string>>& rows, std::ostream& out) {
  std::vector<std::size_t> width;
  for (const auto& r : rows) {
    if (width.size() < r.size()) width.resize(r.size(), 0);
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line.append(width[i] - r[i].size() + 2, ' ');
    }
    out << line << '\n';
  }
}

}  // namespace sealkit::cli
