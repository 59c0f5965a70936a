#include "core/proc_maps.hpp"

#include "core/read_fd.hpp"
#include "core/text_scan.hpp"

#include <cerrno>
#include <cstring>
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

bool scan_maps_file(const char* path, const std::function<bool(const MapsEntry&)>& fn, std::size_t* bytes) {
  if (bytes != nullptr) *bytes = 0;
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  // A page first (what the kernel formats at least per read), more while the
  // caller reads on: few reads for a whole file, little formatted for an early stop.
  std::size_t chunk = 4096;
  std::string buf;
  std::size_t used = 0;  // bytes in buf not yet parsed (a line's start)
  for (bool more = true; more;) {
    if (buf.size() < used + chunk) {
      if (used + chunk > (std::size_t{1} << 20)) {  // no maps line is this long
        ::close(fd);
        errno = EFBIG;
        return false;
      }
      buf.resize(used + chunk);
    }
    const ssize_t n = ::read(fd, buf.data() + used, chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      errno = e;
      return false;
    }
    if (bytes != nullptr) *bytes += static_cast<std::size_t>(n);
    used += static_cast<std::size_t>(n);
    if (chunk < 65536) chunk *= 2;
    // Whole lines only, but at the end whatever is left.
    std::string_view text(buf.data(), used);
    std::size_t keep = 0;
    if (n > 0) {
      const std::size_t last_newline = text.rfind('\n');
      if (last_newline == std::string_view::npos) continue;  // a line longer than what was read: read on
      keep = used - (last_newline + 1);
      text = text.substr(0, last_newline + 1);
    }
    bool go_on = true;
    for_each_maps_entry(text, [&](const MapsEntry& m) { return go_on = fn(m); });
    more = n > 0 && go_on;
    std::memmove(buf.data(), buf.data() + (used - keep), keep);
    used = keep;
  }
  ::close(fd);
  return true;
}

std::optional<std::string> read_proc_file(const char* path, std::size_t max_bytes) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::optional<std::string> out = read_fd(fd, max_bytes);
  const int e = errno;
  ::close(fd);
  errno = e;
  return out;
}

}  // namespace sealkit::core
