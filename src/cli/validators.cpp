#include "cli/validators.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>

namespace sealkit::cli {

namespace {

// The whole of `s` as an unsigned decimal number.
bool parse_whole(const std::string& s, std::uint64_t& v) {
  if (s.empty() || s.size() > 20) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  errno = 0;
  char* end = nullptr;
  const unsigned long long n = std::strtoull(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return false;
  v = n;
  return true;
}

std::string in_quotes(const std::string& s) { return "'" + s + "'"; }

std::string number_text(double d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", d);
  return buf;
}

}  // namespace

CLI::Validator whole_number(std::uint64_t lo, std::uint64_t hi, const std::string& what) {
  const std::string rule =
      "must be a whole number of " + what + " from " + std::to_string(lo) + " to " + std::to_string(hi);
  return CLI::Validator(
      [=](std::string& s) -> std::string {
        std::uint64_t v = 0;
        if (!parse_whole(s, v) || v < lo || v > hi) return rule + ", not " + in_quotes(s);
        return {};
      },
      std::to_string(lo) + "-" + std::to_string(hi));
}

CLI::Validator decimal_number(double lo, double hi, const std::string& what) {
  const std::string rule = "must be a number of " + what + " from " + number_text(lo) + " to " + number_text(hi);
  return CLI::Validator(
      [=](std::string& s) -> std::string {
        char* end = nullptr;
        errno = 0;
        const double v = s.empty() ? NAN : std::strtod(s.c_str(), &end);
        if (s.empty() || errno != 0 || *end != '\0' || !std::isfinite(v) || v < lo || v > hi)
          return rule + ", not " + in_quotes(s);
        return {};
      },
      number_text(lo) + "-" + number_text(hi));
}

CLI::Validator one_of(const std::vector<std::string>& names) {
  std::string list;
  for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
  return CLI::Validator(
      [=](std::string& s) -> std::string {
        for (const std::string& n : names) {
          if (s == n) return {};
        }
        return "must be one of " + list + ", not " + in_quotes(s);
      },
      "{" + list + "}");
}

CLI::Validator file_name(bool stdout_dash) {
  const std::string what = stdout_dash ? "a file name, or - for stdout" : "a file name";
  return CLI::Validator(
      [=](std::string& s) -> std::string {
        if (s.empty()) return "needs " + what + ", not an empty string";
        if (s[0] == '-' && !(stdout_dash && s == "-"))
          return "needs " + what + ", not " + in_quotes(s) + " (an option?); write ./" + s +
                 " for a file whose name starts with -";
        return {};
      },
      "");
}

CLI::Validator process_id() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        std::uint64_t v = 0;
        if (!parse_whole(s, v) || v < 1 || v > (1u << 22))
          return in_quotes(s) + " is not a process id: give positive numbers as /proc lists them";
        return {};
      },
      "");
}

}  // namespace sealkit::cli
