// usage_message (usage_error.hpp). Each CLI11 error type that a user can
// cause has its own sentence; an error type not listed keeps CLI11's text.
#include "cli/usage_error.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/command.hpp"

namespace sealkit::cli {

namespace {

bool looks_like_option(std::string_view w) { return w.size() > 1 && w[0] == '-' && w != "--"; }

// "unknown option '--x'" or "unexpected argument 'x'": the first word left over.
std::string leftover(const std::vector<std::string>& words) {
  for (const std::string& w : words) {
    if (w == "--") continue;
    return looks_like_option(w) ? "unknown option '" + w + "'" : "unexpected argument '" + w + "'";
  }
  return "unexpected arguments";
}

// "NAME: rest" as CLI11 writes it: NAME, or empty.
std::string_view option_name(std::string_view what) {
  const std::size_t colon = what.find(": ");
  return colon == std::string_view::npos ? std::string_view() : what.substr(0, colon);
}

}  // namespace

std::string usage_message(const CLI::App& app, const CLI::ParseError& e, int argc, const char* const* argv) {
  const CLI::App* sub = named_subcommand(app, argc, argv);
  const std::string help =
      sub ? "; run 'sealkit " + sub->get_name() + " --help' for usage" : std::string("; run 'sealkit --help' for usage");
  const std::string_view what = e.what();
  if (sub == nullptr) {
    // Before a subcommand CLI11 knows only "a subcommand is required".
    const std::vector<std::string> words = app.remaining();
    if (words.empty()) return "no subcommand given" + help;
    if (looks_like_option(words.front())) return "unknown option '" + words.front() + "'" + help;
    return "unknown subcommand '" + words.front() + "'" + help;
  }
  if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) return leftover(sub->remaining()) + help;
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) != nullptr) {
    const std::string name(option_name(what));
    if (what.find("At Most") != std::string_view::npos) return name + " given more than once" + help;
    if (what.find("missing") != std::string_view::npos) return name + " needs a value" + help;
  }
  if (dynamic_cast<const CLI::ExcludesError*>(&e) != nullptr) {
    // "--a excludes --b"
    const std::size_t at = what.find(" excludes ");
    if (at != std::string_view::npos)
      return std::string(what.substr(0, at)) + " and " + std::string(what.substr(at + 10)) +
             " cannot be used together" + help;
  }
  return std::string(what) + help;
}

}  // namespace sealkit::cli
