// One line of /proc/PID/maps. Allocation-free and exception-free, so that
// the injected runtime (src/runtime) can use it without a C++ runtime.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/range.hpp"

namespace sealkit::core {

struct MapsEntry {
  Range range;
  bool read = false;
  bool write = false;
  bool exec = false;
  bool shared = false;  // 's' in the fourth permission column, 'p' otherwise
  std::uint64_t offset = 0;
  std::uint32_t dev_major = 0;
  std::uint32_t dev_minor = 0;
  std::uint64_t inode = 0;
  std::string_view path;  // empty for anonymous memory; points into the parsed text
};

// One line of /proc/PID/maps (also the first line of each smaps entry),
// without its newline. nullopt when the line is not exactly in that format.
std::optional<MapsEntry> parse_maps_line(std::string_view line) noexcept;

}  // namespace sealkit::core
