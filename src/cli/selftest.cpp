// `sealkit selftest`: placeholder until the attack matrix lands (issue 2).
#include <CLI/CLI.hpp>

#include "cli/command.hpp"
#include "cli/output.hpp"

namespace sealkit::cli {

Runner add_selftest(CLI::App& app) {
  app.add_subcommand("selftest", "Run the sealing conformance and attack matrix");
  return [] {
    print_error("selftest is not implemented yet");
    return kExitError;
  };
}

}  // namespace sealkit::cli
