// `sealkit config check FILE`: a runtime configuration file judged as the
// runtime would judge it (like `sshd -t`), before it is installed as
// /etc/sealkit/runtime.conf: every line the runtime's parser would ignore,
// with its number, and whether the file's whole path would be trusted as the
// system file. Exit 0 valid, 1 problems, 2 unreadable or bad usage.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/command.hpp"
#include "cli/escape.hpp"
#include "cli/machine/runtime_config.hpp"
#include "cli/output.hpp"
#include "runtime/config.hpp"

namespace sealkit::cli {

namespace {

int run_config_check(const std::string& given) {
  namespace fs = std::filesystem;
  // Absolute, but not resolved: the trust rule refuses a link on the way, as the runtime does.
  const std::string path = fs::absolute(given).lexically_normal().string();
  const machine::ConfigReport r = machine::judge_runtime_config(path);
  if (!r.read_error.empty()) {
    print_error(given + ": " + r.read_error + "; give a readable regular file");
    return kExitError;
  }
  const std::string shown = visible_text(given);
  std::size_t problems = r.problems.size();
  if (r.too_large) {
    std::cout << shown << ": larger than " << rt::Config::kMaxBytes
              << " bytes: the runtime ignores the whole file and uses the defaults\n";
    ++problems;
  }
  for (const machine::LineProblem& p : r.problems)
    std::cout << shown << ":" << p.line << ": " << visible_text(p.message) << "; the runtime ignores this line\n";
  // Trust is the path's: it matters for the file at this path, which is what
  // the runtime reads when `path` is the system file.
  const bool is_system_file = path == rt::kSystemConfigPath;
  if (r.trusted) {
    std::cout << shown << ": trusted as the system file: yes (the file and every directory above it are root's and "
                          "writable only by root, no link on the way)\n";
  } else {
    std::cout << shown << ": trusted as the system file: no: " << visible_text(r.trust_problem)
              << (is_system_file ? "; the runtime ignores it and warns in every process (chown root, chmod go-w)"
                                 : "; install it as " + std::string(rt::kSystemConfigPath) +
                                       " owned by root, mode 0644")
              << "\n";
    if (is_system_file) ++problems;
  }
  std::cout << shown << ": " << (problems == 0 ? "valid" : std::to_string(problems) + " problem(s)") << "\n";
  return problems == 0 ? kExitOk : kExitFinding;
}

}  // namespace

Runner add_config(CLI::App& app) {
  auto* sub = app.add_subcommand("config", "Runtime configuration files");
  sub->require_subcommand(1, 1);
  sub->footer("Exit status: that of its subcommand (sealkit config check --help).");
  auto* check = sub->add_subcommand(
      "check", "Check a runtime configuration file (/etc/sealkit/runtime.conf or a draft of it) as the runtime reads it");
  auto file = std::make_shared<std::string>();
  check->add_option("FILE", *file, "The file to check")->required();
  check->footer("Exit status: 0 valid, 1 problems (each with its line number), 2 unreadable or bad usage.");
  return [file] { return run_config_check(*file); };
}

}  // namespace sealkit::cli
