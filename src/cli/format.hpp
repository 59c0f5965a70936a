// Number formatting shared by the subcommands' human-readable output.
#pragma once

#include <cstdint>
#include <string>

namespace sealkit::cli {

// "512 B", "4.0 KiB", "1.5 GiB" ... up to EiB (powers of 1024, one decimal).
std::string human_bytes(std::uint64_t bytes);

// `part` of `whole` (> 0) in percent with one decimal, rounded down: "100.0%"
// only when part == whole, never for 99.96%. One way for every table and
// picture, so that audit and map say the same of one process.
std::string percent_of(std::uint64_t part, std::uint64_t whole);

// The user name of `uid` (getpwuid), remembered per uid for the run; the
// number when it has none, "-" for a negative (unknown) uid.
const std::string& user_name(long uid);

// "1 process", "2 processes": `n` and the noun, singular or plural. The
// plural is `singular` + "s" unless given.
std::string count(std::uint64_t n, const std::string& singular, const std::string& plural = "");

// "0x7f12...", zero-padded to at least `min_digits` hex digits.
std::string hex(std::uint64_t value, int min_digits = 0);

}  // namespace sealkit::cli
