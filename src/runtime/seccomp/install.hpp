// Installing one seccomp filter from the runtime (no libc): the one place
// where both injected objects turn sealed ranges into an enforced filter, so
// that the exec supervisor (docs/seccomp-exec.md) has one function to wire.
//
// The filter is backend/seccomp's generated program, built in a workspace
// mapped for the call and unmapped after. The first filter of a process may
// carry the process policy in front of it (install_filter's with_policy):
//   - syscall 462 (mseal) -> SECCOMP_RET_TRAP, answered by the polyfill's
//     SIGSYS handler (polyfill.hpp), which seals like the kernel would;
//   - io_uring_setup -> ENOSYS: io_uring's IORING_OP_MADVISE would discard
//     sealed memory behind the filter's back (docs/seccomp.md, difference 8),
//     and programs fall back when io_uring is missing.
// Both only for the x86_64 ABI (and x32), like the rest of the filter.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backend/seccomp/filter.hpp"

namespace sealkit::rt::seccomp {

using backend::seccomp::SealedRange;

// SECCOMP_RET_DATA of the polyfill's trap: the SIGSYS handler sees it in
// si_errno and answers only traps that carry it.
inline constexpr std::uint32_t kTrapData = 0x5ea1;

// The filter generator guards the x86_64 ABI only (docs/seccomp.md): on any
// other architecture the runtime never picks this backend, and nothing here
// installs a filter.
#if defined(__x86_64__)
inline constexpr bool kSupported = true;
#else
inline constexpr bool kSupported = false;
#endif

struct FilterResult {
  int error = 0;                    // 0, or ENOMEM (too large / budget), EINVAL, EACCES (no_new_privs), EAGAIN (TSYNC),
                                    // EBUSY (a task outside the thread group shares the address space)
  std::size_t ranges = 0;           // merged ranges the filter searches
  std::size_t discard_ranges = 0;   // of which madvise discard is refused
  std::size_t instructions = 0;     // classic BPF instructions
  std::size_t kernel_length = 0;    // what the kernel counts against its 32768 budget
  bool set_no_new_privs = false;    // this call turned no_new_privs on
  bool supervised = false;          // registered with the supervisor: the counts above are the policy filter's
};

// Under the exec supervisor (`sealkit run --backend seccomp`, SEALKIT_SUPERVISOR_FD
// read by process_info): install_filter registers the ranges with it instead of
// installing a filter of its own, which would outlive this image at execve
// (docs/seccomp-exec.md); with_policy still installs the process policy, alone.
// The socket is trusted only when the kernel vouches for its peer
// (registration::untrusted_supervisor, asked at the first seal); otherwise
// one warning (none when `quiet`) and filters of this process's own.
void set_supervisor_fd(int fd, bool quiet = false);

// Whether install_filter first looks for tasks that share the address space
// outside the thread group, which its filter would not bind
// (backend/seccomp/mm_sharers.hpp): it refuses with EBUSY while one exists,
// and reports EBUSY when one was made while it installed. Skipped only by the
// audit module's start-up pass: that address space was made by execve
// moments before, and only ld.so and audit modules have run in it, so no
// such task can exist yet.
enum class SharerCheck { kLook, kFreshAddressSpace };

// Builds and installs (TSYNC: every thread) one filter for `ranges`.
// Allocation-free apart from mmap/munmap pairs, async-signal-safe: the
// polyfill calls it from its SIGSYS handler. Never called with n == 0.
FilterResult install_filter(const SealedRange* ranges, std::size_t n, bool with_policy, SharerCheck check);

// The harden-discard layer on the kernel backend (docs/runtime.md, "Discard
// advice on sealed file mappings"): one filter that refuses (EPERM) discarding
// madvise on `ranges` and process_madvise with discard advice, and nothing
// else (backend::seccomp::Input::discard_only). Every range is taken as
// discard-protected. TSYNC; never sets no_new_privs: without CAP_SYS_ADMIN
// and without no_new_privs already set it installs nothing (EACCES). Not
// registered with the exec supervisor: this filter answers for itself.
FilterResult install_discard_guard(const SealedRange* ranges, std::size_t n);

// The eBPF instructions (with the per-filter penalty) this object has
// installed so far: the kernel refuses a filter past 32768 with ENOMEM, and
// install_filter refuses it first when this object's own filters already
// tell that it would not fit.
std::size_t installed_kernel_length();

// The kernel's TASK_SIZE for this process (raw-syscall version of
// backend::seccomp::task_size()).
std::uint64_t task_size();

}  // namespace sealkit::rt::seccomp
