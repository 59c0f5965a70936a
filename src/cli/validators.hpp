// Checks of option values, in sealkit's words. CLI11's own (Range,
// IsMember, PositiveNumber) print their internals ("Value 0 not in range
// 0.000000 to 1797...", "Could not convert: pids = abc"); these say what the
// value must be. CLI11 prefixes the option's name: "--stop-timeout: must be
// a whole number of milliseconds from 1 to 10000, not 'x'".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace sealkit::cli {

// A whole number from `lo` to `hi`; `what` names it ("milliseconds").
CLI::Validator whole_number(std::uint64_t lo, std::uint64_t hi, const std::string& what);

// A decimal number from `lo` to `hi`; `what` names it ("percent").
CLI::Validator decimal_number(double lo, double hi, const std::string& what);

// One of `names`.
CLI::Validator one_of(const std::vector<std::string>& names);

// A file name: not empty (it would silently mean nothing), and not starting
// with '-', which is an option the user forgot a value before (`--log
// --backend seccomp ...` would log to "--backend"); "./-name" names such a
// file. `stdout_dash`: "-" alone means stdout and is accepted.
CLI::Validator file_name(bool stdout_dash = false);

// A process id as /proc lists them (1 to 2^22, the kernel's PID_MAX_LIMIT).
CLI::Validator process_id();

}  // namespace sealkit::cli
