// Usage errors in sealkit's own words. CLI11 finds them; its messages name
// its internals ("A subcommand is required" for an unknown option, "At Most 1
// required but received 2", ranges printed with 309 digits). This turns each
// into one line that says what was wrong, for `sealkit: error: ...`.
#pragma once

#include <string>

namespace CLI {
class App;
class ParseError;
}  // namespace CLI

namespace sealkit::cli {

// What was wrong and where to read more, for an error CLI11 raised while
// parsing `argv` (as given to app.parse) for `app`.
std::string usage_message(const CLI::App& app, const CLI::ParseError& e, int argc, const char* const* argv);

}  // namespace sealkit::cli
