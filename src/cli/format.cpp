#include "cli/format.hpp"

#include <pwd.h>

#include <cstdio>
#include <iterator>
#include <map>

namespace sealkit::cli {

std::string human_bytes(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes);
  std::size_t u = 0;
  while (v >= 1024.0 && u + 1 < std::size(kUnits)) {
    v /= 1024.0;
    ++u;
  }
  char buf[32];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  else
    std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
  return buf;
}

std::string hex(std::uint64_t value, int min_digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%0*llx", min_digits, static_cast<unsigned long long>(value));
  return buf;
}

std::string percent_of(std::uint64_t part, std::uint64_t whole) {
  // In integers: a double's 0.779 * 1000 is 778.99..., one tenth too low.
  const unsigned __int128 tenths = whole == 0 ? 0 : static_cast<unsigned __int128>(part) * 1000 / whole;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%llu.%llu%%", static_cast<unsigned long long>(tenths / 10),
                static_cast<unsigned long long>(tenths % 10));
  return buf;
}

const std::string& user_name(long uid) {
  static std::map<long, std::string> names;
  auto it = names.find(uid);
  if (it != names.end()) return it->second;
  std::string name = uid < 0 ? "-" : std::to_string(uid);
  if (uid >= 0) {
    if (const passwd* pw = ::getpwuid(static_cast<uid_t>(uid))) name = pw->pw_name;
  }
  return names.emplace(uid, std::move(name)).first->second;
}

std::string count(std::uint64_t n, const std::string& singular, const std::string& plural) {
  return std::to_string(n) + " " + (n == 1 ? singular : plural.empty() ? singular + "s" : plural);
}

}  // namespace sealkit::cli
