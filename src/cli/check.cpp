// `sealkit check PATH...`: static sealing readiness of ELF files, like
// checksec but for sealing. Directories are walked recursively by names
// relative to each open directory; symbolic links in them are not followed,
// so each file is reported once and a link swapped in during the walk leads
// nowhere.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "cli/format.hpp"
#include "cli/output.hpp"
#include "audit/elf_file.hpp"

namespace sealkit::cli {

namespace {

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

// What one run found: readable ELF files and unreadable paths (rows, the
// latter with their error), and what was not ELF (skipped: `skipped` rows
// name the ones given on the command line, `skipped_count` counts them all).
struct Found {
  std::vector<Row> rows;
  std::vector<Row> skipped;
  std::size_t skipped_count = 0;
};

// Not an ELF file, or not a file that can hold one: skipped, not an error.
bool is_not_elf(const std::string& error) {
  return error == "not an ELF file" || error == "not a regular file" || error.rfind("an ar archive", 0) == 0;
}

// An open file's facts; a FIFO, socket or device is skipped as not a regular file.
void check_fd(int fd, const std::string& path, bool named, Found& found) {
  Row r{path, std::nullopt, ""};
  struct stat st;
  if (::fstat(fd, &st) != 0) r.error = std::strerror(errno);
  else if (!S_ISREG(st.st_mode)) r.error = "not a regular file";
  else r.facts = audit::read_elf_fd(fd, r.error);
  if (!r.facts && is_not_elf(r.error)) {
    ++found.skipped_count;
    if (named) found.skipped.push_back(std::move(r));
    return;
  }
  found.rows.push_back(std::move(r));
}

// Directories deeper than this are reported, not walked: each level holds a
// descriptor, and a user can make a tree as deep as they like.
constexpr int kMaxDepth = 256;

// Every regular file under the open directory `dir` (shown as `path`), by
// names relative to it (openat, fstatat): a directory or file a user swaps
// for a symbolic link while the walk runs is not followed (O_NOFOLLOW), and
// a tree too deep for one path is still walked. Symbolic links in the tree
// are not followed; anything that cannot be read is an unreadable row, and
// the walk goes on with the rest. Takes `dir`.
void walk(int dir, const std::string& path, int depth, Found& found) {
  DIR* d = ::fdopendir(dir);
  if (d == nullptr) {
    found.rows.push_back({path, std::nullopt, std::string("cannot read the directory: ") + std::strerror(errno)});
    ::close(dir);
    return;
  }
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
    errno = 0;
  }
  if (errno != 0)
    found.rows.push_back({path, std::nullopt, std::string("reading the directory stopped: ") + std::strerror(errno)});
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    const std::string child = path + (path.empty() || path.back() != '/' ? "/" : "") + name;
    struct stat st;
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      found.rows.push_back({child, std::nullopt, std::strerror(errno)});
      continue;
    }
    if (S_ISLNK(st.st_mode)) continue;
    if (S_ISDIR(st.st_mode)) {
      if (depth >= kMaxDepth) {
        found.rows.push_back({child, std::nullopt, "more than " + std::to_string(kMaxDepth) +
                                                       " directories deep: not walked; check it on its own"});
        continue;
      }
      const int sub = ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) found.rows.push_back({child, std::nullopt, std::string("cannot read the directory: ") + std::strerror(errno)});
      else walk(sub, child, depth + 1, found);
      continue;
    }
    if (!S_ISREG(st.st_mode)) {
      ++found.skipped_count;  // a FIFO, socket or device holds no ELF file: not opened
      continue;
    }
    const int fd = ::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
      found.rows.push_back({child, std::nullopt, std::strerror(errno)});
      continue;
    }
    check_fd(fd, child, false, found);
    ::close(fd);
  }
  ::closedir(d);  // closes `dir`
}

// A path from the command line: a directory is walked, anything else read
// (following a symbolic link: the user named it); a path that is not there
// is an unreadable row, and the others are still checked.
void collect(const std::string& arg, Found& found) {
  struct stat named;
  if (::stat(arg.c_str(), &named) != 0) {
    found.rows.push_back({arg, std::nullopt, std::strerror(errno)});
    return;
  }
  if (!S_ISDIR(named.st_mode) && !S_ISREG(named.st_mode)) {  // a FIFO or device: not opened
    ++found.skipped_count;
    found.skipped.push_back({arg, std::nullopt, "not a regular file"});
    return;
  }
  const int fd = ::open(arg.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    found.rows.push_back({arg, std::nullopt, std::strerror(errno)});
    return;
  }
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    walk(fd, arg, 0, found);
    return;
  }
  check_fd(fd, arg, true, found);
  ::close(fd);
}

int run_check(const CheckOptions& o) {
  Found found;
  for (const std::string& p : o.paths) collect(p, found);
  std::size_t errors = 0;
  for (const Row& r : found.rows) errors += !r.facts;
  const std::size_t elf = found.rows.size() - errors;

  if (o.json) {
    nlohmann::json j{{"files", nlohmann::json::array()},
                     {"errors", errors},
                     {"non_elf_skipped", found.skipped_count},
                     {"skipped", nlohmann::json::array()}};
    for (const Row& r : found.rows) j["files"].push_back(to_json(r));
    for (const Row& r : found.skipped) j["skipped"].push_back({{"path", r.path}, {"reason", r.error}});
    print_json(j);
  } else {
    std::vector<std::vector<std::string>> table{
        {"FILE", "TYPE", "RELRO", "NOW", "SEAL-PROP", "MUTABLE", "TEXTREL", "EXECSTACK", "W|X", "SEALKIT RUN"}};
    for (const Row& r : found.rows) table.push_back(to_cells(r));
    for (const Row& r : found.skipped) table.push_back({r.path, "skipped: " + r.error});
    print_table(table);
    std::cout << "\n" << count(elf, "ELF file") << " checked, " << count(errors, "path") << " unreadable, "
              << count(found.skipped_count, "non-ELF file") << " skipped\n";
  }
  return errors ? kExitFinding : kExitOk;
}

}  // namespace

Runner add_check(CLI::App& app) {
  auto* sub = app.add_subcommand("check", "Report how ready ELF files are for sealing (like checksec, for mseal)");
  auto o = std::make_shared<CheckOptions>();
  sub->add_option("PATH", o->paths, "ELF files, or directories to walk (symbolic links in them are not followed)")
      ->required();
  sub->add_flag("--json", o->json, "Print the result as one JSON object (below)");
  sub->footer(
      "A file that is not ELF (or not a regular file) is skipped and counted, not an error. A path that cannot be\n"
      "read (missing, no permission, a directory that cannot be listed) is an error with its reason; the other\n"
      "paths are still checked.\n"
      "--json prints {\"schema\": 1, \"files\": [...], \"errors\": N, \"non_elf_skipped\": N, \"skipped\": [...]}:\n"
      "one object per ELF file (path, type, elf64, dynamic, interpreter, pie, relro, bind_now,\n"
      "memory_seal_property, gnu_mutable_segments, gnu_mutable_section, mutable_sections, textrel, exec_stack,\n"
      "wx_segments, load_segments, run_seals_bytes, run_leaves_bytes, run) or {path, error} for an unreadable\n"
      "path; skipped lists {path, reason} for the non-ELF files named on the command line (docs/cli.md).\n"
      "Exit status: 0 every path read, 1 a path could not be read (each says why), 2 bad usage.");
  return [o] { return run_check(*o); };
}

}  // namespace sealkit::cli
