// `sealkit check FILE|DIR...`: static sealing readiness of ELF files, like
// checksec but for sealing. Directories are walked recursively; symbolic
// links are not followed, so each file is reported once.
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "cli/output.hpp"
#include "audit/elf_file.hpp"

namespace sealkit::cli {

namespace {

namespace fs = std::filesystem;
using audit::ElfFacts;

struct CheckOptions {
  std::vector<std::string> paths;
  bool json = false;
};

struct Row {
  std::string path;
  std::optional<ElfFacts> facts;
  std::string error;
};

// What `sealkit run` does with this file, in a few words.
std::string run_verdict(const ElfFacts& f) {
  if (f.kind == ElfFacts::Kind::kRelocatable || f.kind == ElfFacts::Kind::kOther) return "not loadable";
  if ((f.kind == ElfFacts::Kind::kExecutable || f.kind == ElfFacts::Kind::kPie) && !f.has_interp)
    return "static: cannot seal";
  // What stays unsealed: PT_GNU_MUTABLE, page-aligned writable sections
  // (core/mutable_sections.hpp) by name, and writable and executable
  // segments (docs/runtime.md, "Protections").
  std::vector<std::string> kept;
  if (f.mutable_segments) kept.push_back("PT_GNU_MUTABLE");
  for (const audit::ElfMutableSection& m : f.mutable_sections) kept.push_back(m.name.empty() ? "(unnamed section)" : m.name);
  if (f.wx_bytes) kept.push_back("W|X");
  if (kept.empty()) return "seals all";
  std::string out = "seals all but";
  for (std::size_t i = 0; i < kept.size(); ++i) out += (i ? ", " : " ") + kept[i];
  return out;
}

nlohmann::json to_json(const Row& r) {
  nlohmann::json j{{"path", r.path}};
  if (!r.facts) {
    j["error"] = r.error;
    return j;
  }
  const ElfFacts& f = *r.facts;
  j["type"] = audit::to_string(f.kind);
  j["elf64"] = f.elf64;
  j["dynamic"] = f.has_interp || f.kind == ElfFacts::Kind::kSharedObject;
  j["interpreter"] = f.has_interp;
  j["pie"] = f.kind == ElfFacts::Kind::kPie;
  j["relro"] = audit::to_string(f.relro);
  j["bind_now"] = f.bind_now;
  j["memory_seal_property"] = f.memory_seal_property;
  j["gnu_mutable_segments"] = f.mutable_segments;
  j["gnu_mutable_section"] = f.mutable_section;
  j["mutable_sections"] = nlohmann::json::array();
  for (const audit::ElfMutableSection& m : f.mutable_sections)
    j["mutable_sections"].push_back(
        {{"name", m.name}, {"vaddr", m.vaddr}, {"size", m.size}, {"unsealed_bytes", m.page_end - m.page_begin}});
  j["textrel"] = f.textrel;
  j["exec_stack"] = audit::to_string(f.exec_stack);
  j["wx_segments"] = f.wx_segments;
  j["load_segments"] = f.load_segments;
  const std::uint64_t leaves = std::min(f.load_span_bytes, f.unsealed_bytes);
  j["run_seals_bytes"] = f.load_span_bytes - leaves;
  j["run_leaves_bytes"] = leaves;
  j["run"] = run_verdict(f);
  return j;
}

std::vector<std::string> to_cells(const Row& r) {
  if (!r.facts) return {r.path, "error: " + r.error};
  const ElfFacts& f = *r.facts;
  auto yn = [](bool b) { return std::string(b ? "yes" : "no"); };
  return {r.path,
          audit::to_string(f.kind),
          audit::to_string(f.relro),
          yn(f.bind_now),
          yn(f.memory_seal_property),
          (f.mutable_segments || f.mutable_section || !f.mutable_sections.empty()) ? "yes" : "no",
          yn(f.textrel),
          audit::to_string(f.exec_stack),
          std::to_string(f.wx_segments),
          run_verdict(f)};
}

// Collects files: explicit arguments always (a non-ELF one is an error),
// directory entries only when they are regular files that start like ELF.
bool collect(const std::string& arg, std::vector<Row>& rows, std::size_t& skipped) {
  std::error_code ec;
  auto st = fs::symlink_status(arg, ec);
  if (ec) {
    print_error(arg + ": " + ec.message() + "; give existing files or directories");
    return false;
  }
  if (!fs::is_directory(st)) {
    Row r{arg, std::nullopt, ""};
    r.facts = audit::read_elf_file(arg.c_str(), r.error);
    rows.push_back(std::move(r));
    return true;
  }
  fs::recursive_directory_iterator it(arg, fs::directory_options::skip_permission_denied, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const fs::directory_entry& e = *it;
    std::error_code ec2;
    if (!e.is_regular_file(ec2) || e.is_symlink(ec2)) continue;
    Row r{e.path().string(), std::nullopt, ""};
    r.facts = audit::read_elf_file(r.path.c_str(), r.error);
    if (!r.facts && (r.error == "not an ELF file" || r.error.rfind("an ar archive", 0) == 0)) {
      ++skipped;
      continue;
    }
    rows.push_back(std::move(r));
  }
  if (ec) rows.push_back({arg, std::nullopt, "walking stopped: " + ec.message()});
  return true;
}

int run_check(const CheckOptions& o) {
  std::vector<Row> rows;
  std::size_t skipped = 0;
  for (const std::string& p : o.paths)
    if (!collect(p, rows, skipped)) return kExitError;
  std::size_t errors = 0;
  for (const Row& r : rows) errors += !r.facts;

  if (o.json) {
    nlohmann::json j{{"files", nlohmann::json::array()}, {"errors", errors}, {"non_elf_skipped", skipped}};
    for (const Row& r : rows) j["files"].push_back(to_json(r));
    print_json(j);
  } else {
    std::vector<std::vector<std::string>> table{
        {"FILE", "TYPE", "RELRO", "NOW", "SEAL-PROP", "MUTABLE", "TEXTREL", "EXECSTACK", "W|X", "SEALKIT RUN"}};
    for (const Row& r : rows) table.push_back(to_cells(r));
    print_table(table);
    std::cout << "\n" << rows.size() << " ELF files, " << errors << " unreadable, " << skipped
              << " non-ELF files skipped in directories\n";
  }
  return errors ? kExitFinding : kExitOk;
}

}  // namespace

Runner add_check(CLI::App& app) {
  auto* sub = app.add_subcommand("check", "Report how ready ELF files are for sealing (like checksec, for mseal)");
  auto o = std::make_shared<CheckOptions>();
  sub->add_option("paths", o->paths, "ELF files, or directories to walk")->required();
  sub->add_flag("--json", o->json, "Print one JSON object per file");
  sub->footer("Exit status: 0 every file read, 1 a file is not readable ELF (each says why), 2 bad usage.");
  return [o] { return run_check(*o); };
}

}  // namespace sealkit::cli
