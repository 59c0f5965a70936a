// Under `sealkit run`, what the runtime was injected with travels with every
// exec: a program that clears its environment (`env -i`, clearenv(), execle
// or posix_spawn with an envp of its own) or drops LD_PRELOAD would otherwise
// start its child unsealed, or without the wrappers that seal later dlopens.
//
// At start-up the preload object remembers, from the environment the process
// was started with (the strings the kernel placed on the stack, not the
// program's environ, which it and its libraries' constructors may change), the
// entries `sealkit run` injected: the runtime's entry in LD_AUDIT, the preload
// object's in LD_PRELOAD, glibc.rtld.optional_static_tls in GLIBC_TUNABLES
// (docs/runtime.md, "Static TLS under LD_AUDIT") and every SEALKIT_* variable.
// The exec wrappers then hand the kernel an envp that carries them:
//
// - LD_AUDIT and LD_PRELOAD keep the child's own entries, sealkit's first
//   (ld.so splits LD_AUDIT at ':', LD_PRELOAD at ':' and ' ');
// - GLIBC_TUNABLES keeps the child's tunables; the static TLS entry is added
//   when the child names none;
// - a SEALKIT_* variable the child sets itself may only seal more:
//   SEALKIT_DLOPEN keeps the child's value when it seals at least as much
//   (promote > nodelete > off); SEALKIT_LOG, SEALKIT_BACKEND and
//   SEALKIT_SUPERVISOR_FD keep the child's (they seal nothing less, and a
//   nested `sealkit run` sets its own); every other one (SEALKIT_CONFIG: a
//   second configuration file may exclude programs where no administrator
//   decided) gets the value `sealkit run` gave.
//
// Nothing is remembered in secure execution (ld.so ignores LD_AUDIT there) or
// without the audit module (machine-wide, /etc/ld.so.preload): then every
// envp passes through as given.
//
// Everything here is async-signal-safe (exec may follow vfork, or fork in a
// multi-threaded program): no lock, no malloc; a repaired envp is built in
// the caller's stack buffer, or in anonymous memory when it does not fit.
#pragma once

#include <cstddef>

namespace sealkit::rt::preload {

// Called once at start-up, under `sealkit run` only, after read_process_info:
// reads the environment the kernel started the process with
// (startup_environment_block). `log_path` is SEALKIT_LOG as validated ("" when
// not logging).
void remember_injected_environment(const char* log_path);

// Memory for one repaired envp: on the caller's stack, or mapped when more is
// needed (unmapped by the destructor; after a successful exec it is gone with
// the old image, except in a vfork child, whose parent keeps the pages).
class EnvScratch {
 public:
  EnvScratch() = default;
  EnvScratch(const EnvScratch&) = delete;
  EnvScratch& operator=(const EnvScratch&) = delete;
  ~EnvScratch();
  // `bytes` of 8-aligned memory, or null when it cannot be had. Once per object.
  void* get(std::size_t bytes);

 private:
  alignas(8) char inline_[3072];
  void* mapped_ = nullptr;
  std::size_t mapped_bytes_ = 0;
};

// The names repaired_environment put back or changed, for the log line.
struct Repaired {
  unsigned mask = 0;  // bit i: item i (exec_env.cpp's table)
  bool any() const { return mask != 0; }
};

// `envp` itself when it carries everything `sealkit run` injected (and always
// outside `sealkit run`), else a repaired copy in `scratch`. When the copy
// cannot be built (no memory), `envp` as given.
char* const* repaired_environment(char* const* envp, EnvScratch& scratch, Repaired& what);

// The log line (SEALKIT_LOG) saying that `call` of `program` had its
// environment repaired, and which variables. Nothing when not logging.
void log_repaired_environment(const char* call, const char* program, const Repaired& what);

// For system() and popen(), which hand glibc's own environ to an internal
// posix_spawn no wrapper sees: puts what was injected back into the program's
// environment (setenv), logged as `call`. Not async-signal-safe (neither are
// they).
void repair_own_environment(const char* call);

}  // namespace sealkit::rt::preload
