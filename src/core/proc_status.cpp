#include "core/proc_status.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <utility>

#include "core/proc_maps.hpp"

namespace sealkit::core {

// /proc/PID/status is a few KiB; anything larger is not status.
bool read_status_file(const char* path, std::string& out) {
  auto text = read_proc_file(path, std::size_t{1} << 20);
  if (!text) return false;
  out = std::move(*text);
  return true;
}

std::optional<std::string_view> status_field(std::string_view text, std::string_view name) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (line.size() > name.size() && line.substr(0, name.size()) == name && line[name.size()] == ':') {
      line.remove_prefix(name.size() + 1);
      while (!line.empty() && (line.front() == '\t' || line.front() == ' ')) line.remove_prefix(1);
      return line;
    }
    pos = end + 1;
  }
  return std::nullopt;
}

std::optional<long> status_number(std::string_view text, std::string_view name) {
  auto v = status_field(text, name);
  if (!v || v->empty() || v->size() > 20) return std::nullopt;
  long n = 0;
  for (char c : *v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

std::optional<SeccompStatus> parse_seccomp_status(std::string_view text) {
  auto state = status_field(text, "State");
  if (!state || state->empty()) return std::nullopt;
  SeccompStatus s;
  s.state = state->front();
  if (auto m = status_number(text, "Seccomp")) s.mode = static_cast<int>(*m);
  if (auto f = status_number(text, "Seccomp_filters")) s.filters = *f;
  if (auto t = status_number(text, "TracerPid")) s.tracer = static_cast<pid_t>(*t);
  if (auto ids = status_field(text, "Uid")) {  // "real\teffective\tsaved\tfs", each a decimal id
    long* out[2] = {&s.uid, &s.euid};
    std::string_view rest = *ids;
    for (long* id : out) {
      const std::string_view word = rest.substr(0, rest.find('\t'));
      long v = word.empty() || word.size() > 10 ? -1 : 0;
      for (char c : word) v = v >= 0 && c >= '0' && c <= '9' ? v * 10 + (c - '0') : -1;
      *id = v;
      rest = word.size() < rest.size() ? rest.substr(word.size() + 1) : std::string_view();
    }
  }
  return s;
}

bool read_status_text(pid_t pid, std::string& text) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/status", static_cast<int>(pid));
  // One read into the stack: the kernel writes status whole on the first
  // read (seq_file, one record) and it is about 1.5 KiB. read_proc_file's
  // growing zero-filled heap buffer and second read cost the audit of 2000
  // processes more than parsing their status (bench/audit); a status that
  // fills the buffer is read again the long way.
  char buf[8192];
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n;
  do {
    n = ::read(fd, buf, sizeof buf);
  } while (n < 0 && errno == EINTR);
  const int e = errno;
  ::close(fd);
  if (n < 0) {
    errno = e;
    return false;
  }
  if (static_cast<std::size_t>(n) == sizeof buf) return read_status_file(path, text);
  text.assign(buf, static_cast<std::size_t>(n));  // the caller's string keeps its capacity across processes
  return true;
}

std::optional<SeccompStatus> read_seccomp_status(pid_t pid) {
  std::string text;
  if (!read_status_text(pid, text)) return std::nullopt;
  auto s = parse_seccomp_status(text);
  if (!s) errno = ESRCH;
  return s;
}

std::optional<std::string> status_name(std::string_view text) {
  // Not status_field(): it would strip a comm's own leading tabs and spaces. The
  // line is "Name:\t" then the escaped comm.
  std::string_view rest;
  if (text.substr(0, 6) == "Name:\t") {
    rest = text.substr(6);
  } else if (auto at = text.find("\nName:\t"); at != std::string_view::npos) {
    rest = text.substr(at + 7);
  } else {
    return std::nullopt;
  }
  rest = rest.substr(0, rest.find('\n'));
  std::string out;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] != '\\' || i + 1 == rest.size()) {
      out += rest[i];
      continue;
    }
    const char c = rest[i + 1];
    if (c == 'n' || c == '\\') {
      out += c == 'n' ? '\n' : '\\';
      ++i;
    } else if (i + 3 < rest.size() && c >= '0' && c <= '3' && rest[i + 2] >= '0' && rest[i + 2] <= '7' &&
               rest[i + 3] >= '0' && rest[i + 3] <= '7') {
      out += static_cast<char>((c - '0') * 64 + (rest[i + 2] - '0') * 8 + (rest[i + 3] - '0'));
      i += 3;
    } else {
      out += rest[i];
    }
  }
  return out;
}

}  // namespace sealkit::core
