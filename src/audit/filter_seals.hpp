// What a process's seccomp filters seal: the pages for which the filters
// refuse each of the calls mseal refuses (mprotect, munmap, mremap, mmap
// with MAP_FIXED). docs/audit.md, "Seals made by seccomp filters".
//
// The filters are run on synthetic seccomp_data: the process's audit arch
// and its numbers for the calls (x86_64, or i386 for a 32-bit process), one
// page at the page's address as arguments (mprotect PROT_READ; munmap;
// mremap growing to two pages with MREMAP_MAYMOVE; mmap PROT_READ,
// MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED, fd -1, offset 0), instruction
// pointer 0. All filters run on every request and the most restrictive
// action wins, as in the kernel. Per page, the outcome is one of:
// - refused: SECCOMP_RET_ERRNO with EPERM (mseal's own answer) or TRAP
//   (sealkit's SIGSYS design answers EPERM) for all four calls: sealed;
// - supervised: no call allowed, and some handed to a supervisor
//   (USER_NOTIF): what it answers is not in the filter, so it is not
//   counted as sealed (sealkit run's supervisor answers by the caller's
//   registrations, docs/seccomp-exec.md);
// - anything else (ALLOW, LOG, TRACE, another errno, KILL): not sealed.
// A VMA is split into runs of pages with the same outcome: the filters do
// not split VMAs as mseal does, so a VMA can be sealed in part (an object's
// bss merged with the anonymous memory after it).
//
// Work is bounded: each run of a filter also says for how many following
// pages its answer is the same (audit/bpf_span.hpp), so a VMA costs one run
// per filter and call for each range boundary in it, not one per page; an
// instruction budget per process leaves the VMAs past it "unknown".
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "audit/process_audit.hpp"
#include "audit/seccomp_filters.hpp"
#include "audit/vma_class.hpp"
#include "core/range.hpp"

namespace sealkit::audit {

// The system call numbers of the calls checked, per ABI
// (arch/x86/entry/syscalls/syscall_64.tbl, syscall_32.tbl).
struct FilterAbi {
  std::uint32_t audit_arch;
  int nr_mmap, nr_mprotect, nr_munmap, nr_mremap, nr_madvise;
  std::uint64_t address_limit;  // no page at or above it (TASK_SIZE)
  const char* name;
};
// i386: mmap2 (192), whose arguments are in registers; old_mmap (90) passes a
// pointer to them, which no filter can look at.
inline constexpr FilterAbi kAbiX86_64{0xc000003eu, 9, 10, 11, 25, 28, std::uint64_t{1} << 47, "x86_64"};
inline constexpr FilterAbi kAbiI386{0x40000003u, 192, 125, 91, 163, 219, std::uint64_t{1} << 32, "i386"};
// A 64-bit process reaches memory below this address with 32-bit arguments
// too (int 0x80): a start up to 0xfffff000 and a length up to 4 GiB. Its
// filters are asked in i386 terms there as well (apply_filter_seals).
inline constexpr std::uint64_t kI386ArgumentReach = 0x1'ffff'f000;
// mseal has the same number in both ABIs (syscall_64.tbl, syscall_32.tbl).
inline constexpr int kNrMseal = 462;

struct RangeCheck {
  FilterCheck check = FilterCheck::kNotSealed;  // kSealed, kPartial, kSupervised, kNotSealed or kUnknown
  FilterAction action = FilterAction::kNone;    // the weakest refusal over the refused pages
  bool discard_refused = false;                 // every refused page refuses madvise(MADV_DONTNEED) too
  std::uint64_t refused_bytes = 0, supervised_bytes = 0;
  std::vector<Range> refused;     // the refused pages as ranges, in order, adjacent ones merged
  std::vector<Range> supervised;  // the same for the supervised pages
};

// Checks [begin, end) (page-aligned) against `programs` (newest first) in the
// terms of one ABI, spending at most `budget` instructions (decremented;
// `executed` incremented). kUnknown when the budget ran out first.
// apply_filter_seals asks a 64-bit process's filters in both ABIs below
// kI386ArgumentReach; this asks one.
RangeCheck check_range(const FilterAbi& abi, const std::vector<std::vector<sock_filter>>& programs,
                       std::uint64_t begin, std::uint64_t end, std::uint64_t& budget, std::uint64_t& executed);

// Applies read filters to every VMA of `a` that the kernel has not sealed:
// marks the wholly refused ones sealed (sealed_by kFilter), records the
// refused and supervised parts of the others, fills a.filters and recounts
// the totals. `abi` is the process's (nullptr: not one the audit can
// evaluate, `why` says which).
//
// A process whose filters hand calls to a supervisor (USER_NOTIF on a page
// nobody mapped: sealkit run's root filter) has its supervised pages decided
// by `ask_supervisor`, when given and when it answers: the programs the
// supervisor answers with (ERRNO action, as it runs them); refused -> sealed
// (filter_action user_notif), else not sealed. Without an answer they stay
// "supervised", with the reason in a.filters.supervisor.
struct SupervisorAnswer {
  pid_t pid = 0;                                      // who answered (or was asked last)
  std::string error;                                  // empty: answered
  std::vector<std::vector<sock_filter>> programs;     // one per record
};
using AskSupervisor = std::function<SupervisorAnswer()>;
void apply_filter_seals(const ProcessFilters& filters, const FilterAbi* abi, std::uint64_t budget, ProcessAudit& a,
                        const AskSupervisor& ask_supervisor = {});

// The ABI of a process from its executable's ELF header (class and machine)
// read through /proc/PID/exe; nullptr when it is not i386 or x86_64 (x32, or
// unreadable), with `why` set.
const FilterAbi* process_abi(pid_t pid, std::string& why);

}  // namespace sealkit::audit
