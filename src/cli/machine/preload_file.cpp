#include "cli/machine/preload_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

#include "cli/escape.hpp"
#include "core/read_fd.hpp"

namespace sealkit::cli::machine {

namespace {

bool is_separator(char c) { return c == ' ' || c == '\t' || c == ':' || c == '\n'; }

// A name ld.so reads: [begin, end) of the file's text.
struct Span {
  std::size_t begin, end;
};

// The names as glibc's ld.so finds them (elf/rtld.c, dl_main), span by span:
//  1. Comments are blanked from '#' to the end of its line. The loop looks
//     for each next '#' from the start of the file again, within a length
//     that it shortens by the offset of every '#' found and by every byte
//     blanked, so a '#' far enough into the file is never seen: its words
//     are names. ("# a\n# b\n" preloads "b".) Done here the same way.
//  2. A last name without a separator after it is taken whole; the rest is
//     split at ' ', '\t', '\n' and ':' up to the first NUL byte.
std::vector<Span> name_spans(std::string_view text) {
  std::vector<Span> spans;
  if (text.empty()) return spans;
  std::string f(text);
  std::size_t rest = f.size();
  while (rest > 0) {
    const void* hash = std::memchr(f.data(), '#', rest);
    if (hash == nullptr) break;
    std::size_t i = static_cast<std::size_t>(static_cast<const char*>(hash) - f.data());
    rest -= i;
    do f[i] = ' ';
    while (--rest > 0 && f[++i] != '\n');
  }
  std::size_t main_end = f.size();  // where strsep's string ends
  std::size_t problem = f.size();   // a last name with no separator after it
  if (!is_separator(f.back())) {
    problem = f.size();
    while (problem > 0 && !is_separator(f[problem - 1])) --problem;
    if (problem > 0) main_end = problem - 1;
  } else {
    main_end = f.size() - 1;
  }
  if (const std::size_t nul = f.find('\0'); nul < main_end) main_end = nul;
  if (problem != 0) {
    for (std::size_t i = 0; i < main_end;) {
      while (i < main_end && is_separator(f[i])) ++i;
      const std::size_t b = i;
      while (i < main_end && !is_separator(f[i])) ++i;
      if (i > b) spans.push_back({b, i});
    }
  }
  if (problem < f.size()) {
    const std::size_t nul = f.find('\0', problem);
    const std::size_t end = nul == std::string::npos ? f.size() : nul;
    if (end > problem) spans.push_back({problem, end});
  }
  return spans;
}

}  // namespace

std::vector<std::string> preload_names(std::string_view text) {
  std::vector<std::string> names;
  for (const Span& s : name_spans(text)) names.emplace_back(text.substr(s.begin, s.end - s.begin));
  return names;
}

bool is_sealkit_entry(std::string_view name) {
  const std::size_t slash = name.rfind('/');
  return (slash == std::string_view::npos ? name : name.substr(slash + 1)) == kPreloadObject;
}

bool names_sealkit(std::string_view text) {
  for (const std::string& n : preload_names(text)) {
    if (is_sealkit_entry(n)) return true;
  }
  return false;
}

std::string with_line(std::string_view text, std::string_view line) {
  const std::vector<std::string> wanted = preload_names(line);
  std::string out(text);
  if (wanted.empty()) return out;
  for (const std::string& n : preload_names(text)) {
    if (n == wanted.front()) return out;
  }
  if (!out.empty() && out.back() != '\n') out += '\n';
  out += line;
  return out;
}

std::string without_sealkit(std::string_view text) {
  const std::vector<Span> spans = name_spans(text);
  std::string out;
  std::size_t next = 0;  // the first span not yet looked at
  for (std::size_t line_begin = 0; line_begin < text.size();) {
    const std::size_t nl = text.find('\n', line_begin);
    const std::size_t line_end = nl == std::string_view::npos ? text.size() : nl + 1;
    std::vector<Span> names, kept;
    while (next < spans.size() && spans[next].begin < line_end) names.push_back(spans[next++]);
    for (const Span& s : names) {
      if (!is_sealkit_entry(text.substr(s.begin, s.end - s.begin))) kept.push_back(s);
    }
    if (kept.size() == names.size()) {  // nothing of sealkit's here
      out.append(text.substr(line_begin, line_end - line_begin));
    } else if (!kept.empty()) {
      // The line's start, then each kept name with the separators that stood
      // before it (not for the first), then what followed the last name. A
      // line of sealkit's names only goes whole.
      out.append(text.substr(line_begin, names.front().begin - line_begin));
      for (std::size_t k = 0; k < kept.size(); ++k) {
        if (k > 0) {
          std::size_t before = names.front().end;  // the end of the name just before kept[k]
          for (const Span& s : names) {
            if (s.end <= kept[k].begin) before = s.end;
          }
          out.append(text.substr(before, kept[k].begin - before));
        }
        out.append(text.substr(kept[k].begin, kept[k].end - kept[k].begin));
      }
      out.append(text.substr(names.back().end, line_end - names.back().end));
    }
    line_begin = line_end;
  }
  return out;
}

std::vector<std::string> new_names(std::string_view before, std::string_view after, std::string_view allowed) {
  const std::vector<std::string> had = preload_names(before);
  std::vector<std::string> added;
  for (std::string& n : preload_names(after)) {
    if (n != allowed && std::find(had.begin(), had.end(), n) == had.end()) added.push_back(std::move(n));
  }
  return added;
}

bool read_preload_file(const std::string& path, PreloadFile& out, std::string& error) {
  out = {};
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return true;
    error = path + ": " + std::strerror(errno) +
            (errno == ELOOP ? " (it is a symbolic link; sealkit edits only a regular file: replace the link with "
                              "the file it points to)"
                            : "");
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    error = path + " is not a regular file; make it one (or remove it) and run sealkit again";
    return false;
  }
  // ld.so reads it whole; so does sealkit, up to a size no real file reaches.
  constexpr std::size_t kMax = std::size_t{1} << 20;
  std::optional<std::string> text = core::read_fd(fd, kMax);
  const int e = errno;
  ::close(fd);
  if (!text) {
    error = path + (e == EFBIG ? std::string(" is larger than 1 MiB") : std::string(": ") + std::strerror(e)) +
            "; fix the file by hand";
    return false;
  }
  out.text = std::move(*text);
  out.exists = true;
  return true;
}

