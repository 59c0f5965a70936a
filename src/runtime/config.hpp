// The runtime's configuration file: what a machine's administrator decides
// for every process the runtime is injected into.
//
//   # /etc/sealkit/runtime.conf
//   dlopen = promote             # promote | nodelete | off (objects loaded after start-up)
//   exclude-program = /usr/bin/criu   # this executable and nothing it maps is sealed
//   exclude-object = libhotpatch.so*  # this object is never sealed, in any process
//   log = syslog                 # syslog | off: each process's start-up line in the system log too
//   harden-discard = on          # on | off: refuse discard advice on sealed RELRO (kernel backend)
//
// A value with a '/' is matched against the whole path (the executable as
// /proc/self/exe names it; an object as ld.so opened it, link_map l_name);
// one without is matched against the last path component. A trailing '*'
// matches any rest. Lines are `key = value`; '#' starts a comment.
//
// Who decides: /etc/sealkit/runtime.conf, the administrator's file, is always
// read (in secure execution too), and only if the whole path is root's
// (trusted_file.hpp). Outside secure execution SEALKIT_CONFIG may name a
// second file (`sealkit run --config`), root's or the real user's, checked the
// same way; the environment and that file may only seal more than the
// administrator decided, never less:
//   - when the administrator's file exists (even empty, even rejected), or the
//     machine preloads the runtime for every process (/etc/ld.so.preload names
//     libsealkit-preload), the administrator's settings are a floor: the second
//     file's exclude-* lines are ignored, and its `dlopen` (and SEALKIT_DLOPEN)
//     count only when they seal at least as much (promote > nodelete > off);
//   - otherwise (no file of the administrator's, no machine-wide preload: the
//     user chose to inject the runtime) the second file replaces the defaults.
// A file that fails the checks is ignored with one warning; a line that
// cannot be read, or that would seal less than the floor, is ignored with one
// warning naming it. Ignoring a line means sealing more, never less.
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
// Whether `a` seals at least what `b` seals: promote > nodelete > off.
bool seals_at_least(Policy a, Policy b);

inline constexpr const char* kSystemConfigPath = "/etc/sealkit/runtime.conf";
// ld.so's machine-wide preload list: naming libsealkit-preload there is an
// administrator's decision to seal every process.
inline constexpr const char* kLdSoPreloadPath = "/etc/ld.so.preload";

class Config {
 public:
  static constexpr std::size_t kMaxBytes = 16384;  // a longer file is refused whole
  static constexpr std::size_t kMaxPatterns = 64;

  // Parses `text` as the administrator's file (replacing what was there).
  // `report(line, message)` is called once for each rejected line; it may be null.
  using Report = void (*)(std::size_t line, std::string_view message, void* ctx);
  void parse(std::string_view text, Report report, void* ctx);

  bool has_policy() const { return has_policy_; }
  Policy policy() const { return policy_; }
  // `log = syslog`: the JSON start-up line of each process goes to the
  // system log too (syslog.hpp). From either file: it logs more, seals nothing less.
  bool log_to_syslog() const { return log_to_syslog_; }
  // `harden-discard = on|off` (default off) with SEALKIT_HARDEN_DISCARD's
  // value `env` (null or empty: unset) over the files': on the kernel
  // backend, one seccomp filter refuses discarding madvise on the sealed
  // objects' RELRO (sealer.hpp). The environment and a user's file may turn it
  // on, never off where the administrator's file says on; an invalid or
  // refused value gets one warning (unless `quiet`) and is not used.
  bool harden_discard(const char* env, bool quiet) const;
  bool has_program_patterns() const { return nprograms_ != 0; }
  std::size_t object_patterns() const { return nobjects_; }
  // The administrator's floor is in force (see above): the environment and
  // SEALKIT_CONFIG may only seal more.
  bool has_floor();

  // Reads /etc/sealkit/runtime.conf and, outside secure execution, the file
  // `env_path` names (SEALKIT_CONFIG, or null). Warnings go to stderr unless
  // `quiet` (the second injected object of `sealkit run` stays quiet, so that
  // each problem is reported once per process).
  enum class Load : std::uint8_t {
    kNone,      // no file: the defaults
    kLoaded,    // every file there was read (some lines may have been rejected)
    kRejected,  // a file was there but failed the ownership, type or size checks (it was ignored)
  };
  Load load(bool secure, const char* env_path, bool quiet);

  // The policy for objects loaded later, with SEALKIT_DLOPEN's value `env`
  // (null or empty: unset; the caller reads it with secure_getenv) over the
  // files': an invalid value, or one that would seal less than the floor, gets
  // one warning (unless `quiet`) and is not used.
  Policy dlopen_policy(const char* env, bool quiet);

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
  // Which file a text is, and so what its lines may do.
  enum class Source : std::uint8_t { kSystem, kUserOnly, kUserOverFloor };
  bool matches(const Pattern& p, std::string_view path) const;
  bool add(Pattern* list, std::size_t& n, std::string_view value, std::size_t offset);
  void parse_text(std::size_t begin, std::size_t size, Source source, Report report, void* ctx);
  Load read_file(const char* path, bool system, std::size_t at, std::size_t& size, bool quiet);

  // Initialized, so that a static Config is constant-initialized (in bss).
  // The counts first and the text last: when there is no file (the usual
  // case) loading writes only the counts, and so faults in one page of bss
  // in every process, not also the ones of the text.
  std::size_t nprograms_ = 0, nobjects_ = 0;
  bool has_policy_ = false;
  bool log_to_syslog_ = false;
  bool harden_discard_ = false;
  bool floor_harden_discard_ = false;  // the administrator's harden-discard
  bool system_file_ = false;  // /etc/sealkit/runtime.conf exists (read or rejected)
  std::uint8_t machine_wide_ = 0;  // /etc/ld.so.preload names the preload object: 0 not asked yet, 1 no, 2 yes
  Policy policy_ = kDefaultPolicy;
  Policy floor_policy_ = kDefaultPolicy;  // the administrator's dlopen (the default without a file)
  Pattern programs_[kMaxPatterns] = {};
  Pattern objects_[kMaxPatterns] = {};
  char text_[2 * kMaxBytes] = {};  // the administrator's file, then SEALKIT_CONFIG's
};

// "none", "loaded" or "rejected", for the log.
const char* describe(Config::Load l);

}  // namespace sealkit::rt
