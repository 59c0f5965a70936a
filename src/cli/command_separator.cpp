// with_command_separator (command.hpp): where the program's own command line
// starts, for the subcommands that run a program.
#include <CLI/CLI.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "cli/command.hpp"

namespace sealkit::cli {

namespace {

// The subcommands whose positional words are a program and its arguments.
constexpr std::string_view kRunsAProgram[] = {"run"};

bool runs_a_program(std::string_view name) {
  for (std::string_view n : kRunsAProgram) {
    if (n == name) return true;
  }
  return false;
}

// Whether `word` (an option of `sub`, as written) takes the next word as its
// value: `--log FILE` does, `--allow-static` and `--log=FILE` do not.
bool takes_next_word(const CLI::App& sub, std::string_view word) {
  if (word.find('=') != std::string_view::npos) return false;
  const CLI::Option* opt = sub.get_option_no_throw(std::string(word));
  return opt != nullptr && opt->get_expected_min() > 0;
}

}  // namespace

const CLI::App* named_subcommand(const CLI::App& app, int argc, const char* const* argv) {
  if (argc < 2) return nullptr;
  const std::string name = argv[1];
  const auto found = app.get_subcommands([&](const CLI::App* a) { return a->get_name() == name; });
  return found.empty() ? nullptr : found.front();
}

std::vector<const char*> with_command_separator(const CLI::App& app, int argc, const char* const* argv) {
  std::vector<const char*> words(argv, argv + argc);
  const CLI::App* sub = named_subcommand(app, argc, argv);
  if (sub == nullptr || !runs_a_program(sub->get_name())) return words;
  for (int i = 2; i < argc; ++i) {
    const std::string_view word = argv[i];
    if (word == "--") return words;  // the user separated it
    if (word.size() > 1 && word[0] == '-') {
      if (takes_next_word(*sub, word)) ++i;
      continue;  // an option (an unknown one is CLI11's to report)
    }
    words.insert(words.begin() + i, "--");
    return words;
  }
  return words;
}

}  // namespace sealkit::cli
