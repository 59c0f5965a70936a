// Runs a program the way the runtime tests need: argv, extra environment,
// stdout and stderr captured, exit status (or 128 + signal).
#pragma once

#include <string>
#include <vector>

namespace sealkit::test {

struct Captured {
  int status = -1;
  std::string out;
  std::string err;
};

// stderr goes to a temporary file, so that a full pipe never blocks the child.
// `env` holds NAME=VALUE strings added to (or replacing in) the environment.
Captured run_captured(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});

// "ASAN_OPTIONS=" with `option` after whatever this process's ASAN_OPTIONS
// holds: for a child that the sanitizer build must run differently.
std::string asan_options_with(const std::string& option);

}  // namespace sealkit::test
