// Number formatting shared by the subcommands' human-readable output.
#pragma once

#include <cstdint>
#include <string>

namespace sealkit::cli {

// "512 B", "4.0 KiB", "1.5 GiB" ... up to EiB (powers of 1024, one decimal).
std::string human_bytes(std::uint64_t bytes);

// "0x7f12...", zero-padded to at least `min_digits` hex digits.
std::string hex(std::uint64_t value, int min_digits = 0);

}  // namespace sealkit::cli
