// The mseal polyfill (docs/runtime.md): in a process sealed on the seccomp
// backend, the first filter returns SECCOMP_RET_TRAP for system call 462
// (install.hpp), and this SIGSYS handler does what the kernel's mseal would:
// the same validation and errors (EINVAL for flags, an unaligned address or a
// length that wraps; 0 for length 0; ENOMEM when a page is not mapped), then
// one filter for the range, and the result in the caller's rax. So unmodified
// programs that call syscall(462, ...) (Chrome/V8) get real, enforced seals.
//
// The handler is installed with raw rt_sigaction (SA_SIGINFO | SA_RESTORER,
// every signal blocked while it runs) and allocates nothing but one mmap'd
// workspace per call (collector.hpp, install.hpp).
//
// If the program installs its own SIGSYS handler it replaces this one: a later
// syscall(462) then reaches the program's handler (si_syscall 462, si_errno
// kTrapData), or, with the default action, kills the process with SIGSYS; a
// program that blocks SIGSYS is killed too (the kernel forces the signal).
// docs/runtime.md says so.
#pragma once

#include <cstdint>

namespace sealkit::rt::seccomp {

// false when rt_sigaction failed (or this architecture has no backend).
bool install_polyfill();

// The SIGSYS handler the kernel has for this process now (whoever installed
// it), or nullptr: for telling from another object whether it is the runtime's.
const void* sigsys_handler_in_place();

// Puts back a SIGSYS disposition sigsys_handler_in_place() returned before
// install_polyfill(): SIG_DFL (nullptr) or SIG_IGN, what a process can have
// inherited across execve, before any of its code ran.
void restore_sigsys(const void* inherited);

// Whether a filter an earlier image of this process installed already traps
// syscall 462 to this handler's kind (the policy is kept across execve, so one
// per process lineage is enough: installing it again in every image would use
// up the filter budget after ~1500 execs). Asks by trapping: call only with
// the handler installed (install_polyfill() true), or an inherited trap kills.
bool policy_inherited();

// What the handler puts in rax: 0 or -errno, as mseal(addr, len, flags).
long polyfill_mseal(std::uint64_t addr, std::uint64_t len, std::uint64_t flags);

}  // namespace sealkit::rt::seccomp
