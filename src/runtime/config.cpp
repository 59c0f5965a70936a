#include "runtime/config.hpp"

#include <linux/stat.h>

#include "core/text_scan.hpp"
#include "runtime/process_info.hpp"
#include "runtime/sys.hpp"
#include "runtime/text_out.hpp"
#include "runtime/trusted_file.hpp"

namespace sealkit::rt {

namespace {

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
  if (v == "*" || v == "/*") return "would match everything (use dlopen = off, or do not inject the runtime)";
  return nullptr;
}

struct FileWarning {
  const char* path;
  bool quiet;
  bool system;  // the administrator's file: the same warning in every process
};

WarningAbout about(bool system) { return system ? WarningAbout::kSystemFile : WarningAbout::kProcess; }

void report_to_warn(std::size_t line, std::string_view message, void* ctx) {
  const auto* w = static_cast<const FileWarning*>(ctx);
  if (w->quiet) return;
  TextOut o;
  o.str(w->path).str(":").num(line).str(": ").str(message).str("; line ignored");
  warn(o.view(), about(w->system));
}

// One line for a file that is not read: what is wrong with which part of its
// path, and what happens instead.
void warn_file(const char* path, const TrustProblem& why, bool system) {
  TextOut o;
  o.str(path).str(": ");
  if (why.part.size() != std::string_view(path).size()) o.str(why.part).str(" ");
  o.str(why.what).str(system ? "; using the defaults" : "; file ignored");
  warn(o.view(), about(system));
}

// Whether /etc/ld.so.preload names the preload object: the machine seals
// every process, whatever a user's environment says. Read only when a setting
// from the environment needs the answer.
bool machine_wide_preload() {
  const int fd = sys::open_read_nonblock(kLdSoPreloadPath);
  if (fd < 0) return false;
  constexpr std::string_view kName = "libsealkit-preload";
  char buf[4096];
  std::size_t kept = 0;  // the end of the previous chunk, for a name cut in two
  bool found = false;
  for (int chunks = 0; !found && chunks < 64; ++chunks) {
    const long r = sys::read(fd, buf + kept, sizeof buf - kept);
    if (r == -EINTR) continue;
    if (r <= 0) break;
    const std::string_view text(buf, kept + static_cast<std::size_t>(r));
    found = text.find(kName) != std::string_view::npos;
    kept = text.size() < kName.size() ? text.size() : kName.size() - 1;
    __builtin_memmove(buf, text.data() + text.size() - kept, kept);
  }
  sys::close(fd);
  return found;
}

}  // namespace

bool parse_policy(std::string_view s, Policy& out) {
  if (s == "promote") out = Policy::kPromote;
  else if (s == "nodelete") out = Policy::kNodelete;
  else if (s == "off") out = Policy::kOff;
  else return false;
  return true;
}

bool seals_at_least(Policy a, Policy b) {
  auto rank = [](Policy p) { return p == Policy::kPromote ? 2 : p == Policy::kNodelete ? 1 : 0; };
  return rank(a) >= rank(b);
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
  nprograms_ = nobjects_ = 0;
  has_policy_ = false;
  log_to_syslog_ = false;
  harden_discard_ = false;
  policy_ = kDefaultPolicy;
  const std::size_t n = text.size() < kMaxBytes ? text.size() : kMaxBytes;
  __builtin_memcpy(text_, text.data(), n);
  parse_text(0, n, Source::kSystem, report, ctx);
}

bool Config::add(Pattern* list, std::size_t& n, std::string_view value, std::size_t offset) {
  if (n == kMaxPatterns) return false;
  const bool prefix = value.back() == '*';
  list[n++] = Pattern{static_cast<std::uint16_t>(offset), static_cast<std::uint16_t>(value.size() - (prefix ? 1 : 0)),
                      prefix, value.find('/') != std::string_view::npos};
  return true;
}

