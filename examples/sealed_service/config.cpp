// The configuration file parser: small, strict, with errors that name the line.
#include "config.hpp"

#include <charconv>

namespace sealkit::examples {
namespace {

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool parse_number(std::string_view s, std::uint32_t min, std::uint32_t max, std::uint32_t& out) noexcept {
  std::uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v < min || v > max) return false;
  out = v;
  return true;
}

// "PING, GET ,STATS" -> the allowed list; a message on error.
std::string parse_command_list(std::string_view list, Config& config) {
  config.allowed_count = 0;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view item = trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    if (item.empty()) return "empty command name";
    if (config.allows(item)) return "command '" + std::string(item) + "' listed twice";
    if (config.allowed_count == kMaxCommands) return "more than " + std::to_string(kMaxCommands) + " commands";
    if (!to_name(item, config.allowed[config.allowed_count])) return "command name '" + std::string(item) + "' too long";
    ++config.allowed_count;
  }
  return {};
}

// Applies one setting; returns an error message, empty on success.
std::string apply(std::string_view key, std::string_view value, Config& config) {
  std::uint32_t n = 0;
  if (key == "listen_port") {
    if (!parse_number(value, 0, 65535, n)) return "listen_port must be 0..65535";
    config.listen_port = static_cast<std::uint16_t>(n);
  } else if (key == "log_level") {
    if (value == "error") config.log_level = LogLevel::kError;
    else if (value == "info") config.log_level = LogLevel::kInfo;
    else if (value == "debug") config.log_level = LogLevel::kDebug;
    else return "log_level must be error, info or debug";
  } else if (key == "max_line_bytes") {
    if (!parse_number(value, 16, 65536, config.max_line_bytes)) return "max_line_bytes must be 16..65536";
  } else if (key == "max_keys") {
    if (!parse_number(value, 1, 100000, config.max_keys)) return "max_keys must be 1..100000";
  } else if (key == "allowed_commands") {
    return parse_command_list(value, config);
  } else {
    return "unknown setting '" + std::string(key) + "'";
  }
  return {};
}

}  // namespace

bool to_name(std::string_view text, Name& out) noexcept {
  if (text.size() >= out.size()) return false;
  out.fill('\0');
  text.copy(out.data(), text.size());
  return true;
}

bool Config::allows(std::string_view command) const noexcept {
  for (std::size_t i = 0; i < allowed_count; ++i)
    if (view(allowed[i]) == command) return true;
  return false;
}

std::optional<Config> parse_config(std::string_view text, std::string& error) {
  Config config;
  for (int line_no = 1; !text.empty(); ++line_no) {
    const std::size_t nl = text.find('\n');
    const std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    const std::size_t eq = line.find('=');
    std::string problem = eq == std::string_view::npos
                              ? std::string("expected key = value")
                              : apply(trim(line.substr(0, eq)), trim(line.substr(eq + 1)), config);
    if (!problem.empty()) {
      error = "line " + std::to_string(line_no) + ": " + problem;
      return std::nullopt;
    }
  }
  return config;
}

}  // namespace sealkit::examples
