// Which VMAs a process's seccomp filters seal: the filters refuse, for every
// page of the VMA, each of the calls mseal refuses (mprotect, munmap, mremap,
// mmap with MAP_FIXED). docs/audit.md, "Seals made by seccomp filters".
//
// The filters are run (core/bpf_eval.hpp) on synthetic seccomp_data: the
// process's audit arch, the call's number, and one page at the page's
// address as arguments (mprotect PROT_READ; munmap; mremap growing to two
// pages with MREMAP_MAYMOVE; mmap PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS|
// MAP_FIXED, fd -1, offset 0), instruction pointer 0. All filters run on
// every request and the most restrictive action wins, as in the kernel. A
// refusal is SECCOMP_RET_ERRNO with EPERM (mseal's own answer), or
// USER_NOTIF or TRAP, which sealkit's supervisor and SIGSYS designs answer
// with EPERM; the weakest one met is reported. Anything else (ALLOW, LOG,
// TRACE, another errno, KILL) is not a seal. For a VMA found sealed,
// madvise(MADV_DONTNEED) is checked the same way (discard protection).
//
// Work is bounded: pages are tried first, last, then in order, a VMA stops
// at its first allowed page (an unsealed VMA costs one run per filter), and
// an instruction budget per process leaves the VMAs past it "unknown".
#pragma once

#include <cstdint>
#include <vector>

#include "core/seccomp_filters.hpp"
#include "core/vma_class.hpp"

namespace sealkit::core {

// The x86_64 numbers of the calls checked (arch/x86/entry/syscalls/syscall_64.tbl).
inline constexpr int kNrMmap = 9, kNrMprotect = 10, kNrMunmap = 11, kNrMremap = 25, kNrMadvise = 28;

struct RangeCheck {
  FilterCheck check = FilterCheck::kNotSealed;
  FilterAction action = FilterAction::kNone;
  bool discard_refused = false;
};

// Checks [begin, end) (page-aligned) against `programs` (newest first) for an
// x86_64 process, spending at most `budget` instructions (decremented;
// `executed` incremented). kUnknown when the budget ran out first.
RangeCheck check_range(const std::vector<std::vector<sock_filter>>& programs, std::uint64_t begin,
                       std::uint64_t end, std::uint64_t& budget, std::uint64_t& executed);

// Applies read filters to every VMA of `a` that the kernel has not sealed,
// marks the filter-sealed ones sealed (sealed_by kFilter), fills a.filters
// and recounts the totals.
void apply_filter_seals(const ProcessFilters& filters, std::uint64_t budget, ProcessAudit& a);

}  // namespace sealkit::core