void Config::parse_text(std::size_t begin, std::size_t size, Source source, Report report, void* ctx) {
  auto reject = [&](std::size_t line, std::string_view why) {
    if (report) report(line, why, ctx);
  };
  std::string_view rest(text_ + begin, size);
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
      if (source == Source::kUserOverFloor && !seals_at_least(p, floor_policy_)) {
        TextOut o;
        o.str("dlopen = ").str(name_of(p)).str(" would seal less than the administrator's dlopen = ")
            .str(name_of(floor_policy_)).str(" (/etc/sealkit/runtime.conf or its default)");
        reject(lineno, o.view());
        continue;
      }
      has_policy_ = true;
      policy_ = p;
    } else if (key == "log") {
      if (value != "syslog" && value != "off") {
        reject(lineno, "log must be syslog or off");
        continue;
      }
      log_to_syslog_ = value == "syslog";
    } else if (key == "harden-discard") {
      if (value != "on" && value != "off") {
        reject(lineno, "harden-discard must be on or off");
        continue;
      }
      if (source == Source::kUserOverFloor && value == "off" && floor_harden_discard_) {
        reject(lineno, "harden-discard = off would seal less than the administrator's harden-discard = on "
                       "(/etc/sealkit/runtime.conf)");
        continue;
      }
      harden_discard_ = value == "on";
    } else if (key == "exclude-program" || key == "exclude-object") {
      if (source == Source::kUserOverFloor) {
        TextOut o;
        o.str(key).str(" is taken only from /etc/sealkit/runtime.conf where an administrator's file exists or ")
            .str("/etc/ld.so.preload seals every process");
        reject(lineno, o.view());
        continue;
      }
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
      o.str("unknown setting '").str(sub(key, 0, 64)).str("' (known: dlopen, exclude-program, exclude-object, log, harden-discard)");
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

bool Config::has_floor() {
  if (system_file_) return true;
  if (machine_wide_ == 0) machine_wide_ = machine_wide_preload() ? 2 : 1;
  return machine_wide_ == 2;
}

Config::Load Config::read_file(const char* path, bool system, std::size_t at, std::size_t& size, bool quiet) {
  size = 0;
  if (system) {
    // No file is the usual case: one failed openat, as for any file, before
    // the walk below (which costs a few system calls per component).
    const int probe = sys::open_read_nonblock(path);
    if (probe == -ENOENT) return Load::kNone;
    if (probe >= 0) sys::close(probe);
  }
  TrustProblem why;
  const int fd = open_trusted(path, system ? Owners::kRoot : Owners::kRootOrUser,
                              static_cast<std::uint32_t>(sys::getuid()), why);
  if (fd < 0) {
    if (system && why.missing) return Load::kNone;  // removed since the probe
    if (!quiet) warn_file(path, why, system);
    return Load::kRejected;
  }
  struct statx st;
  if (sys::fstatx(fd, STATX_SIZE, &st) != 0) why.what = "cannot be examined (statx)";
  else if (st.stx_size > kMaxBytes) why.what = "is larger than 16384 bytes";
  std::size_t n = 0;
  while (why.what == nullptr) {
    const long r = sys::read(fd, text_ + at + n, kMaxBytes - n);
    if (r == -EINTR) continue;
    if (r < 0) why.what = "cannot be read";
    if (r <= 0) break;
    n += static_cast<std::size_t>(r);
    if (n == kMaxBytes) {
      char extra;
      if (sys::read(fd, &extra, 1) > 0) why.what = "is larger than 16384 bytes";  // grew since statx
      break;
    }
  }
  sys::close(fd);
  if (why.what != nullptr) {
    why.part = path;
    if (!quiet) warn_file(path, why, system);
    return Load::kRejected;
  }
  size = n;
  return Load::kLoaded;
}

Config::Load Config::load(bool secure, const char* env_path, bool quiet) {
  nprograms_ = nobjects_ = 0;
  has_policy_ = false;
  log_to_syslog_ = false;
  harden_discard_ = floor_harden_discard_ = false;
  policy_ = floor_policy_ = kDefaultPolicy;
  std::size_t size = 0;
  const Load system = read_file(kSystemConfigPath, true, 0, size, quiet);
  system_file_ = system != Load::kNone;
  if (system == Load::kLoaded) {
    FileWarning w{kSystemConfigPath, quiet, true};
    parse_text(0, size, Source::kSystem, report_to_warn, &w);
  }
  floor_policy_ = policy_;
  floor_harden_discard_ = harden_discard_;
  // In secure execution the environment is not the process's user's to set.
  if (secure || env_path == nullptr || env_path[0] == '\0') return system;
  const Load user = read_file(env_path, false, kMaxBytes, size, quiet);
  if (user == Load::kLoaded) {
    FileWarning w{env_path, quiet, false};
    parse_text(kMaxBytes, size, has_floor() ? Source::kUserOverFloor : Source::kUserOnly, report_to_warn, &w);
  }
  if (system == Load::kRejected || user == Load::kRejected) return Load::kRejected;
  return Load::kLoaded;
}

Policy Config::dlopen_policy(const char* env, bool quiet) {
  if (env == nullptr || env[0] == '\0') return policy_;
  std::size_t n = 0;
  while (env[n] != '\0' && n < 64) ++n;
  Policy p;
  TextOut o;
  if (!parse_policy(std::string_view(env, n), p)) {
    o.str("SEALKIT_DLOPEN must be promote, nodelete or off; using ").str(name_of(policy_));
  } else if (!seals_at_least(p, floor_policy_) && has_floor()) {
    o.str("SEALKIT_DLOPEN=").str(name_of(p)).str(" would seal less than the administrator's dlopen = ")
        .str(name_of(floor_policy_)).str(" (/etc/sealkit/runtime.conf or its default); using ").str(name_of(policy_));
  } else {
    return p;
  }
  if (!quiet) warn(o.view());
  return policy_;
}

bool Config::harden_discard(const char* env, bool quiet) const {
  if (env == nullptr || env[0] == '\0') return harden_discard_;
  std::size_t n = 0;
  while (env[n] != '\0' && n < 64) ++n;
  const std::string_view v(env, n);
  if (v == "on") return true;
  TextOut o;
  if (v != "off") {
    o.str("SEALKIT_HARDEN_DISCARD must be on or off; using ").str(harden_discard_ ? "on" : "off");
  } else if (floor_harden_discard_) {
    // Only the administrator's file sets the floor: it exists, so has_floor().
    o.str("SEALKIT_HARDEN_DISCARD=off would seal less than the administrator's harden-discard = on ")
        .str("(/etc/sealkit/runtime.conf); using on");
  } else {
    return false;
  }
  if (!quiet) warn(o.view());
  return harden_discard_;
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
