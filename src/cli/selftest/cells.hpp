// Running one matrix cell (sealed run + unsealed control) and judging it
// against the documented rule.
#pragma once

#include <optional>
#include <string>

#include "cli/selftest/child.hpp"
#include "cli/selftest/matrix.hpp"

namespace sealkit::cli::selftest {

// kKnownDifference: not as the kernel's rule, in a way docs/seccomp.md lists
// for the seccomp backend (only when that backend sealed the cell).
enum class Verdict { kAsExpected, kMismatch, kNotApplicable, kKnownDifference };

struct CellResult {
  Primitive primitive;
  MappingClass cls;
  Expectation expectation;
  std::optional<ChildResult> sealed{};   // absent when there was nothing to run
  std::optional<ChildResult> control{};  // the same call on the same class, unsealed
  Verdict verdict = Verdict::kMismatch;
  std::string reason{};  // why the verdict, in one sentence
};

CellResult run_cell(Primitive p, MappingClass c);

// The verdict for results already in `cell` (split out so that the rule
// for judging can be read on its own).
void judge(CellResult& cell);

std::string_view verdict_name(Verdict v);

}  // namespace sealkit::cli::selftest
