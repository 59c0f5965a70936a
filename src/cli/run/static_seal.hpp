// `sealkit run` for a statically linked x86-64 program: no ld.so runs in it,
// so no runtime can be injected. sealkit starts it as its traced child,
// follows it with ptrace to the end of its own start-up, has it make the
// mseal calls the runtime would make (docs/runtime.md, "Statically linked
// programs"), detaches, and stays as its parent (run/parent.hpp).
//
// The end of start-up: for glibc's start-up (static and static-pie), the
// exit of its mprotect of PT_GNU_RELRO to read-only, which it makes after
// relocating itself (_dl_relocate_static_pie, IRELATIVE) and setting up TLS,
// before constructors and main; for every other start-up (musl, Go), and for
// glibc without RELRO, the exit of the image's first system call: self-
// relocation (musl's static-pie _dlstart_c) makes none.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace sealkit::cli::run_static {

// The tracer speaks x86-64's system call convention only.
#if defined(__x86_64__)
inline constexpr bool kAvailable = true;
#else
inline constexpr bool kAvailable = false;
#endif

struct Outcome {
  bool sealed = false;     // the executable's runs were sealed (some parts may be left: wx_refused, over_file)
  std::string why;         // why nothing was sealed; empty when sealed or excluded
  bool program_excluded = false;  // the runtime configuration's exclude-program names it: not sealed, on purpose
  const char* moment = "";  // "relro_mprotect" or "first_syscall"
  std::size_t syscalls_followed = 0;
  std::size_t mseal_calls = 0, mseal_failures = 0;
  int first_errno = 0;
  std::size_t system_mappings_sealed = 0;
  bool stack_sealed = false;
  std::size_t wx_refused = 0, over_file = 0, maps_bad_lines = 0;
  std::uint64_t elapsed_ns = 0;
};

// Runs `path` with `argv` (null-terminated) as described above, then waits
// for it and ends the way it did. `log` is SEALKIT_LOG's physical path or
// empty. Returns only when the program could not be started (`why` says
// why; the caller exits 2). A failure to seal is a warning: the program runs
// unsealed.
int run(const char* path, char* const argv[], const std::string& log, std::string& why);

}  // namespace sealkit::cli::run_static
