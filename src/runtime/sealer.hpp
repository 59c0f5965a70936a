// The runtime's sealing policy at start-up: every ELF object ld.so loaded
// (each by its own rule, core/seal_plan.hpp), the runtime itself, the
// kernel's system mappings and the main thread's stack.
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/maps_snapshot.hpp"
#include "runtime/prot_guard.hpp"

namespace sealkit::rt {

// Every member has an initializer: arrays of these are static, and a
// constant-initialized static lives in bss, untouched until used (a static
// that needs a constructor is written at load, page by page, in every process).
struct LoadedRef {
  std::uintptr_t bias = 0;      // link_map l_addr
  std::uintptr_t dynamic = 0;   // link_map l_ld
  const char* name = nullptr;   // link_map l_name ("" for the main program)
  bool excluded = false;        // the configuration says never to seal it (config.hpp)
  // The program headers as ld.so keeps them (dl_iterate_phdr), when the caller
  // knows them: the object's image is then read from them, with no lookup.
  std::uintptr_t phdr = 0;
  std::size_t phnum = 0;
};

struct SealStats {
  std::size_t objects_seen = 0;
  std::size_t objects_sealed = 0;
  std::size_t objects_skipped = 0;  // not file-backed (the vDSO: sealed as a system mapping) or unreadable
  std::size_t objects_excluded = 0;  // left unsealed by the configuration's exclude-object
  std::size_t objects_memory_seal_property = 0;  // marked GNU_PROPERTY_MEMORY_SEAL (ld -z memory-seal)
  std::size_t objects_with_mutable_sections = 0;  // some pages kept unsealed (runtime/mutable_sections.hpp)
  std::size_t mseal_calls = 0;
  std::size_t mseal_failures = 0;
  long first_error = 0;  // -errno of the first failed mseal
  std::size_t system_mappings_sealed = 0;
  bool stack_sealed = false;
  std::size_t maps_bad_lines = 0;
  std::uint64_t elapsed_ns = 0;
  bool timed = true;  // false: elapsed_ns is not measured (nothing logs it; two clock system calls saved)
  bool program_excluded = false;  // exclude-program matched: nothing was sealed
  const char* config = "none";    // the configuration file: none, loaded or rejected
  bool log_to_syslog = false;     // the configuration's `log = syslog`: the start-up line goes to the system log too
  const char* injected_as = "audit";  // audit (sealkit run) or preload (/etc/ld.so.preload)
  // Set by the caller when code other than ld.so's may have run since the
  // objects were mapped (the preload object's constructor runs after its
  // dependencies' constructors): each part's protection is then looked at
  // before its seal (prot_guard.hpp). The pass also sets it under
  // READ_IMPLIES_EXEC, where the kernel made readable mappings executable.
  bool look_at_protections = false;
  ProtStats prot;  // what the look found and did
  // The seccomp backend (runtime/seccomp/): set by the caller before the pass.
  // Everything is then gathered into ONE filter, installed at the end with the
  // process policy (polyfill trap, io_uring refused); mseal_calls stays 0.
  bool seccomp = false;
  bool filter_installed = false;
  std::size_t filter_ranges = 0;          // merged ranges the filter searches
  std::size_t filter_discard_ranges = 0;  // of which madvise discard is refused
  std::size_t filter_instructions = 0;    // classic BPF
  std::size_t filter_kernel_length = 0;   // counted against the kernel's 32768
  bool set_no_new_privs = false;          // the install turned no_new_privs on
  bool polyfill = false;                  // the SIGSYS handler for syscall 462 is in place
  bool policy_inherited = false;          // an earlier image's filter already holds the process policy
  // harden-discard (config.hpp), set by the caller: on the kernel backend, one
  // more filter that refuses discarding madvise on every sealed object's RELRO
  // (docs/runtime.md, "Discard advice on sealed file mappings").
  bool harden_discard = false;
  bool harden_installed = false;
  std::size_t harden_ranges = 0;        // merged RELRO ranges the filter guards
  std::size_t harden_kernel_length = 0;  // counted against the kernel's 32768
  int harden_error = 0;                 // errno of a failed build or install (EACCES: no CAP_SYS_ADMIN nor no_new_privs)
};

// Seals what start-up loaded. `objects` are the base namespace's link maps;
// `self_ehdr` is the runtime's own ELF header.
void seal_startup(const LoadedRef* objects, std::size_t n, std::uintptr_t self_ehdr, SealStats& stats);

}  // namespace sealkit::rt
