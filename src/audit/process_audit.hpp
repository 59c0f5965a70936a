// Auditing a live process: reads its smaps (and, when asked, its seccomp
// filters) and classifies every VMA (audit/vma_class.hpp).
//
// How a caller uses it:
//
//   audit::ElfLayoutCache cache;                      // one per run: ELF headers read once per (dev, inode)
//   audit::ProcessAudit a = audit::audit_process(pid, cache);
//   if (a.status != audit::AuditStatus::kOk) ...      // gone, denied, kernel thread, zombie, torn: no VMAs
//   for (const audit::VmaRecord& v : a.vmas) {        // in address order, one per smaps entry
//     v.cls;                                          // VmaClass: elf_text ... file (to_string(v.cls))
//     v.object;                                       // index into a.objects for elf_* classes, else -1
//     v.should_seal_bytes;                            // > 0: the rule says (part of) it should be sealed
//     v.sealed;                                       // "sl" in its VmFlags, or (with AuditOptions::filters)
//     v.sealed_by;                                    //   refused by its seccomp filters: kKernel / kFilter
//     v.verdict();                                    // sealed / unsealed (should be, is not) / not applicable
//   }
//   a.by_class[i], a.total                            // ClassTotals: VMAs and bytes, should-seal and sealed
//   a.total.coverage_bytes()                          // sealed should-seal bytes / should-seal bytes
//
// Tests feed smaps text directly: classify_smaps(text, lookup), where `lookup`
// says what ELF file (if any) a mapping at file offset 0 is.
#pragma once

#include <sys/types.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "audit/vma_class.hpp"
#include "audit/wait_budget.hpp"
#include "core/range.hpp"

namespace sealkit::audit {

enum class AuditStatus : std::uint8_t {
  kOk,
  kGone,          // exited (or exec'd into nothing readable) before or while it was read
  kDenied,        // EACCES/EPERM on its smaps
  kKernelThread,  // no user memory (PF_KTHREAD)
  kZombie,        // exited, not yet reaped: no memory left
  kTorn,          // smaps changed while it was read, three times in a row
  // Its seccomp filters could not be read in the time allowed (docs/audit.md,
  // "Never a hang"), so what it has sealed is not known: skipped, not counted.
  kBusy,     // did not stop within the time for one process (a vfork parent, uninterruptible sleep)
  kTimeout,  // the run's time for waiting on processes was spent before its turn
};
const char* to_string(AuditStatus s) noexcept;

// What the audit learnt from a process's seccomp filters (docs/audit.md).
struct FilterSummary {
  enum class Status : std::uint8_t {
    kNotChecked,  // not asked (--no-filters, or the audit cannot read filters: `reason`)
    kNone,        // the process has no seccomp filter
    kRead,        // read and evaluated (some VMAs may still be unknown: budget)
    kUnknown,     // has filters that could not be read: `reason`
  };
  Status status = Status::kNotChecked;
  std::string reason;
  std::size_t filters = 0, instructions = 0;  // read
  std::uint64_t executed = 0;                 // instructions run evaluating them
  std::size_t sealed_vmas = 0, unknown_vmas = 0, discard_refused_vmas = 0;
  std::uint64_t sealed_bytes = 0;
  double stopped_seconds = 0;  // how long the process was ptrace-stopped
  // The filters refuse the calls on a page the process has not mapped: they
  // forbid memory management as such (a sandbox), so "sealed" VMAs may not be
  // anyone's seal. The VMAs still count (nothing can change them), flagged.
  bool refuses_unmapped = false;
  // The filters hand the calls on a page nobody mapped to a supervisor
  // (USER_NOTIF): a supervisor decides (sealkit run --backend seccomp).
  bool supervises_unmapped = false;
  const char* abi = "";  // the ABI its filters were evaluated for: "x86_64", "i386"
  // For supervises_unmapped: "answered" when the supervisor (sealkit run,
  // found among its ancestors) said what it refuses, else why not.
  std::string supervisor;
  pid_t supervisor_pid = 0;
  std::size_t partial_vmas = 0, supervised_vmas = 0;
  std::uint64_t supervised_bytes = 0;
  // What the filters answer mseal itself (status kRead): the combined
  // SECCOMP_RET_* of a call sealing one page. Anything but ALLOW or LOG keeps
  // the runtime from sealing with mseal: an allow-list written before mseal
  // answers ENOSYS (systemd's SystemCallFilter=, container managers' lists).
  std::uint32_t mseal_ret = 0x7fff0000u;  // SECCOMP_RET_ALLOW
  bool refuses_mseal() const noexcept;
};
const char* to_string(FilterSummary::Status s) noexcept;
// The filters' answer to mseal in words: "allowed", "logged", "ENOSYS" (an
// errno, by name), "trap", "kill", "user_notif", "trace".
std::string mseal_answer(std::uint32_t ret);  // "not_checked", "none", "read", "unknown"

struct ProcessAudit {
  pid_t pid = 0;
  std::string comm;  // from /proc/PID/comm
  std::string exe;   // readlink /proc/PID/exe; "" when unreadable
  // Whose rights it has: the effective uid from status, else the owner of
  // /proc/PID (the same but for a process that is not dumpable); -1 unknown.
  long uid = -1;
  // AT_SECURE from /proc/PID/auxv: ld.so ran it in secure execution
  // (set-user-ID, set-group-ID, file capabilities) and ignored LD_AUDIT and LD_PRELOAD.
  bool secure_exec = false;
  AuditStatus status = AuditStatus::kOk;
  std::string detail;  // why a status other than ok, in words
  std::vector<VmaRecord> vmas;
  std::vector<ObjectRecord> objects;
  std::array<ClassTotals, kVmaClassCount> by_class{};
  ClassTotals total;
  std::size_t objects_unverified = 0;
  FilterSummary filters;
  // The parts of VMAs that the rule asks for in part only (0 < should_seal_bytes
  // < size), sorted: what a seal of part of such a VMA is measured against.
  std::vector<Range> should_seal_ranges;
};

// (Re)computes by_class, total and the objects' spans and counts from `vmas`.
void count_totals(ProcessAudit& a);

// Classifies a whole smaps text. status is kOk, or kTorn when a line cannot
// be read, an entry lacks VmFlags, or addresses are not strictly increasing.
ProcessAudit classify_smaps(std::string_view smaps_text, const ElfLookupFn& lookup);


// ELF layouts by (dev, inode), for a whole run. Opens the mapping's path and
// checks that the opened file has the mapping's dev and inode; when it does
// not (replaced, deleted, another mount namespace) it tries
// /proc/PID/map_files/START-END, which needs privilege. Not thread-safe.
class ElfLayoutCache {
 public:
  ElfLookup lookup(pid_t pid, const MapsEntry& offset0_mapping);
  std::size_t files_read() const noexcept { return files_read_; }

