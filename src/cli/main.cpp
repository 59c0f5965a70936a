// The `sealkit` command: one binary, one file per subcommand.
#include <cstdio>
#include <map>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/command.hpp"
#include "cli/output.hpp"
#include "cli/usage_error.hpp"
#include "sealkit/sealkit.h"

int main(int argc, char** argv) {
  using namespace sealkit::cli;
  CLI::App app{"sealkit: memory sealing (mseal) for Linux programs", "sealkit"};
  app.set_version_flag("-V,--version", std::string("sealkit ") + sealkit_version());
  app.require_subcommand(1, 1);
  app.footer("Exit status: 0 ok, 1 a finding or a failed check, 2 bad usage or an error.");

  std::map<std::string, Runner> runners;
  auto add = [&](Runner (*adder)(CLI::App&)) {
    Runner r = adder(app);
    runners[app.get_subcommands([](CLI::App*) { return true; }).back()->get_name()] = std::move(r);
  };
  add(add_probe);
  add(add_selftest);
  add(add_run);
  add(add_check);
  add(add_audit);
  add(add_map);
  add(add_enable);
  add(add_disable);
  add(add_status);
  add(add_config);

  const std::vector<const char*> words = with_command_separator(app, argc, argv);
  try {
    app.parse(static_cast<int>(words.size()), words.data());
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    print_error(usage_message(app, e, static_cast<int>(words.size()), words.data()));
    return kExitError;
  }
  for (const CLI::App* sub : app.get_subcommands()) {
    try {
      return runners.at(sub->get_name())();
    } catch (const std::exception& e) {
      print_error(e.what());
      return kExitError;
    }
  }
  print_error("no subcommand given; run 'sealkit --help' for the list");
  return kExitError;
}
