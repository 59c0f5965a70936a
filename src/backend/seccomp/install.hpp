// Installing a generated filter: seccomp(2) with SECCOMP_FILTER_FLAG_TSYNC so
// that every thread of the process gets it at once.
//
// The kernel lets a process install a filter only with no_new_privs set or
// with CAP_SYS_ADMIN in its user namespace. Without CAP_SYS_ADMIN, install()
// sets no_new_privs first: from then on execve never grants privileges (setuid
// and setgid bits and file capabilities are ignored for this process and its
// children), and that cannot be undone. The outcome says which way was taken.
#pragma once

#include "backend/seccomp/filter.hpp"

namespace sealkit::backend::seccomp {

struct InstallOutcome {
  // 0, or the errno of the failure:
  //   EINVAL  the kernel rejected the program (verifier) or has no seccomp filters;
  //   ENOMEM  the filters of this thread would exceed 32768 instructions in total
  //           (each filter counts its length + 4), or no kernel memory;
  //   EAGAIN  another thread has a filter this one does not descend from (TSYNC failed);
  //   EACCES  neither no_new_privs nor CAP_SYS_ADMIN (setting no_new_privs failed).
  int error = 0;
  bool set_no_new_privs = false;  // this call turned no_new_privs on
  bool had_cap_sys_admin = false;
  bool all_threads = false;       // TSYNC applied it to every thread (false only with the prctl fallback)
  int conflicting_thread = 0;     // EAGAIN: the thread id the kernel named (not with a listener: see below)
  int listener_fd = -1;           // InstallOptions::new_listener: the filter's listener (O_CLOEXEC), owned by the caller
};

struct InstallOptions {
  // SECCOMP_FILTER_FLAG_NEW_LISTENER: the outcome carries the listener fd for a
  // filter whose refusal action is SECCOMP_RET_USER_NOTIF. The kernel refuses
  // it together with TSYNC (both report through the return value) unless
  // SECCOMP_FILTER_FLAG_TSYNC_ESRCH is given too (5.7+, so 6.1 has it): a TSYNC
  // failure is then ESRCH, reported here as EAGAIN without a thread id. And it
  // refuses (EBUSY) a listener while any filter this thread already has still
  // has an open listener (has_duplicate_listener, kernel/seccomp.c, 6.1 to
  // 6.18): one live listener per chain of filters, docs/seccomp-exec.md.
  bool new_listener = false;
  // Never turn no_new_privs on: without CAP_SYS_ADMIN and without it already
  // set, fail with EACCES and install nothing. For a filter that must not
  // change what execve grants (the runtime's harden-discard layer, which
  // every process of a machine may get).
  bool keep_no_new_privs = false;
};

// Whether the calling thread has CAP_SYS_ADMIN in its effective set.
bool has_cap_sys_admin() noexcept;

// Installs `program` on every thread of the calling process. Falls back to
// prctl(PR_SET_SECCOMP) (calling thread only) only where seccomp(2) does not
// exist (ENOSYS, kernels before 3.17).
InstallOutcome install(const Program& program, const InstallOptions& options = {}) noexcept;

// The seccomp(2) flags install() uses.
inline constexpr unsigned kInstallFlags = SECCOMP_FILTER_FLAG_TSYNC;
inline constexpr unsigned kInstallListenerFlags =
    SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_TSYNC_ESRCH | SECCOMP_FILTER_FLAG_NEW_LISTENER;

// The per-thread budget: installing a filter fails with ENOMEM when its length
// plus, for every filter already installed, that filter's length + 4 exceeds
// 32768 (kernel/seccomp.c seccomp_attach_filter). The lengths counted there are
// those of the internal eBPF program the classic one is translated into
// (net/core/filter.c bpf_convert_filter), not the classic lengths.
inline constexpr std::size_t kFilterPenalty = 4;
inline constexpr std::size_t kMaxTotalInstructions = 32768;

// The eBPF length the kernel will count for `program`: 3 prologue instructions,
// then one per classic instruction except RET K (2), a conditional jump whose
// two targets are both not the next instruction (2, and JSET unless its false
// target is next) and a jump against a constant >= 2^31 (one more, to load it).
// With net.core.bpf_jit_harden the JIT's constant blinding makes it longer.
std::size_t kernel_length(const sock_filter* insns, std::size_t length) noexcept;
inline std::size_t kernel_length(const Program& p) noexcept { return kernel_length(p.insns, p.length); }

}  // namespace sealkit::backend::seccomp
