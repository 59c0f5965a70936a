#include "core/proc_maps.hpp"

#include "core/text_scan.hpp"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace sealkit::core {

using namespace scan;

namespace {

bool is_field_line(std::string_view line) noexcept {
  // "Name:" followed by a value; names are letters, digits and '_'.
  auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  for (std::size_t i = 0; i < colon; ++i) {
    char c = line[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool vmflags_has(std::string_view flags, std::string_view want) noexcept {
  while (!flags.empty()) {
    skip_spaces(flags);
    auto sp = flags.find(' ');
    std::string_view tok = flags.substr(0, sp);
    if (tok == want) return true;
    flags.remove_prefix(sp == std::string_view::npos ? flags.size() : sp);
  }
  return false;
}

}  // namespace

SmapsStats for_each_smaps_entry(std::string_view text, const std::function<bool(const SmapsEntry&)>& fn) {
  SmapsStats st;
  std::optional<SmapsEntry> cur;
  auto flush = [&]() -> bool {
    if (!cur) return true;
    ++st.entries;
    bool go_on = fn(*cur);
    cur.reset();
    return go_on;
  };
  while (!text.empty()) {
    std::string_view line = next_line(text);
    if (line.empty()) continue;
    // A field line is tried first: a header never has ':' before its first
    // space, while every field has "Name:" there.
    if (is_field_line(line)) {
      if (!cur) {
        ++st.bad_lines;
        continue;
      }
      std::string_view name = line.substr(0, line.find(':'));
      std::string_view value = line.substr(name.size() + 1);
      if (name == "VmFlags") {
        cur->has_vmflags = true;
        cur->sealed = vmflags_has(value, "sl");
      } else if (name == "Rss") {
        skip_spaces(value);
        std::uint64_t kb;
        if (take_dec(value, kb)) cur->rss_kb = kb;
      }
      continue;
    }
    if (auto m = parse_maps_line(line)) {
      if (!flush()) return st;
      cur.emplace();
      cur->map = *m;
      continue;
    }
    ++st.bad_lines;
  }
  flush();
  return st;
}

SmapsStats for_each_maps_entry(std::string_view text, const std::function<bool(const MapsEntry&)>& fn) {
  SmapsStats st;
  while (!text.empty()) {
    std::string_view line = next_line(text);
    if (line.empty()) continue;
    auto m = parse_maps_line(line);
    if (!m) {
      ++st.bad_lines;
      continue;
    }
    ++st.entries;
    if (!fn(*m)) break;
  }
  return st;
}

std::optional<std::string> read_proc_file(const char* path, std::size_t max_bytes) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  std::size_t chunk = 16384;
  for (;;) {
    if (out.size() >= max_bytes) {
      ::close(fd);
      errno = EFBIG;
      return std::nullopt;
    }
    std::size_t old = out.size();
    out.resize(old + chunk);
    ssize_t n = ::read(fd, out.data() + old, chunk);
    if (n < 0) {
      if (errno == EINTR) {
        out.resize(old);
        continue;
      }
      int e = errno;
      ::close(fd);
      errno = e;
      return std::nullopt;
    }
    out.resize(old + static_cast<std::size_t>(n));
    if (n == 0) break;
    if (chunk < (std::size_t{1} << 20)) chunk *= 2;
  }
  ::close(fd);
  return out;
}

}  // namespace sealkit::core
