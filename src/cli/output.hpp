// Output helpers shared by subcommands: one-line errors, JSON, tables.
#pragma once

#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace sealkit::cli {

// "sealkit: error: <what>" on stderr. Messages say what was wrong and what to do.
void print_error(std::string_view what);

// "sealkit: warning: <what>" on stderr: something the user should know, not a failure.
void print_warning(std::string_view what);

// Pretty JSON and a trailing newline on stdout.
void print_json(const nlohmann::json& j);

// A plain-text table with aligned columns; the first row is the header.
void print_table(const std::vector<std::vector<std::string>>& rows, std::ostream& out = std::cout);

}  // namespace sealkit::cli
