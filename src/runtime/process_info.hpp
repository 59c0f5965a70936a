// What the runtime needs to know about its process, read from /proc/self:
// the auxiliary vector (secure execution, page size) and, outside secure
// execution only, the few SEALKIT_* environment settings (SEALKIT_LOG,
// SEALKIT_CONFIG).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sealkit::rt {

// The auxiliary vector entries the sealer uses to find objects without
// reading /proc/self/maps. `valid` is false when the vector was not found on
// the initial stack; every field is then 0.
struct StartupAux {
  bool valid = false;
  std::uintptr_t phdr = 0;          // AT_PHDR: the main program's program headers
  std::size_t phnum = 0;            // AT_PHNUM
  std::uintptr_t base = 0;          // AT_BASE: ld.so's ELF header (0 when ld.so was run as a command)
  std::uintptr_t sysinfo_ehdr = 0;  // AT_SYSINFO_EHDR: the vDSO's ELF header
  std::uintptr_t execfn = 0;        // AT_EXECFN: the executable's name, at the top of the stack
};

struct ProcessInfo {
  bool secure = true;        // AT_SECURE; assumed when auxv cannot be read
  std::size_t page_size = 4096;
  char log_path[512] = {};   // SEALKIT_LOG, validated; empty when not logging
  char config_path[512] = {};  // SEALKIT_CONFIG as given (config.cpp checks it); empty when unset
  char backend[16] = {};       // SEALKIT_BACKEND as given (seccomp/backend_choice.hpp checks it); empty when unset
  char harden_discard[8] = {};  // SEALKIT_HARDEN_DISCARD as given (config.cpp checks it); empty when unset
  int supervisor_fd = -1;      // SEALKIT_SUPERVISOR_FD: the exec supervisor's socket (docs/seccomp-exec.md), or -1
  bool ld_audit_names_runtime = false;  // LD_AUDIT names libsealkit-runtime.so (never in secure execution)
  bool rejected_a_setting = false;      // a setting was invalid (and warned about, unless quiet)
};

// The auxiliary vector as found on the initial stack (see process_info.cpp).
const StartupAux& startup_aux();

// Calls f(entry, ctx) for each string of the environment the process was
// started with, as the kernel placed it (unchanged by what setenv and unsetenv
// did since), whose name can be one the runtime reads: those beginning with
// "SE", "LD" or "GL". After read_process_info; false when the environment
// cannot be had.
bool each_startup_setting(void (*f)(const char* entry, void* ctx), void* ctx);

// Fills `info`; warns (warn(), one line) for each setting it
// rejects (unless `quiet`), and falls back to the safe default for it.
void read_process_info(ProcessInfo& info, bool quiet = false);

// What a warning is about. A warning about the administrator's file
// (/etc/sealkit/runtime.conf) is the same in every process of the machine,
// and the system log takes it from one root process a minute (syslog.hpp).
enum class WarningAbout : std::uint8_t { kProcess, kSystemFile };

// Where warn() sends its `sealkit: warning: ...` lines: stderr (null, the
// default), or a sink such as the system log's (syslog.hpp), which the
// preload object picks outside `sealkit run` so that a program's stderr stays
// its own.
using WarningSink = void (*)(std::string_view what, WarningAbout about);
void set_warning_sink(WarningSink sink);

void warn(std::string_view what, WarningAbout about = WarningAbout::kProcess);

}  // namespace sealkit::rt
