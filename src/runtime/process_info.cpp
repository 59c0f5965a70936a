#include "runtime/process_info.hpp"

#include <elf.h>

#include "runtime/native_elf.hpp"

#include "runtime/proc_text.hpp"
#include "runtime/sys.hpp"
#include "runtime/text_out.hpp"

namespace sealkit::rt {

namespace {

// Where the auxiliary vector and the environment are found without /proc.
//
// glibc's ld.so calls every DT_INIT_ARRAY function of an object it loads as
// init(argc, argv, envp), and an audit module is loaded (dlmopen) and
// initialised before ld.so first calls la_version, so before la_activity.
// envp is then ld.so's __environ: the array the kernel put on the initial
// stack, and the kernel puts the auxiliary vector right after its NULL. Reading
// them there costs no system call, where /proc/self/auxv and
// /proc/self/environ cost an open, two reads and a close each (~6 us apiece
// on the benchmark machine).
//
// ld.so changes that array in one case only: in secure execution it removes
// unsafe variables by shifting the array down, which leaves extra NULLs
// before the vector. Then the word after the first NULL is 0 (AT_NULL), the
// checks below fail and the runtime reads /proc/self/auxv instead. That is
// also the answer for anything else unexpected: the fast path is taken only
// when the vector has every entry the kernel always writes.
char** g_startup_envp = nullptr;
// The last argument string as the kernel placed it: the environment's strings
// follow it (each_startup_setting).
const char* g_last_arg = nullptr;

// Priority 101: before the object's other constructors (the preload object's
// own start-up pass runs from one of them and needs envp already).
__attribute__((constructor(101))) void capture_startup_environment(int argc, char** argv, char** envp) {
  g_startup_envp = envp;
  if (argc > 0 && argv != nullptr) g_last_arg = argv[argc - 1];
}

constexpr std::size_t kMaxEnvEntries = std::size_t{1} << 22;  // far above what fits in ARG_MAX-limited stacks
constexpr std::size_t kMaxAuxEntries = 128;                   // the kernel writes about 20
constexpr std::size_t kMaxEnvBlock = std::size_t{1} << 22;    // /proc/self/environ as read_environment reads it

struct AuxRead {
  StartupAux aux;
  bool secure = true;
  std::size_t page_size = 4096;
};

bool valid_page_size(std::uint64_t v) { return v >= 4096 && (v & (v - 1)) == 0; }

// Parses `n` auxv entries; true only when AT_NULL ends them and AT_SECURE,
// AT_PAGESZ, AT_PHDR, AT_PHNUM and AT_ENTRY (always written by the kernel's
// ELF loader) were all seen.
bool parse_auxv(const NativeAuxv* v, std::size_t n, AuxRead& out) {
  unsigned seen = 0;
  enum : unsigned { kSecure = 1, kPagesz = 2, kPhdr = 4, kPhnum = 8, kEntry = 16, kAll = 31 };
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t val = v[i].a_un.a_val;
    switch (v[i].a_type) {
      case AT_NULL: {
        if (seen != kAll) return false;
        out.aux.valid = true;
        return true;
      }
      case AT_SECURE: out.secure = val != 0; seen |= kSecure; break;
      case AT_PAGESZ:
        if (!valid_page_size(val)) return false;
        out.page_size = val;
        seen |= kPagesz;
        break;
      case AT_PHDR: out.aux.phdr = val; seen |= kPhdr; break;
      case AT_PHNUM: out.aux.phnum = val; seen |= kPhnum; break;
      case AT_ENTRY: seen |= kEntry; break;
      case AT_BASE: out.aux.base = val; break;
      case AT_SYSINFO_EHDR: out.aux.sysinfo_ehdr = val; break;
      case 31 /* AT_EXECFN, in <linux/auxvec.h> */: out.aux.execfn = val; break;
      default: break;
    }
  }
  return false;
}

bool auxv_from_stack(AuxRead& out) {
  if (g_startup_envp == nullptr) return false;
  std::size_t i = 0;
  while (g_startup_envp[i] != nullptr) {
    if (++i == kMaxEnvEntries) return false;
  }
  AuxRead r;
  if (!parse_auxv(reinterpret_cast<const NativeAuxv*>(g_startup_envp + i + 1), kMaxAuxEntries, r)) return false;
  out = r;
  return true;
}

// The slow path: /proc/self/auxv. Its entries are not used to find objects
// (aux.valid stays false), only for AT_SECURE and the page size.
void auxv_from_proc(AuxRead& out) {
  ProcText t;
  if (!t.load("/proc/self/auxv", 1 << 16)) return;  // stays "secure": the safe default
  std::string_view v = t.text();
  bool saw_secure = false;
  for (std::size_t off = 0; off + sizeof(NativeAuxv) <= v.size(); off += sizeof(NativeAuxv)) {
    NativeAuxv a;
    __builtin_memcpy(&a, v.data() + off, sizeof a);
    if (a.a_type == AT_NULL) break;
    if (a.a_type == AT_SECURE) {
      out.secure = a.a_un.a_val != 0;
      saw_secure = true;
    } else if (a.a_type == AT_PAGESZ && valid_page_size(a.a_un.a_val)) {
      out.page_size = a.a_un.a_val;
    }
  }
  if (!saw_secure) out.secure = true;
}

StartupAux g_aux;

void take_log_path(ProcessInfo& info, std::string_view value, bool quiet) {
  if (value.empty()) return;
  if (value.front() != '/' || value.size() >= sizeof info.log_path) {
    info.rejected_a_setting = true;
    if (!quiet) warn("SEALKIT_LOG must be an absolute path shorter than 512 bytes; not logging");
    return;
  }
  for (std::size_t i = 0; i < value.size(); ++i) info.log_path[i] = value[i];
  info.log_path[value.size()] = '\0';
}

void take_config_path(ProcessInfo& info, std::string_view value, bool quiet) {
  if (value.size() >= sizeof info.config_path) {
    info.rejected_a_setting = true;
    if (!quiet) warn("SEALKIT_CONFIG must be shorter than 512 bytes; using the defaults");
    return;
  }
  for (std::size_t i = 0; i < value.size(); ++i) info.config_path[i] = value[i];
  info.config_path[value.size()] = '\0';
}

// Whether an environment string can be one the runtime reads (SEALKIT_*,
// LD_*, GLIBC_TUNABLES): the others are not even measured (a shell's 40
// variables cost ~5000 instructions of strlen otherwise).
bool may_be_a_setting(const char* s) {
  return (s[0] == 'S' && s[1] == 'E') || (s[0] == 'L' && s[1] == 'D') || (s[0] == 'G' && s[1] == 'L');
}

// A NUL-terminated string (no strlen: no libc).
std::string_view c_string(const char* s) {
  std::size_t n = 0;
  while (s[n] != '\0') ++n;
  return {s, n};
}

void take_setting(ProcessInfo& info, std::string_view kv, bool quiet) {
  constexpr std::string_view kLog = "SEALKIT_LOG=", kConfig = "SEALKIT_CONFIG=", kBackend = "SEALKIT_BACKEND=",
                             kSupervisor = "SEALKIT_SUPERVISOR_FD=", kAudit = "LD_AUDIT=",
                             kHarden = "SEALKIT_HARDEN_DISCARD=";
  if (kv.substr(0, kAudit.size()) == kAudit) {
    // What ld.so was given: whether it loaded the audit module (preload/startup.hpp).
    info.ld_audit_names_runtime = kv.find("libsealkit-runtime.so") != std::string_view::npos;
  } else if (kv.substr(0, kLog.size()) == kLog) take_log_path(info, kv.substr(kLog.size()), quiet);
  else if (kv.substr(0, kConfig.size()) == kConfig) take_config_path(info, kv.substr(kConfig.size()), quiet);
  else if (kv.substr(0, kBackend.size()) == kBackend) {
    // Cut to the buffer: a longer value is invalid anyway, and says so.
    std::string_view v = kv.substr(kBackend.size());
    std::size_t n = v.size() < sizeof info.backend - 1 ? v.size() : sizeof info.backend - 1;
    for (std::size_t i = 0; i < n; ++i) info.backend[i] = v[i];
    info.backend[n] = '\0';
  } else if (kv.substr(0, kHarden.size()) == kHarden) {
    // Cut to the buffer: a longer value is invalid anyway (config.cpp says so).
    std::string_view v = kv.substr(kHarden.size());
    std::size_t n = v.size() < sizeof info.harden_discard - 1 ? v.size() : sizeof info.harden_discard - 1;
    for (std::size_t i = 0; i < n; ++i) info.harden_discard[i] = v[i];
    info.harden_discard[n] = '\0';
  } else if (kv.substr(0, kSupervisor.size()) == kSupervisor) {
    // The exec supervisor's socket (docs/seccomp-exec.md): a decimal fd number.
    std::string_view v = kv.substr(kSupervisor.size());
    long fd = v.empty() || v.size() > 7 ? -1 : 0;
    for (char c : v) fd = fd >= 0 && c >= '0' && c <= '9' ? fd * 10 + (c - '0') : -1;
    info.supervisor_fd = static_cast<int>(fd);
  }
}

// The environment the process was started with: the initial stack's envp when
// the constructor saw it (no system call), else /proc/self/environ (the same
// strings, NUL-separated).
void read_environment(ProcessInfo& info, bool quiet) {
  if (g_startup_envp != nullptr) {
    for (char** e = g_startup_envp; *e != nullptr; ++e) {
      // Only SEALKIT_* and LD_AUDIT matter: the others are not even measured
      // (a shell's 40 variables cost ~5000 instructions of strlen otherwise).
      const char* s = *e;
      if ((s[0] == 'S' && s[1] == 'E') || (s[0] == 'L' && s[1] == 'D')) take_setting(info, c_string(s), quiet);
    }
    return;
  }
  ProcText t;
  if (!t.load("/proc/self/environ", 1 << 22)) return;
  std::string_view env = t.text();
  while (!env.empty()) {
    std::size_t end = env.find('\0');
    std::string_view kv = env.substr(0, end);
    env.remove_prefix(end == std::string_view::npos ? env.size() : end + 1);
    take_setting(info, kv, quiet);
  }
}

}  // namespace

