// A runtime configuration file judged the way the runtime judges
// /etc/sealkit/runtime.conf: each line by the runtime's own parser
// (runtime/config.hpp, which reports every line it ignores), the file's size
// by its limit, and its whole path by the runtime's trust rule
// (runtime/trusted_file.hpp). `sealkit config check` and `sealkit status`
// both ask here.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "runtime/config.hpp"

namespace sealkit::cli::machine {

struct LineProblem {
  std::size_t line = 0;
  std::string message;
};

struct ConfigReport {
  bool exists = false;
  std::string read_error;  // not readable (empty when it was read)
  bool too_large = false;  // over the runtime's 16384 bytes: ignored whole
  std::vector<LineProblem> problems;
  bool trusted = false;       // the whole path passes the rule for the system file
  std::string trust_problem;  // which component breaks it, and how
  // The file as the runtime's parser read it (null when it could not be
  // read or is too large). The runtime uses it only when `trusted` too.
  std::shared_ptr<const rt::Config> parsed;
};

ConfigReport judge_runtime_config(const std::string& path);

}  // namespace sealkit::cli::machine