std::string describe_change(const std::string& path, bool before_exists, std::string_view before, bool after_exists,
                            std::string_view after) {
  auto lines = [](std::string_view t) {
    std::vector<std::string_view> v;
    while (!t.empty()) {
      const std::size_t nl = t.find('\n');
      const std::size_t len = nl == std::string_view::npos ? t.size() : nl + 1;
      v.push_back(t.substr(0, len));
      t.remove_prefix(len);
    }
    return v;
  };
  const std::vector<std::string_view> a = lines(before), b = lines(after);
  std::string out = "--- " + visible_text(path) + (before_exists ? "" : " (does not exist)") + "\n+++ " +
                    visible_text(path) + (after_exists ? "" : " (removed)") + "\n";
  // Longest common subsequence of lines: the file is small (a few lines; the
  // table is bounded by what read_preload_file accepts, and a file of more
  // than 2000 lines is shown whole on both sides instead).
  const std::size_t n = a.size(), m = b.size();
  auto emit = [&](char mark, std::string_view l) {
    const bool newline = !l.empty() && l.back() == '\n';
    out += mark;
    out += visible_text(newline ? l.substr(0, l.size() - 1) : l);
    out += '\n';
    if (!newline) out += "\\ No newline at end of file\n";
  };
  if (n > 2000 || m > 2000) {
    for (auto l : a) emit('-', l);
    for (auto l : b) emit('+', l);
    return out;
  }
  std::vector<std::vector<std::size_t>> lcs(n + 1, std::vector<std::size_t>(m + 1, 0));
  for (std::size_t i = n; i-- > 0;) {
    for (std::size_t j = m; j-- > 0;) {
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  std::size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] == b[j]) {
      emit(' ', a[i++]);
      ++j;
    } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      emit('-', a[i++]);
    } else {
      emit('+', b[j++]);
    }
  }
  return out;
}

}  // namespace sealkit::cli::machine
