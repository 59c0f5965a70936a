// Output helpers shared by subcommands: one-line errors, JSON, tables. Text
// for people is escaped here (cli/escape.hpp), so that a name a process or a
// file chose cannot drive the terminal; JSON is ASCII.
#pragma once

#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace sealkit::cli {

// "sealkit: error: <what>" on stderr, `what` through visible_text. Messages
// say what was wrong and what to do.
void print_error(std::string_view what);

// "sealkit: warning: <what>" on stderr, through visible_text: something the user should know, not a failure.
void print_warning(std::string_view what);

// The one way the CLI writes JSON: ASCII only (every other character as
// \uXXXX, so that a terminal showing it acts on nothing), and a byte that is
// not UTF-8 as U+FFFD instead of an exception. `indent` as json::dump.
std::string json_text(const nlohmann::json& j, int indent = -1);

// The version of the layout of every command's JSON output, carried as its
// "schema" member: raised when a member is removed, renamed or changes
// meaning (docs/cli.md, "JSON output"); members may be added within one.
inline constexpr int kJsonSchema = 1;

// json_text(j, 2) and a trailing newline on stdout; an object gets its
// "schema" member here.
void print_json(nlohmann::json j);

// Colour for people at a terminal: only when stdout is one, TERM is set and
// not "dumb", and NO_COLOR is unset or empty (no-color.org). paint() returns
// `text` unchanged otherwise: pipes, files and JSON never see an escape.
enum class Colour { kGreen, kRed, kYellow, kBold };
bool colour_on_stdout();
std::string paint(std::string_view text, Colour c);

// The terminal's width for output on stdout: COLUMNS when set (20 to 10000),
// else the terminal's own when stdout is one; 0 (no limit) otherwise.
std::size_t terminal_columns();

// A plain-text table with aligned columns; the first row is the header.
// Every cell goes through visible_text. On stdout it fits terminal_columns():
// the widest columns give way, their cells cut with "..." (a path keeps its end).
void print_table(const std::vector<std::vector<std::string>>& rows, std::ostream& out = std::cout);

}  // namespace sealkit::cli
