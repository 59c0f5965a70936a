// Presenting a selftest run: a table for people, JSON for programs.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "cli/selftest/cells.hpp"
#include "cli/selftest/findings.hpp"

namespace sealkit::cli::selftest {

struct SelftestRun {
  std::vector<CellResult> cells;
  std::vector<Finding> not_covered;
  Finding io_uring;

  bool all_as_expected() const;
};

void print_report(const SelftestRun& run);
nlohmann::json report_json(const SelftestRun& run);

}  // namespace sealkit::cli::selftest