namespace {
WarningSink g_warning_sink = nullptr;
}  // namespace

void set_warning_sink(WarningSink sink) { g_warning_sink = sink; }

void warn(std::string_view what, WarningAbout about) {
  if (g_warning_sink != nullptr) {
    g_warning_sink(what, about);
    return;
  }
  TextOut o;
  o.str("sealkit: warning: ").str(what).str("\n");
  sys::write(2, o.view().data(), o.view().size());
}

const StartupAux& startup_aux() { return g_aux; }

namespace {

// Calls f on each NUL-ended string of `block` that can be a setting.
void each_string_of(std::string_view block, void (*f)(const char*, void*), void* ctx) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < block.size(); ++i) {
    if (block[i] != '\0') continue;
    if (may_be_a_setting(block.data() + start)) f(block.data() + start, ctx);
    start = i + 1;
  }
}

}  // namespace

bool each_startup_setting(void (*f)(const char* entry, void* ctx), void* ctx) {
  // The kernel copies the argument strings, the environment's and the
  // executable's name (AT_EXECFN) to the top of the new stack, one after the
  // other: the environment's strings lie between the last argument's NUL and
  // that name. setenv and unsetenv change only the envp array, never these
  // bytes. The array is the kernel's as long as the auxiliary vector still
  // follows it (unsetenv shifts it: auxv_from_stack) and every entry points
  // into those strings (setenv of a variable there replaces its pointer):
  // then the array is read, which needs no look at the other variables' bytes.
  if (g_aux.valid && g_aux.execfn != 0 && g_last_arg != nullptr && g_startup_envp != nullptr) {
    const char* lo = g_last_arg;
    while (*lo != '\0') ++lo;
    ++lo;
    const char* hi = reinterpret_cast<const char*>(g_aux.execfn);
    if (lo <= hi && static_cast<std::size_t>(hi - lo) <= kMaxEnvBlock) {
      bool kernels = true;
      for (char** e = g_startup_envp; *e != nullptr && kernels; ++e) kernels = *e >= lo && *e < hi;
      if (kernels) {
        for (char** e = g_startup_envp; *e != nullptr; ++e) {
          if (may_be_a_setting(*e)) f(*e, ctx);
        }
      } else {
        each_string_of(std::string_view(lo, static_cast<std::size_t>(hi - lo)), f, ctx);
      }
      return true;
    }
  }
  // Otherwise (the array was shifted, or the arguments moved) the kernel's
  // own copy of the same bytes: the one read of /proc this costs.
  ProcText t;
  if (!t.load("/proc/self/environ", kMaxEnvBlock)) return false;
  each_string_of(t.text(), f, ctx);
  return true;
}

void read_process_info(ProcessInfo& info, bool quiet) {
  AuxRead a;
  if (!auxv_from_stack(a)) {
    a = AuxRead{};
    auxv_from_proc(a);
  }
  g_aux = a.aux;
  info.secure = a.secure;
  info.page_size = a.page_size;
  // In secure execution (setuid, setgid, capabilities) the environment
  // belongs to whoever started the program: never read it.
  if (!info.secure) read_environment(info, quiet);
}

}  // namespace sealkit::rt
