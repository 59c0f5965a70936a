#include "runtime/config.hpp"

#include <linux/stat.h>

#include "core/text_scan.hpp"
#include "runtime/process_info.hpp"
#include "runtime/sys.hpp"
#include "runtime/text_out.hpp"

namespace sealkit::rt {

namespace {

// File type bits of st_mode (<linux/stat.h> hides them when glibc's headers are seen).
constexpr std::uint32_t kTypeMask = 0170000, kRegular = 0100000;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// string_view::substr without its out-of-range exception (the injected
// objects have no libstdc++ to throw it): `pos` is clamped.
std::string_view sub(std::string_view s, std::size_t pos, std::size_t n = std::string_view::npos) {
  if (pos > s.size()) pos = s.size();
  if (n > s.size() - pos) n = s.size() - pos;
  return {s.data() + pos, n};
}

std::string_view basename(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : sub(path, slash + 1);
}

// Why a pattern cannot be used, or null.
const char* pattern_problem(std::string_view v) {
  if (v.empty()) return "is empty";
  if (v.size() > 4095) return "is longer than 4095 bytes";
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto c = static_cast<unsigned char>(v[i]);
    if (c < 0x20 || c == 0x7f) return "holds a control character";
    if (v[i] == '*' && i + 1 != v.size()) return "has a '*' that is not its last character";
  }
  if (v.find('/') != std::string_view::npos && v.front() != '/') return "holds a '/' but is not an absolute path";
  if (v == "*") return "would match everything (use dlopen = off, or do not inject the runtime)";
  return nullptr;
}

struct FileWarning {
  const char* path;
  bool quiet;
};

void report_to_stderr(std::size_t line, std::string_view message, void* ctx) {
  const auto* w = static_cast<const FileWarning*>(ctx);
  if (w->quiet) return;
  TextOut o;
  o.str(w->path).str(":").num(line).str(": ").str(message).str("; line ignored");
  warn(o.view());
}

void warn_file(const char* path, std::string_view why) {
  TextOut o;
  o.str(path).str(": ").str(why).str("; using the defaults");
  warn(o.view());
}

}  // namespace

bool parse_policy(std::string_view s, Policy& out) {
  if (s == "promote") out = Policy::kPromote;
  else if (s == "nodelete") out = Policy::kNodelete;
  else if (s == "off") out = Policy::kOff;
  else return false;
  return true;
}

const char* name_of(Policy p) {
  switch (p) {
    case Policy::kPromote: return "promote";
    case Policy::kNodelete: return "nodelete";
    case Policy::kOff: return "off";
  }
  return "promote";
}

void Config::parse(std::string_view text, Report report, void* ctx) {
  used_ = text.size() < kMaxBytes ? text.size() : kMaxBytes;
  __builtin_memcpy(text_, text.data(), used_);
  parse_in_place(report, ctx);
}

bool Config::add(Pattern* list, std::size_t& n, std::string_view value, std::size_t offset) {
  if (n == kMaxPatterns) return false;
  const bool prefix = value.back() == '*';
  list[n++] = Pattern{static_cast<std::uint16_t>(offset), static_cast<std::uint16_t>(value.size() - (prefix ? 1 : 0)),
                      prefix, value.find('/') != std::string_view::npos};
  return true;
}

void Config::parse_in_place(Report report, void* ctx) {
  nprograms_ = nobjects_ = 0;
  has_policy_ = false;
  policy_ = kDefaultPolicy;
  auto reject = [&](std::size_t line, std::string_view why) {
    if (report) report(line, why, ctx);
  };
  std::string_view rest(text_, used_);
  for (std::size_t lineno = 1; !rest.empty(); ++lineno) {
    std::string_view line = core::scan::next_line(rest);
    if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) line = sub(line, 0, hash);
    line = trim(line);
    if (line.empty()) continue;
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      reject(lineno, "expected `key = value`");
      continue;
    }
    const std::string_view key = trim(sub(line, 0, eq));
    const std::string_view value = trim(sub(line, eq + 1));
    if (key == "dlopen") {
      Policy p;
      if (!parse_policy(value, p)) {
        reject(lineno, "dlopen must be promote, nodelete or off");
        continue;
      }
      has_policy_ = true;
      policy_ = p;
    } else if (key == "exclude-program" || key == "exclude-object") {
      if (const char* problem = pattern_problem(value)) {
        TextOut o;
        o.str(key).str(" value ").str(problem);
        reject(lineno, o.view());
        continue;
      }
      const bool program = key == "exclude-program";
      const std::size_t offset = static_cast<std::size_t>(value.data() - text_);
      if (!add(program ? programs_ : objects_, program ? nprograms_ : nobjects_, value, offset))
        reject(lineno, "more than 64 patterns of this kind");
    } else {
      TextOut o;
      o.str("unknown setting '").str(sub(key, 0, 64)).str("' (known: dlopen, exclude-program, exclude-object)");
      reject(lineno, o.view());
    }
  }
}

