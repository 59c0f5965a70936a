// What the running kernel does about sealing, each tested on it (`sealkit
// probe` and `sealkit status` ask the same functions).
#pragma once

#include <optional>
#include <string>

namespace sealkit::cli::machine {

struct KernelFact {
  std::optional<bool> value;  // nullopt: could not be found out (`detail` says why)
  std::string detail;
};

// mseal(2) seals: a scratch page is sealed, then mprotect on it must fail with
// EPERM. The page stays mapped (a sealed page cannot be unmapped).
KernelFact mseal_seals();

// CONFIG_MSEAL_SYSTEM_MAPPINGS (6.15+): the kernel seals [vdso], [vvar],
// [vvar_vclock] (and [sigpage], [vectors], [uprobes] where present) itself at
// exec. Read from a new process stopped by ptrace right after its exec, before
// ld.so runs: in this process the machine-wide preload object (or sealkit run)
// may have sealed them already. Without ptrace, this process's own smaps,
// when nothing of sealkit's is mapped in it.
KernelFact kernel_seals_system_mappings();

// The /proc/PID/mem write policy: proc_mem.force_override= on the kernel
// command line (always, ptrace, never: Linux 6.12+), or "default" when absent
// (the kernel's build-time choice, CONFIG_PROC_MEM_*). `detail` says where it
// comes from.
std::string proc_mem_force_override(std::string& detail);

// Whether the kernel refuses a write through /proc/PID/mem to a read-only
// private page, the way a debugger pokes a breakpoint (FOLL_FORCE), which
// mseal does not stop: tried for real in a child on its own page, sealed when
// mseal works. true: refused (proc_mem.force_override=never, or =ptrace for a
// process that is not its own tracer); false: the bytes changed.
KernelFact proc_mem_writes_blocked();

}  // namespace sealkit::cli::machine
