// How subcommands plug into the `sealkit` binary: each file adds its CLI11
// subcommand to the app and returns the function that runs it once the
// command line is parsed. The returned int is the process exit status.
#pragma once

#include <functional>
#include <vector>

namespace CLI {
class App;
}

namespace sealkit::cli {

// Exit statuses, the same for every subcommand (docs/cli.md).
inline constexpr int kExitOk = 0;       // done, nothing found
inline constexpr int kExitFinding = 1;  // a finding or a failed check
inline constexpr int kExitError = 2;    // bad usage or an error

using Runner = std::function<int()>;

Runner add_probe(CLI::App& app);
Runner add_selftest(CLI::App& app);
Runner add_run(CLI::App& app);
Runner add_check(CLI::App& app);
Runner add_audit(CLI::App& app);
Runner add_map(CLI::App& app);
Runner add_enable(CLI::App& app);
Runner add_disable(CLI::App& app);
Runner add_status(CLI::App& app);
Runner add_config(CLI::App& app);

// The subcommand of `app` that argv[1] names, or null (sealkit has no
// options that take a value before its subcommand).
const CLI::App* named_subcommand(const CLI::App& app, int argc, const char* const* argv);

// The command line as CLI11 is to read it. A subcommand that runs a program
// (`sealkit run`) takes, as env, sudo and timeout do, the first word that is
// neither one of its options nor an option's value as the start of that
// program's command line: a `--` is put before it when the user wrote none,
// so that `sealkit run ls -d /` passes -d to ls.
std::vector<const char*> with_command_separator(const CLI::App& app, int argc, const char* const* argv);

}  // namespace sealkit::cli
