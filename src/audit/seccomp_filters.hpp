// Reading the seccomp filters of another process, for `sealkit audit`
// (docs/audit.md, "Seals made by seccomp filters").
//
// The kernel hands a process's classic-BPF filters out only through
// PTRACE_SECCOMP_GET_FILTER, which needs CAP_SYS_ADMIN, a tracer that is not
// itself under seccomp, and the target ptrace-stopped by the caller. So:
// PTRACE_SEIZE, PTRACE_INTERRUPT, a bounded wait for the stop, every filter
// index until ENOENT, PTRACE_DETACH. The target is stopped for the time
// that takes (tens of microseconds; `stopped_seconds` says).
//
// Never a hang, never a process left stopped:
// - the wait for the stop is bounded per process (FilterReadLimits) and for
//   the run (WaitBudget); a target that does not stop in time (a vfork
//   parent waiting for its child, uninterruptible sleep) is "busy", one met
//   after the run's budget is spent is "timeout" and not touched; a busy one
//   is kept on a pending list: finish_pending_detaches() (also run by every later
//   read_filters call) detaches it once it stops, and when sealkit exits for
//   any reason, SIGINT and SIGKILL included, the kernel detaches every tracee
//   of the exiting tracer (kernel/ptrace.c exit_ptrace) and lets it run;
// - a signal that arrived meanwhile is handed back on detach; a process that
//   was in a job-control stop stays in it;
// - an already traced process (debugger, strace) is not touched: "unknown".
// Everything read is checked as hostile input (core/bpf_eval.hpp).
#pragma once

#include <linux/filter.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/wait_budget.hpp"
#include "core/proc_status.hpp"

namespace sealkit::audit {

// Whether this process can read filters at all: CAP_SYS_ADMIN in its
// effective set and no seccomp filter of its own. Empty when it can, else why not.
std::string why_filters_unreadable();

struct ProcessFilters {
  enum class Status : std::uint8_t {
    kNone,     // no filter (Seccomp: 0 or 1)
    kRead,     // every filter read: `programs`
    kUnknown,  // could not be read: `reason`
    kBusy,     // did not stop within the time granted (a vfork parent, uninterruptible sleep): `reason`
    kTimeout,  // the run's wait budget was spent before its turn: not touched
  };
  Status status = Status::kNone;
  std::string reason;
  std::uint32_t arch = 0;  // AUDIT_ARCH_* of the stopped thread (PTRACE_GET_SYSCALL_INFO)
  // Newest first: the order the kernel runs them in (kernel/seccomp.c
  // seccomp_run_filters), which decides between equal actions.
  std::vector<std::vector<sock_filter>> programs;
  std::size_t instructions = 0;
  double stopped_seconds = 0;  // from the moment the stop was seen to PTRACE_DETACH
};
const char* to_string(ProcessFilters::Status s) noexcept;

struct FilterReadLimits {
  // A process stops for a tracer within microseconds unless it cannot: a
  // vfork parent stops only once its child execs or exits, a task in
  // uninterruptible sleep once it wakes. Waiting longer buys nothing.
  std::chrono::microseconds stop_timeout{std::chrono::milliseconds(50)};
  std::size_t max_filters = 8192;  // 32768 / (1 + 4): more cannot be installed
  WaitBudget* budget = nullptr;    // the run's (each wait is spent from it); none: only stop_timeout bounds
};

// Reads the filters of `pid` (its main thread; sealkit installs with TSYNC,
// so every thread has the same). `status` is what read_seccomp_status said.
ProcessFilters read_filters(pid_t pid, const core::SeccompStatus& status, const FilterReadLimits& limits = {});

// Waits up to `timeout` for targets whose stop timed out, detaching each as
// it stops. Returns how many are still attached (the kernel detaches them
// when this process exits).
std::size_t finish_pending_detaches(std::chrono::microseconds timeout);

}  // namespace sealkit::audit
