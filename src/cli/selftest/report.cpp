#include "cli/selftest/report.hpp"

#include <sys/utsname.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <string>

#include "cli/output.hpp"
#include "cli/selftest/io_uring.hpp"
#include "sealkit/sealkit.h"

namespace sealkit::cli::selftest {

namespace {

std::string kernel_release() {
  struct utsname u {};
  return uname(&u) == 0 ? u.release : "unknown";
}

// Prints `text` as lines of at most 118 columns: the first starts with
// `first`, the others are indented by `indent` spaces.
void print_wrapped(const std::string& first, const std::string& text, std::size_t indent) {
  constexpr std::size_t kWidth = 118;
  std::string line = first;
  std::size_t pos = 0;
  bool fresh = first.empty();  // nothing on this line yet to separate the next word from
  while (pos < text.size()) {
    std::size_t end = text.find(' ', pos);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(pos, end - pos);
    if (!fresh && line.size() + 1 + word.size() > kWidth) {
      std::cout << line << '\n';
      line.assign(indent, ' ');
      fresh = true;
    }
    if (!fresh) line += ' ';
    line += word;
    fresh = false;
    pos = end + 1;
  }
  std::cout << line << '\n';
}

std::string table_symbol(const CellResult& c) {
  switch (c.verdict) {
    case Verdict::kMismatch:
      return "FAIL";
    case Verdict::kNotApplicable:
      return "n/a";
    case Verdict::kKnownDifference:
      return "diff";
    case Verdict::kAsExpected:
      break;
  }
  if (c.expectation.outcome == Outcome::kAllowed) return "ok";
  return reports_errno(c.primitive) ? "EPERM" : "kept";
}

template <typename T>
bool contains(const std::vector<T>& v, const T& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// Rows and columns in the matrix's order, limited to what was run.
void print_matrix(const SelftestRun& run) {
  std::vector<Primitive> rows;
  std::vector<MappingClass> cols;
  for (const auto& c : run.cells) {
    if (!contains(rows, c.primitive)) rows.push_back(c.primitive);
    if (!contains(cols, c.cls)) cols.push_back(c.cls);
  }
  std::vector<std::vector<std::string>> table;
  std::vector<std::string> header{"primitive \\ class"};
  for (MappingClass m : cols) header.emplace_back(info(m).column);
  table.push_back(header);
  for (Primitive p : rows) {
    std::vector<std::string> row{std::string(info(p).label)};
    for (MappingClass m : cols) {
      auto it = std::find_if(run.cells.begin(), run.cells.end(),
                             [&](const CellResult& c) { return c.primitive == p && c.cls == m; });
      row.push_back(it == run.cells.end() ? "" : table_symbol(*it));
    }
    table.push_back(row);
  }
  print_table(table);
  std::cout << "\nEPERM  refused on sealed memory, which stayed intact; the same call on unsealed memory succeeded\n"
               "kept   brk did not move the break into sealed memory, which stayed intact (brk returns no errno)\n"
               "ok     allowed on sealed memory, as the kernel's rules say; the unsealed call succeeded too\n"
               "n/a    the primitive does not apply to this class (reasons below)\n"
               "FAIL   not as documented (details below)\n\n";
  for (MappingClass m : cols) std::cout << "  " << info(m).column << std::string(7 - info(m).column.size(), ' ')
                                        << info(m).what << '\n';
}

std::string class_list(const std::vector<MappingClass>& v) {
  std::string s;
  for (MappingClass m : v) s += (s.empty() ? "" : " ") + std::string(info(m).column);
  return s;
}

void print_summary(const SelftestRun& run) {
  std::size_t blocked = 0, allowed = 0, na = 0, bad = 0, diff = 0;
  for (const auto& c : run.cells) {
    if (c.verdict == Verdict::kMismatch) ++bad;
    else if (c.verdict == Verdict::kKnownDifference) ++diff;
    else if (c.verdict == Verdict::kNotApplicable) ++na;
    else if (c.expectation.outcome == Outcome::kAllowed) ++allowed;
    else ++blocked;
  }
  std::cout << '\n';
  print_wrapped("Summary:", std::to_string(run.cells.size()) + " cells: " + std::to_string(blocked) +
                                " refused as documented, " + std::to_string(allowed) + " allowed as documented, " +
                                std::to_string(na) + " not applicable, " + std::to_string(bad) +
                                " not as documented." + (bad == 0 ? " Every unsealed control succeeded." : "") +
                                (diff == 0 ? "" : " " + std::to_string(diff) +
                                                      " differ as docs/seccomp.md lists for the seccomp backend "
                                                      "(\"diff\" in the table; each reason below)."),
                2);

  for (const auto& c : run.cells) {
    if (c.verdict != Verdict::kMismatch) continue;
    print_wrapped("  FAIL " + std::string(info(c.primitive).label) + " on " + std::string(info(c.cls).name) + ":",
                  c.reason, 7);
  }
  for (const auto& c : run.cells) {
    if (c.verdict != Verdict::kKnownDifference) continue;
    print_wrapped("  diff " + std::string(info(c.primitive).label) + " on " + std::string(info(c.cls).name) + ":",
                  c.reason, 7);
  }

  // n/a cells, one line per primitive and reason.
  std::map<std::pair<std::string, std::string>, std::vector<MappingClass>> na_groups;
  std::map<std::pair<std::string, std::string>, bool> na_checked;
  for (const auto& c : run.cells) {
    if (c.verdict != Verdict::kNotApplicable) continue;
    auto key = std::make_pair(std::string(info(c.primitive).label), c.expectation.why);
    na_groups[key].push_back(c.cls);
    na_checked[key] = c.control.has_value();
  }
  if (!na_groups.empty()) std::cout << "\nNot applicable:\n";
  for (const auto& [key, cls] : na_groups) {
    print_wrapped("  " + key.first + " on " + class_list(cls) + ":",
                  key.second + (na_checked[key] ? "; confirmed on unsealed memory" : ""), 4);
  }

  // Allowed by the rules, and yet sealed read-only memory changed: worth
  // knowing even though it is documented behaviour.
  std::map<std::pair<std::string, std::string>, std::vector<MappingClass>> changed;
  for (const auto& c : run.cells) {
    if (c.verdict == Verdict::kAsExpected && c.expectation.outcome == Outcome::kAllowed && !info(c.cls).writable &&
        c.sealed && !c.sealed->intact)
      changed[{std::string(info(c.primitive).label), c.sealed->change}].push_back(c.cls);
  }
  if (!changed.empty()) {
    std::cout << "\nAllowed by the rules (discarding advice on file-backed memory is allowed even when it is sealed\n"
                 "and read-only), and yet the sealed read-only memory changed:\n";
    for (const auto& [key, cls] : changed)
      std::cout << "  " << key.first << " on " << class_list(cls) << ": " << key.second << '\n';
  }
}

void print_findings(const SelftestRun& run) {
  std::cout << "\nNot covered by mseal (each tried on sealed read-only anonymous memory, with an unsealed control):\n";
  for (const auto& f : run.not_covered) print_wrapped("  " + f.title + ": " + f.status + ":", f.detail, 4);
  std::cout << '\n';
  print_wrapped(run.io_uring.title + ": " + run.io_uring.status + ":", run.io_uring.detail, 2);
}

nlohmann::json child_json(const std::optional<ChildResult>& r) {
  if (!r) return nullptr;
  return {{"ran", r->ran},
          {"ok", r->ok},
          {"errno", r->err},
          {"error", errno_name(r->err)},
          {"intact", r->intact},
          {"change", r->change},
          {"detail", r->detail}};
}

nlohmann::json finding_json(const Finding& f) {
  return {{"key", f.key},
          {"title", f.title},
          {"status", f.status},
          {"detail", f.detail},
          {"sealed_result", child_json(f.sealed)},
          {"control_result", child_json(f.control)}};
}

}  // namespace

bool SelftestRun::all_as_expected() const {
  return std::none_of(cells.begin(), cells.end(), [](const CellResult& c) { return c.verdict == Verdict::kMismatch; });
}

void print_report(const SelftestRun& run) {
  print_wrapped("sealkit selftest on Linux " + kernel_release() + ":",
                "every primitive on every mapping class, sealed with sealkit_mseal and unsealed (the control), each "
                "run in its own forked child.",
                0);
  if (std::string_view(sealkit_backend()) == "seccomp") {
    print_wrapped("Backend: seccomp.",
                  "The seals are seccomp filters: /proc/PID/smaps shows no \"sl\" for them (sealkit_is_sealed reads "
                  "the backend's own record instead), and the cells below test the filter's refusals.",
                  0);
  }
  std::cout << '\n';
  print_matrix(run);
  print_summary(run);
  print_findings(run);
}

nlohmann::json report_json(const SelftestRun& run) {
  nlohmann::json cells = nlohmann::json::array();
  std::size_t counts[4] = {0, 0, 0, 0};
  for (const auto& c : run.cells) {
    ++counts[static_cast<int>(c.verdict)];
    cells.push_back({{"primitive", info(c.primitive).name},
                     {"class", info(c.cls).name},
                     {"call", info(c.primitive).call},
                     {"expected", outcome_name(c.expectation.outcome)},
                     {"expected_errno", c.expectation.outcome == Outcome::kBlocked && reports_errno(c.primitive)
                                            ? nlohmann::json("EPERM")
                                            : nlohmann::json(nullptr)},
                     {"rule", c.expectation.why},
                     {"sealed_result", child_json(c.sealed)},
                     {"control_result", child_json(c.control)},
                     {"verdict", verdict_name(c.verdict)},
                     {"reason", c.reason}});
  }
  nlohmann::json j;
  j["kernel"] = kernel_release();
  j["sealkit_version"] = sealkit_version();
  j["backend"] = sealkit_backend();
  j["cells"] = std::move(cells);
  j["summary"] = {{"cells", run.cells.size()},
                  {"as_expected", counts[static_cast<int>(Verdict::kAsExpected)]},
                  {"mismatches", counts[static_cast<int>(Verdict::kMismatch)]},
                  {"not_applicable", counts[static_cast<int>(Verdict::kNotApplicable)]},
                  {"known_differences", counts[static_cast<int>(Verdict::kKnownDifference)]}};
  j["not_covered"] = nlohmann::json::array();
  for (const auto& f : run.not_covered) j["not_covered"].push_back(finding_json(f));
  j["io_uring"] = finding_json(run.io_uring);
  j["io_uring"]["io_uring_disabled"] = io_uring_disabled_setting();
  j["ok"] = run.all_as_expected();
  return j;
}

}  // namespace sealkit::cli::selftest
