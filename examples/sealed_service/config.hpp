// The service's start-up configuration.
//
// Flat data only (fixed-size arrays, no pointers into the heap) so that the
// whole configuration can live in a sealed arena: a std::string member would
// leave its characters on the ordinary, writable heap, where an attacker could
// still rewrite the "allowed commands" list after the seal.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sealkit::examples {

inline constexpr std::size_t kNameSize = 16;  // a command name and its NUL
inline constexpr std::size_t kMaxCommands = 16;

using Name = std::array<char, kNameSize>;

// Copies `text` into a NUL-terminated Name; false when it does not fit.
bool to_name(std::string_view text, Name& out) noexcept;
inline std::string_view view(const Name& name) noexcept { return name.data(); }

enum class LogLevel : std::uint8_t { kError, kInfo, kDebug };

struct Config {
  std::uint16_t listen_port = 7070;  // 0: the kernel picks a free port (tests)
  LogLevel log_level = LogLevel::kInfo;
  std::uint32_t max_line_bytes = 256;  // a longer request line closes the connection
  std::uint32_t max_keys = 64;         // SET refuses new keys beyond this
  std::size_t allowed_count = 0;
  std::array<Name, kMaxCommands> allowed{};  // the commands clients may run

  bool allows(std::string_view command) const noexcept;
};

// Parses "key = value" lines; '#' starts a comment line. On error returns
// nullopt and sets `error` to a message that names the line.
std::optional<Config> parse_config(std::string_view text, std::string& error);

}  // namespace sealkit::examples
