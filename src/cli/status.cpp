// `sealkit status [--json]`: whether machine-wide sealing is on, and whether
// everything it needs is as `sealkit enable` left it: the line, each class's
// object (owner, mode, the set-user-ID bit, what ld.so's cache resolves the
// name to), the runtime configuration, what the kernel does, and the running
// processes that started unsealed. Exit 0 on and consistent, 1 off or not
// consistent (each problem named), 2 an error.
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
#include "cli/format.hpp"
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

std::string mode_text(mode_t m) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

json fact_json(const KernelFact& f) {
  return {{"value", f.value ? json(*f.value) : json(nullptr)}, {"detail", f.detail}};
}

std::string yes_no(const KernelFact& f) { return f.value ? (*f.value ? "yes" : "no") : "unknown"; }

// Everything `status` looks at, gathered first, then judged and printed.
struct Status {
  json j;
  std::vector<std::string> problems;
  PreloadFile file;
  bool on = false;
  Installation inst;
  bool installed = false;
  std::string install_error;
  std::vector<std::string> entries;  // the preload file's names that are sealkit's
  bool shipped_there = false;        // one of them is the installed line
  ConfigReport conf;
  KernelFact mseal;
  KernelFact system;
  std::string proc_mem;
  std::string proc_mem_detail;
  ProcessScan scan;
};

// The line in /etc/ld.so.preload, against the installed one.
bool look_at_line(Status& s) {
  if (!read_preload_file(kPreloadFile, s.file, s.install_error)) {
    print_error(s.install_error);
    return false;
  }
  s.on = names_sealkit(s.file.text);
  s.installed = find_installation(s.inst, s.install_error);
  for (const std::string& n : preload_names(s.file.text)) {
    if (is_sealkit_entry(n)) s.entries.push_back(n);
  }
  for (const std::string& n : s.entries) s.shipped_there = s.shipped_there || (s.installed && n == s.inst.name);
  if (s.on && !s.installed) s.problems.push_back("the installation cannot be checked: " + s.install_error);
  if (s.on && s.installed && !s.shipped_there)
    s.problems.push_back(std::string(kPreloadFile) + " names sealkit's object, but not as the installed line (" +
                         s.inst.name + "): run sealkit disable, then sealkit enable");
  s.j["enabled"] = s.on;
  s.j["preload_file"] = {{"path", kPreloadFile},
                         {"exists", s.file.exists},
                         {"sealkit_entries", s.entries},
                         {"installed_line", s.installed ? json(s.inst.name) : json(nullptr)},
                         {"installed_line_file", s.installed ? json(s.inst.line_file) : json(nullptr)}};
  return true;
}

// Each class's object as the line reaches it.
void look_at_objects(Status& s) {
  s.j["classes"] = json::array();
  if (!s.installed) return;
  const Installation& inst = s.inst;
  std::vector<std::string> cached(inst.classes.size());
  std::string cache_error;
  const bool cache_ok = !inst.bare || cache_entries(inst.classes, cached, cache_error);
  if (!cache_ok) s.problems.push_back("ld.so's cache cannot be read: " + cache_error);
  for (std::size_t i = 0; i < inst.classes.size(); ++i) {
    const ClassObject& c = inst.classes[i];
    const auto mode = object_mode(c);
    json cj = {{"class", c.label},
               {"object", c.object},
               {"link", c.link.empty() ? json(nullptr) : json(c.link)},
               {"owner", mode ? json(user_name(static_cast<long>(mode->uid))) : json(nullptr)},
               {"mode", mode ? json(mode_text(mode->mode)) : json(nullptr)},
               {"setuid", mode ? json((mode->mode & S_ISUID) != 0) : json(nullptr)},
               {"ld_so_cache", inst.bare && !cached[i].empty() ? json(cached[i]) : json(nullptr)}};
    json checks = json::array();
    for (const Check& k : check_object(c)) {
      checks.push_back({{"ok", k.ok}, {"what", k.what}, {"detail", k.detail}});
      if (!k.ok && s.on) s.problems.push_back(k.what + ": " + k.detail);
    }
    cj["checks"] = checks;
    if (s.on && inst.bare && mode && (mode->mode & S_ISUID) == 0)
      s.problems.push_back(c.label + " object " + c.object +
                           " has no set-user-ID bit: setuid programs run unsealed (ld.so prints \"cannot be "
                           "preloaded\" on their stderr); run sealkit enable (a new install clears the bit)");
    if (s.on && inst.bare && cache_ok && cached[i].empty())
      s.problems.push_back("ld.so's cache does not list the " + c.label + " object: run ldconfig");
    s.j["classes"].push_back(cj);
  }
  s.j["without_32_bit"] = inst.without_32_bit.empty() ? json(nullptr) : json(inst.without_32_bit);
}

// The administrator's runtime configuration.
void look_at_config(Status& s) {
  s.conf = judge_runtime_config(rt::kSystemConfigPath);
  const ConfigReport& conf = s.conf;
  json problems_json = json::array();
  for (const LineProblem& p : conf.problems) problems_json.push_back({{"line", p.line}, {"message", p.message}});
  s.j["runtime_config"] = {
      {"path", rt::kSystemConfigPath},
      {"exists", conf.exists},
      {"read_error", conf.exists && !conf.read_error.empty() ? json(conf.read_error) : json(nullptr)},
      {"too_large", conf.too_large},
      {"problems", problems_json},
      {"trusted", conf.exists ? json(conf.trusted) : json(nullptr)},
      {"trust_problem", conf.trust_problem.empty() ? json(nullptr) : json(conf.trust_problem)}};
  if (!conf.exists) return;
  const std::string where = std::string(rt::kSystemConfigPath);
  if (!conf.read_error.empty()) s.problems.push_back(where + " cannot be read: " + conf.read_error);
  else if (!conf.trusted)
    s.problems.push_back(where + " is ignored by the runtime (each process warns): " + conf.trust_problem);
  else if (conf.too_large || !conf.problems.empty())
    s.problems.push_back(where + " has problems the runtime warns about in every process: sealkit config check " +
                         where);
}

