// The runtime's configuration file: what a machine's administrator decides
// for every process the runtime is injected into.
//
//   # /etc/sealkit/runtime.conf
//   dlopen = promote             # promote | nodelete | off (objects loaded after start-up)
//   exclude-program = /usr/bin/criu   # this executable and nothing it maps is sealed
//   exclude-object = libhotpatch.so*  # this object is never sealed, in any process
//
// A value with a '/' is matched against the whole path (the executable as
// /proc/self/exe names it; an object as ld.so opened it, link_map l_name);
// one without is matched against the last path component. A trailing '*'
// matches any rest. Lines are `key = value`; '#' starts a comment.
//
// Who may write it: in secure execution (setuid, setgid, file capabilities)
// only /etc/sealkit/runtime.conf is read, and only if it is a regular file
// owned by root and writable by nobody else; the environment is never
// consulted. Otherwise SEALKIT_CONFIG may name another file (`sealkit run
// --config`), which must be owned by root or by the process's real user.
// A file that fails these checks is ignored with one warning; a line that
// cannot be read is ignored with one warning naming it. Ignoring a line
// means sealing more, never less.
//
// Freestanding (no libc, no allocation): the audit module and the preload
// object both use it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sealkit::rt {

// What happens to objects loaded after start-up (docs/runtime.md). The
// default is 0 so that a Config object lives in bss, not in the file.
enum class Policy : std::uint8_t {
  kPromote,   // make every later object never-unloaded first, then seal it
  kNodelete,  // seal what the loader keeps forever anyway: RTLD_NODELETE, DF_1_NODELETE, their dependencies
  kOff,       // seal nothing loaded after start-up
};
inline constexpr Policy kDefaultPolicy = Policy::kPromote;

// Parses a policy name; false when it is none of promote, nodelete, off.
bool parse_policy(std::string_view s, Policy& out);
const char* name_of(Policy p);

inline constexpr const char* kSystemConfigPath = "/etc/sealkit/runtime.conf";

class Config {
 public:
  static constexpr std::size_t kMaxBytes = 16384;  // a longer file is refused whole
  static constexpr std::size_t kMaxPatterns = 64;

  // Parses `text` (replacing what was there). `report(line, message)` is
  // called once for each rejected line; it may be null.
  using Report = void (*)(std::size_t line, std::string_view message, void* ctx);
  void parse(std::string_view text, Report report, void* ctx);

  bool has_policy() const { return has_policy_; }
  Policy policy() const { return policy_; }
  bool has_program_patterns() const { return nprograms_ != 0; }
  std::size_t object_patterns() const { return nobjects_; }

  // Reads the configuration: `env_path` (SEALKIT_CONFIG, or null) outside
  // secure execution, else /etc/sealkit/runtime.conf. Warnings go to stderr
  // unless `quiet` (the second injected object of `sealkit run` stays quiet,
  // so that each problem is reported once per process).
  enum class Load : std::uint8_t {
    kNone,      // no file: the defaults
    kLoaded,    // read (some lines may have been rejected)
    kRejected,  // a file was there but failed the ownership, type or size checks: the defaults
  };
  Load load(bool secure, const char* env_path, bool quiet);

  // `exe` is the executable's path (/proc/self/exe); `name` an object's
  // link_map l_name. The main program is never matched as an object.
  bool program_excluded(std::string_view exe) const;
  // The same for this process (reads /proc/self/exe only when a pattern
  // needs it: the first /proc lookup costs a new process microseconds).
  bool excludes_this_program() const;
  bool object_excluded(std::string_view name) const;

 private:
  struct Pattern {
    std::uint16_t offset, length;
    bool prefix;     // ended in '*'
    bool full_path;  // holds a '/'
  };
  bool matches(const Pattern& p, std::string_view path) const;
  bool add(Pattern* list, std::size_t& n, std::string_view value, std::size_t offset);
  void parse_in_place(Report report, void* ctx);

  // Initialized, so that a static Config is constant-initialized (in bss).
  // The counts first and the text last: when there is no file (the usual
  // case) loading writes only the counts, and so faults in one page of bss
  // in every process, not also the one after the text.
  std::size_t used_ = 0;
  std::size_t nprograms_ = 0, nobjects_ = 0;
  bool has_policy_ = false;
  Policy policy_ = kDefaultPolicy;
  Pattern programs_[kMaxPatterns] = {};
  Pattern objects_[kMaxPatterns] = {};
  char text_[kMaxBytes] = {};
};

// "none", "loaded" or "rejected", for the log.
const char* describe(Config::Load l);

}  // namespace sealkit::rt