bool Config::matches(const Pattern& p, std::string_view path) const {
  const std::string_view target = p.full_path ? path : basename(path);
  const std::string_view pat(text_ + p.offset, p.length);
  return p.prefix ? sub(target, 0, pat.size()) == pat : target == pat;
}

bool Config::program_excluded(std::string_view exe) const {
  for (std::size_t i = 0; i < nprograms_; ++i) {
    if (matches(programs_[i], exe)) return true;
  }
  return false;
}

bool Config::excludes_this_program() const {
  if (nprograms_ == 0) return false;
  char exe[4096];
  const long n = sys::readlink("/proc/self/exe", exe, sizeof exe);
  if (n <= 0 || static_cast<std::size_t>(n) >= sizeof exe) return false;  // unknown: sealed, the safe side
  return program_excluded(std::string_view(exe, static_cast<std::size_t>(n)));
}

bool Config::object_excluded(std::string_view name) const {
  if (name.empty()) return false;  // the main program: exclude-program is for it
  for (std::size_t i = 0; i < nobjects_; ++i) {
    if (matches(objects_[i], name)) return true;
  }
  return false;
}

Config::Load Config::load(bool secure, const char* env_path, bool quiet) {
  used_ = nprograms_ = nobjects_ = 0;
  has_policy_ = false;
  policy_ = kDefaultPolicy;
  const bool from_env = !secure && env_path != nullptr && env_path[0] != '\0';
  const char* path = from_env ? env_path : kSystemConfigPath;
  if (from_env && env_path[0] != '/') {
    if (!quiet) warn("SEALKIT_CONFIG must be an absolute path; using the defaults");
    return Load::kRejected;
  }
  const int fd = sys::open_read_nonblock(path);
  if (fd < 0) {
    // No system file is the usual case; a file named on purpose must exist.
    if (from_env && !quiet) warn_file(path, "cannot be opened");
    else if (fd != -2 /* ENOENT */ && !quiet) warn_file(path, "cannot be opened");
    return fd == -2 && !from_env ? Load::kNone : Load::kRejected;
  }
  struct statx st;
  const char* problem = nullptr;
  if (sys::fstatx(fd, STATX_TYPE | STATX_MODE | STATX_UID | STATX_SIZE, &st) != 0) {
    problem = "cannot be examined (statx)";
  } else if ((st.stx_mode & kTypeMask) != kRegular) {
    problem = "is not a regular file";
  } else if (st.stx_uid != 0 && !(from_env && st.stx_uid == static_cast<std::uint32_t>(sys::getuid()))) {
    problem = from_env ? "is owned by neither root nor the user running the program" : "is not owned by root";
  } else if ((st.stx_mode & 022) != 0) {
    problem = "is writable by its group or by others";
  } else if (st.stx_size > kMaxBytes) {
    problem = "is larger than 16384 bytes";
  }
  if (problem == nullptr) {
    std::size_t n = 0;
    for (;;) {
      const long r = sys::read(fd, text_ + n, kMaxBytes - n);
      if (r == -4 /* EINTR */) continue;
      if (r < 0) {
        problem = "cannot be read";
        break;
      }
      if (r == 0) break;
      n += static_cast<std::size_t>(r);
      if (n == kMaxBytes) {
        char extra;
        if (sys::read(fd, &extra, 1) > 0) problem = "is larger than 16384 bytes";  // grew since statx
        break;
      }
    }
    used_ = n;
  }
  sys::close(fd);
  if (problem != nullptr) {
    used_ = 0;
    if (!quiet) warn_file(path, problem);
    return Load::kRejected;
  }
  FileWarning w{path, quiet};
  parse_in_place(report_to_stderr, &w);
  return Load::kLoaded;
}

const char* describe(Config::Load l) {
  switch (l) {
    case Config::Load::kNone: return "none";
    case Config::Load::kLoaded: return "loaded";
    case Config::Load::kRejected: return "rejected";
  }
  return "none";
}

}  // namespace sealkit::rt
