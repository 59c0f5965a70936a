#include "core/maps_line.hpp"

#include "core/text_scan.hpp"

namespace sealkit::core {

using namespace scan;

std::optional<MapsEntry> parse_maps_line(std::string_view s) noexcept {
  MapsEntry e;
  std::uint64_t begin, end, major, minor;
  if (!take_hex(s, begin) || !take_char(s, '-') || !take_hex(s, end) || !take_char(s, ' ')) return std::nullopt;
  if (end < begin) return std::nullopt;
  if (!take_perm(s, 'r', e.read) || !take_perm(s, 'w', e.write) || !take_perm(s, 'x', e.exec)) return std::nullopt;
  if (s.empty() || (s.front() != 's' && s.front() != 'p')) return std::nullopt;
  e.shared = s.front() == 's';
  s.remove_prefix(1);
  if (!take_char(s, ' ') || !take_hex(s, e.offset) || !take_char(s, ' ')) return std::nullopt;
  if (!take_hex(s, major) || !take_char(s, ':') || !take_hex(s, minor) || !take_char(s, ' ')) return std::nullopt;
  if (major > 0xffffffffu || minor > 0xffffffffu) return std::nullopt;
  if (!take_dec(s, e.inode)) return std::nullopt;
  if (!s.empty() && s.front() != ' ') return std::nullopt;
  skip_spaces(s);
  e.range = {static_cast<std::uintptr_t>(begin), static_cast<std::uintptr_t>(end)};
  e.dev_major = static_cast<std::uint32_t>(major);
  e.dev_minor = static_cast<std::uint32_t>(minor);
  e.path = s;
  return e;
}

}  // namespace sealkit::core