// What the kernel does.
void look_at_kernel(Status& s) {
  s.mseal = mseal_seals();
  s.system = kernel_seals_system_mappings();
  s.proc_mem = proc_mem_force_override(s.proc_mem_detail);
  if (s.on && s.mseal.value != true) s.problems.push_back("this kernel cannot seal: " + s.mseal.detail);
  s.j["kernel"] = {{"mseal", fact_json(s.mseal)},
                   {"seals_system_mappings", fact_json(s.system)},
                   {"proc_mem_force_override", {{"value", s.proc_mem}, {"detail", s.proc_mem_detail}}}};
}

// The processes that started unsealed.
void look_at_processes(Status& s) {
  s.scan = processes_without_preload(s.conf.trusted && !s.conf.too_large ? s.conf.parsed.get() : nullptr);
  auto list = [](const std::vector<UnsealedProcess>& ps, bool with_filters) {
    json out = json::array();
    for (const UnsealedProcess& p : ps) {
      json e = {{"pid", p.pid}, {"comm", p.comm}, {"unit", p.unit}};
      if (with_filters) e["filters"] = p.filters;
      out.push_back(e);
    }
    return out;
  };
  s.j["unsealed_processes"] = list(s.scan.unsealed, false);
  s.j["filtered_processes"] = list(s.scan.filtered, true);
  s.j["static_unsealed_processes"] = list(s.scan.static_unsealed, false);
  s.j["static_processes_looked_at"] = s.scan.static_programs;
  s.j["processes_looked_at"] = s.scan.dynamic;
  s.j["processes_unreadable"] = s.scan.unreadable;
}

void print_line_and_objects(const Status& s) {
  std::cout << "machine-wide sealing: " << (s.on ? paint("on", Colour::kGreen) : paint("off", Colour::kBold)) << "\n";
  std::cout << "  " << kPreloadFile << ": "
            << (!s.file.exists ? "does not exist"
                : s.entries.empty()
                    ? "names no " + std::string(kPreloadObject)
                    : "names " + visible_text(s.entries.front()) + (s.shipped_there ? " (the installed line)" : ""))
            << "\n";
  if (!s.installed) {
    std::cout << "  installation: " << visible_text(s.install_error) << "\n";
    return;
  }
  std::vector<std::vector<std::string>> rows{{"CLASS", "OBJECT", "OWNER", "MODE", "SET-USER-ID", "LD.SO CACHE"}};
  for (const json& c : s.j["classes"]) {
    rows.push_back({c["class"], c["object"], c["owner"].is_null() ? "-" : c["owner"].get<std::string>(),
                    c["mode"].is_null() ? "missing" : c["mode"].get<std::string>(),
                    c["setuid"].is_null() ? "-" : c["setuid"].get<bool>() ? "yes" : "no",
                    !s.inst.bare ? "(a path: not looked up)"
                    : c["ld_so_cache"].is_null() ? "not listed"
                                                 : c["ld_so_cache"].get<std::string>()});
  }
  std::cout << "\n";
  print_table(rows);
  if (!s.inst.without_32_bit.empty()) std::cout << "32-bit: " << s.inst.without_32_bit << "\n";
}

void print_config_and_kernel(const Status& s) {
  const ConfigReport& conf = s.conf;
  std::cout << "\nruntime configuration: " << rt::kSystemConfigPath << ": ";
  if (!conf.exists) std::cout << "absent (the defaults)\n";
  else if (!conf.read_error.empty()) std::cout << "cannot be read: " << conf.read_error << "\n";
  else
    std::cout << (conf.too_large || !conf.problems.empty()
                      ? std::to_string(conf.problems.size() + (conf.too_large ? 1 : 0)) + " problem(s)"
                      : std::string("valid"))
              << ", " << (conf.trusted ? "trusted" : "not trusted: " + visible_text(conf.trust_problem)) << "\n";
  std::cout << "\nkernel:\n"
            << "  mseal(2) seals memory: " << yes_no(s.mseal) << " (" << s.mseal.detail << ")\n"
            << "  the kernel seals system mappings itself: " << yes_no(s.system) << " (" << s.system.detail << ")\n"
            << "  /proc/PID/mem writes (proc_mem.force_override): " << s.proc_mem << " (" << s.proc_mem_detail
            << ")\n";
}

void print_processes(const ProcessScan& scan) {
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
}

int run_status(bool as_json) {
  Status s;
  if (!look_at_line(s)) return kExitError;
  look_at_objects(s);
  look_at_config(s);
  look_at_kernel(s);
  look_at_processes(s);
  const bool consistent = s.problems.empty();
  s.j["consistent"] = s.on && consistent;
  s.j["problems"] = s.problems;
  if (as_json) {
    print_json(s.j);
  } else {
    print_line_and_objects(s);
    print_config_and_kernel(s);
    print_processes(s.scan);
    if (!s.problems.empty()) {
      std::cout << "\n" << paint("not consistent:", Colour::kRed) << "\n";
      for (const std::string& p : s.problems) std::cout << "  - " << visible_text(p) << "\n";
    }
  }
  return s.on && consistent ? kExitOk : kExitFinding;
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
