#include "core/proc_maps.hpp"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace sealkit::core {

namespace {

// Consumes lowercase hex digits from `s`; false when there are none or the
// value does not fit 64 bits.
bool take_hex(std::string_view& s, std::uint64_t& out) noexcept {
  std::size_t i = 0;
  std::uint64_t v = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    unsigned d;
    if (c >= '0' && c <= '9') d = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f') d = static_cast<unsigned>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') d = static_cast<unsigned>(c - 'A' + 10);
    else break;
    if (v >> 60) return false;  // one more digit would overflow
    v = (v << 4) | d;
  }
  if (i == 0 || i > 16) return false;
  s.remove_prefix(i);
  out = v;
  return true;
}

bool take_dec(std::string_view& s, std::uint64_t& out) noexcept {
  std::size_t i = 0;
  std::uint64_t v = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    if (__builtin_mul_overflow(v, 10u, &v) || __builtin_add_overflow(v, static_cast<unsigned>(s[i] - '0'), &v))
      return false;
  }
  if (i == 0) return false;
  s.remove_prefix(i);
  out = v;
  return true;
}

bool take_char(std::string_view& s, char c) noexcept {
  if (s.empty() || s.front() != c) return false;
  s.remove_prefix(1);
  return true;
}

void skip_spaces(std::string_view& s) noexcept {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
}

bool take_perm(std::string_view& s, char yes, bool& out) noexcept {
  if (s.empty()) return false;
  if (s.front() == yes) out = true;
  else if (s.front() == '-') out = false;
  else return false;
  s.remove_prefix(1);
  return true;
}

// Splits off the next line (without '\n'); the last line may lack one.
std::string_view next_line(std::string_view& text) noexcept {
  auto nl = text.find('\n');
  std::string_view line = text.substr(0, nl);
  text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  return line;
}

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
