// `sealkit status [--json]`: whether machine-wide sealing is on, and whether
// everything it needs is as `sealkit enable` left it: the line, each class's
// object (owner, mode, the set-user-ID bit, what ld.so's cache resolves the
// name to), the runtime configuration, what the kernel does, and the running
// processes that started unsealed. Exit 0 on and consistent, 1 off or not
// consistent (each problem named), 2 an error.
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "cli/escape.hpp"
#include "cli/machine/installation.hpp"
#include "cli/machine/kernel_facts.hpp"
#include "cli/machine/preload_file.hpp"
#include "cli/machine/processes.hpp"
#include "cli/machine/runtime_config.hpp"
#include "cli/output.hpp"
#include "runtime/config.hpp"

namespace sealkit::cli {

namespace {

using namespace machine;
using nlohmann::json;

std::string user_name(uid_t uid) {
  if (const passwd* pw = ::getpwuid(uid)) return pw->pw_name;
  return std::to_string(uid);
}

std::string mode_text(mode_t m) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

json fact_json(const KernelFact& f) {
  return {{"value", f.value ? json(*f.value) : json(nullptr)}, {"detail", f.detail}};
}

std::string yes_no(const KernelFact& f) { return f.value ? (*f.value ? "yes" : "no") : "unknown"; }

int run_status(bool as_json) {
  std::vector<std::string> problems;
  json j;

  // The line.
  PreloadFile file;
  std::string error;
  if (!read_preload_file(kPreloadFile, file, error)) {
    print_error(error);
    return kExitError;
  }
  const bool on = names_sealkit(file.text);
  Installation inst;
  const bool installed = find_installation(inst, error);
  std::vector<std::string> entries;
  for (const std::string& n : preload_names(file.text)) {
    if (is_sealkit_entry(n)) entries.push_back(n);
  }
  bool shipped_there = false;
  for (const std::string& n : entries) shipped_there = shipped_there || (installed && n == inst.name);
  if (on && !installed) problems.push_back("the installation cannot be checked: " + error);
  if (on && installed && !shipped_there)
    problems.push_back(std::string(kPreloadFile) + " names sealkit's object, but not as the installed line (" +
                       inst.name + "): run sealkit disable, then sealkit enable");
  j["enabled"] = on;
  j["preload_file"] = {{"path", kPreloadFile},
                       {"exists", file.exists},
                       {"sealkit_entries", entries},
                       {"installed_line", installed ? json(inst.name) : json(nullptr)},
                       {"installed_line_file", installed ? json(inst.line_file) : json(nullptr)}};

  // Each class's object as the line reaches it.
  j["classes"] = json::array();
  if (installed) {
    std::vector<std::string> cached(inst.classes.size());
    std::string cache_error;
    const bool cache_ok = !inst.bare || cache_entries(inst.classes, cached, cache_error);
    if (!cache_ok) problems.push_back("ld.so's cache cannot be read: " + cache_error);
    for (std::size_t i = 0; i < inst.classes.size(); ++i) {
      const ClassObject& c = inst.classes[i];
      const auto mode = object_mode(c);
      json cj = {{"class", c.label},
                 {"object", c.object},
                 {"link", c.link.empty() ? json(nullptr) : json(c.link)},
                 {"owner", mode ? json(user_name(mode->uid)) : json(nullptr)},
                 {"mode", mode ? json(mode_text(mode->mode)) : json(nullptr)},
                 {"setuid", mode ? json((mode->mode & S_ISUID) != 0) : json(nullptr)},
                 {"ld_so_cache", inst.bare && !cached[i].empty() ? json(cached[i]) : json(nullptr)}};
      json checks = json::array();
      for (const Check& k : check_object(c)) {
        checks.push_back({{"ok", k.ok}, {"what", k.what}, {"detail", k.detail}});
        if (!k.ok && on) problems.push_back(k.what + ": " + k.detail);
      }
      cj["checks"] = checks;
      if (on && inst.bare && mode && (mode->mode & S_ISUID) == 0)
        problems.push_back(c.label + " object " + c.object +
                           " has no set-user-ID bit: setuid programs run unsealed (ld.so prints \"cannot be "
                           "preloaded\" on their stderr); run sealkit enable (a new install clears the bit)");
      if (on && inst.bare && cache_ok && cached[i].empty())
        problems.push_back("ld.so's cache does not list the " + c.label + " object: run ldconfig");
      j["classes"].push_back(cj);
    }
    j["without_32_bit"] = inst.without_32_bit.empty() ? json(nullptr) : json(inst.without_32_bit);
  }

  // The administrator's runtime configuration.
  const ConfigReport conf = judge_runtime_config(rt::kSystemConfigPath);
  json problems_json = json::array();
  for (const LineProblem& p : conf.problems) problems_json.push_back({{"line", p.line}, {"message", p.message}});
  j["runtime_config"] = {{"path", rt::kSystemConfigPath},
                         {"exists", conf.exists},
                         {"read_error", conf.exists && !conf.read_error.empty() ? json(conf.read_error) : json(nullptr)},
                         {"too_large", conf.too_large},
                         {"problems", problems_json},
                         {"trusted", conf.exists ? json(conf.trusted) : json(nullptr)},
                         {"trust_problem", conf.trust_problem.empty() ? json(nullptr) : json(conf.trust_problem)}};
  if (conf.exists) {
    const std::string where = std::string(rt::kSystemConfigPath);
    if (!conf.read_error.empty()) problems.push_back(where + " cannot be read: " + conf.read_error);
    else if (!conf.trusted)
      problems.push_back(where + " is ignored by the runtime (each process warns): " + conf.trust_problem);
    else if (conf.too_large || !conf.problems.empty())
      problems.push_back(where + " has problems the runtime warns about in every process: sealkit config check " +
                         where);
  }

  // The kernel.
  const KernelFact ms = mseal_seals();
  const KernelFact system = kernel_seals_system_mappings();
  std::string proc_mem_detail;
  const std::string proc_mem = proc_mem_force_override(proc_mem_detail);
  if (on && ms.value != true) problems.push_back("this kernel cannot seal: " + ms.detail);
  j["kernel"] = {{"mseal", fact_json(ms)},
                 {"seals_system_mappings", fact_json(system)},
                 {"proc_mem_force_override", {{"value", proc_mem}, {"detail", proc_mem_detail}}}};

  // The processes that started unsealed.
  const ProcessScan scan = processes_without_preload(conf.trusted && !conf.too_large ? conf.parsed.get() : nullptr);
  json procs = json::array();
  for (const UnsealedProcess& p : scan.unsealed)
    procs.push_back({{"pid", p.pid}, {"comm", p.comm}, {"unit", p.unit}});
  j["unsealed_processes"] = procs;
  json filtered = json::array();
  for (const UnsealedProcess& p : scan.filtered)
    filtered.push_back({{"pid", p.pid}, {"comm", p.comm}, {"unit", p.unit}, {"filters", p.filters}});
  j["filtered_processes"] = filtered;
  json statics = json::array();
  for (const UnsealedProcess& p : scan.static_unsealed)
    statics.push_back({{"pid", p.pid}, {"comm", p.comm}, {"unit", p.unit}});
  j["static_unsealed_processes"] = statics;
  j["static_processes_looked_at"] = scan.static_programs;
  j["processes_looked_at"] = scan.dynamic;
  j["processes_unreadable"] = scan.unreadable;

  const bool consistent = problems.empty();
  j["consistent"] = on && consistent;
  j["problems"] = problems;

  if (as_json) {
    print_json(j);
  } else {
    std::cout << "machine-wide sealing: " << (on ? "on" : "off") << "\n";
    std::cout << "  " << kPreloadFile << ": "
              << (!file.exists ? "does not exist"
                  : entries.empty()
                      ? "names no " + std::string(kPreloadObject)
                      : "names " + visible_text(entries.front()) + (shipped_there ? " (the installed line)" : ""))
              << "\n";
    if (installed) {
      std::vector<std::vector<std::string>> rows{{"CLASS", "OBJECT", "OWNER", "MODE", "SET-USER-ID", "LD.SO CACHE"}};
      for (const json& c : j["classes"]) {
        rows.push_back({c["class"], c["object"], c["owner"].is_null() ? "-" : c["owner"].get<std::string>(),
                        c["mode"].is_null() ? "missing" : c["mode"].get<std::string>(),
                        c["setuid"].is_null() ? "-" : c["setuid"].get<bool>() ? "yes" : "no",
                        !inst.bare ? "(a path: not looked up)"
                        : c["ld_so_cache"].is_null() ? "not listed"
                                                     : c["ld_so_cache"].get<std::string>()});
      }
      std::cout << "\n";
      print_table(rows);
      if (!inst.without_32_bit.empty()) std::cout << "32-bit: " << inst.without_32_bit << "\n";
    } else {
      std::cout << "  installation: " << visible_text(error) << "\n";
    }
    std::cout << "\nruntime configuration: " << rt::kSystemConfigPath << ": ";
    if (!conf.exists) std::cout << "absent (the defaults)\n";
    else if (!conf.read_error.empty()) std::cout << "cannot be read: " << conf.read_error << "\n";
    else
      std::cout << (conf.too_large || !conf.problems.empty()
                        ? std::to_string(conf.problems.size() + (conf.too_large ? 1 : 0)) + " problem(s)"
                        : std::string("valid"))
                << ", " << (conf.trusted ? "trusted" : "not trusted: " + visible_text(conf.trust_problem)) << "\n";
    std::cout << "\nkernel:\n"
              << "  mseal(2) seals memory: " << yes_no(ms) << " (" << ms.detail << ")\n"
              << "  the kernel seals system mappings itself: " << yes_no(system) << " (" << system.detail << ")\n"
              << "  /proc/PID/mem writes (proc_mem.force_override): " << proc_mem << " (" << proc_mem_detail << ")\n";
    std::cout << "\nprocesses running unsealed (no " << kPreloadObject << " mapped: started before the line, or "
              << "under another /etc); restart them: " << scan.unsealed.size() << " of " << scan.dynamic << "\n";
    if (scan.unreadable)
      std::cout << "  (" << scan.unreadable << " more processes whose maps could not be read"
                << (::geteuid() == 0 ? ")\n" : ": run as root)\n");
    if (!scan.unsealed.empty()) {
      std::vector<std::vector<std::string>> rows{{"UNIT", "PID", "COMM"}};
      for (const UnsealedProcess& p : scan.unsealed) rows.push_back({p.unit, std::to_string(p.pid), p.comm});
      print_table(rows);
    }
    if (!scan.filtered.empty()) {
      std::cout << "\nprocesses a seccomp filter keeps from sealing (" << kPreloadObject
                << " mapped, not sealed): " << scan.filtered.size() << "\n"
                << "  their filters refuse mseal (an allow-list written before it answers ENOSYS, or the unit's\n"
                   "  SystemCallErrorNumber=); `sealkit audit PID` says the answer. systemd 252 (Debian 12) refuses\n"
                   "  mseal in every unit with SystemCallFilter= and cannot be told otherwise (its libseccomp does not\n"
                   "  know the name); systemd 257 (Debian 13) allows it in every allow-list. For a container, allow\n"
                   "  system call 462 in its manager's profile. Such processes are sealed once their filter allows it.\n";
      std::vector<std::vector<std::string>> rows{{"UNIT", "PID", "COMM", "FILTERS"}};
      for (const UnsealedProcess& p : scan.filtered)
        rows.push_back({p.unit, std::to_string(p.pid), p.comm, std::to_string(p.filters)});
      print_table(rows);
    }
    if (!scan.static_unsealed.empty()) {
      std::cout << "\nstatically linked processes running unsealed (no ld.so: machine-wide sealing never reaches them;\n"
                   "  `sealkit run -- PROGRAM` seals one it starts, docs/runtime.md \"Statically linked programs\"): "
                << scan.static_unsealed.size() << " of " << scan.static_programs << "\n";
      std::vector<std::vector<std::string>> rows{{"UNIT", "PID", "COMM"}};
      for (const UnsealedProcess& p : scan.static_unsealed) rows.push_back({p.unit, std::to_string(p.pid), p.comm});
      print_table(rows);
    }
    if (!problems.empty()) {
      std::cout << "\nnot consistent:\n";
      for (const std::string& p : problems) std::cout << "  - " << visible_text(p) << "\n";
    }
  }
  return on && consistent ? kExitOk : kExitFinding;
}

}  // namespace

Runner add_status(CLI::App& app) {
  auto* sub = app.add_subcommand("status", "Say whether machine-wide sealing is on, and what still runs unsealed");
  auto json_out = std::make_shared<bool>(false);
  sub->add_flag("--json", *json_out, "Print the status as JSON");
  sub->footer("Exit status: 0 on and consistent, 1 off or not consistent (each problem is named), 2 an error.");
  return [json_out] { return run_status(*json_out); };
}

}  // namespace sealkit::cli