 private:
  std::map<std::tuple<std::uint32_t, std::uint32_t, std::uint64_t>, ElfLookup> cache_;
  std::size_t files_read_ = 0;
};

// Reads /proc/PID/comm, exe and smaps (and stat when smaps is empty, to
// tell a kernel thread or zombie from a process that exited), and
// classifies. Never throws for a process that vanishes or is out of reach:
// the status says what happened.
ProcessAudit audit_process(pid_t pid, ElfLayoutCache& cache);

struct AuditOptions {
  // Read the seccomp filters of processes that have some and count what they
  // seal (audit/filter_seals.hpp). Stops each such process for microseconds.
  bool filters = false;
  std::string filters_unreadable;         // when non-empty, the reason filters are not read (status not_checked)
  std::uint64_t filter_budget = 1 << 26;  // instructions evaluated per process; past it, VMAs are unknown
  // The instructions the whole run may still evaluate, shared by every call
  // and decremented (a process gets the smaller of the two budgets): a user
  // can give many processes filters that spend the per-process budget each,
  // and the run must still end. None: the per-process budget only.
  std::uint64_t* filter_run_budget = nullptr;
  std::chrono::microseconds stop_timeout{std::chrono::milliseconds(50)};  // per process, for the stop
  // Per supervisor asked about a supervised process (docs/seccomp-exec.md).
  std::chrono::microseconds answer_timeout{std::chrono::milliseconds(100)};
  // The run's time for waiting on processes (stops, supervisors' answers),
  // shared by every call; none: each wait is bounded on its own only.
  WaitBudget* waits = nullptr;
};
ProcessAudit audit_process(pid_t pid, ElfLayoutCache& cache, const AuditOptions& options);

}  // namespace sealkit::audit
