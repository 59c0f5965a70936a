// mseal(2) for the runtime, never called where it would kill the process.
//
// A seccomp filter someone else installed (a sandbox's allow-list, an older
// service manager's, a container runtime's) may answer a system call it does
// not list by killing the process (SECCOMP_RET_KILL_*, or a TRAP whose SIGSYS
// the program does not handle) rather than with an error. An allow-list
// written before mseal does not list it. The runtime, which must never end
// its host, then asks in a throwaway child first (a copy of the process made
// with clone, which calls mseal(0, 0, 0) and exits) and, where the child
// dies, does not call mseal at all: nothing is sealed, as on a kernel without
// mseal (the start-up log says ENOSYS; `sealkit audit` and `sealkit status`
// name the filter).
// Only the filters the process was started under are asked about: one the
// program installs itself later (its own sandbox) may kill the child's clone
// or wait4 as readily as mseal (QEMU's -sandbox spawn=deny, libvirt's
// default, kills a clone that makes a process). Under such a filter nothing
// more is sealed.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sealkit::rt {

// At start-up, before the program runs (the preload object's constructor;
// otherwise the first mseal_gate_open()): notes the filters the process was
// started under.
void mseal_gate_startup();

// Where a sealing pass begins (start-up, each pass over later objects):
// whether this pass may call mseal. Free outside a filter (one prctl); under
// one, a read of /proc/self/status, and a child the first time.
bool mseal_gate_open();

// After the runtime installed a filter of its own that leaves mseal alone
// (harden-discard): that filter never refuses mseal, so the answer the gate
// had still holds, with no child to ask at the next pass.
void mseal_gate_trust_own_filter();

// mseal(start, len, 0), or -EPERM without the call where the gate is closed.
// The gate is the last mseal_gate_open()'s answer (open before any).
long gated_mseal(std::uintptr_t start, std::size_t len);

}  // namespace sealkit::rt
