#include "core/filter_seals.hpp"

#include <linux/audit.h>
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <iterator>
#include <optional>

#include "core/bpf_eval.hpp"

namespace sealkit::core {

namespace {

constexpr std::uint64_t kPage = 4096;  // x86_64: the only arch evaluated

seccomp_data request(int nr, std::uint64_t page) {
  seccomp_data d{};
  d.nr = nr;
  d.arch = AUDIT_ARCH_X86_64;
  d.args[0] = page;
  d.args[1] = kPage;
  switch (nr) {
    case kNrMprotect: d.args[2] = PROT_READ; break;
    case kNrMremap:
      d.args[2] = 2 * kPage;
      d.args[3] = MREMAP_MAYMOVE;
      break;
    case kNrMmap:
      d.args[2] = PROT_READ;
      d.args[3] = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
      d.args[4] = ~std::uint64_t{0};  // fd -1
      break;
    case kNrMadvise: d.args[2] = MADV_DONTNEED; break;
    default: break;
  }
  return d;
}

// The refusal an action is, kNone when it is not one that mseal's EPERM maps to.
FilterAction refusal(std::uint32_t ret) noexcept {
  switch (ret & SECCOMP_RET_ACTION_FULL) {
    case SECCOMP_RET_ERRNO: return (ret & SECCOMP_RET_DATA) == EPERM ? FilterAction::kErrno : FilterAction::kNone;
    case SECCOMP_RET_USER_NOTIF: return FilterAction::kUserNotif;
    case SECCOMP_RET_TRAP: return FilterAction::kTrap;
    default: return FilterAction::kNone;
  }
}

// All filters on one request, the kernel's way: newest first, the most
// restrictive action wins, the first of equal ones keeps its data. false when
// the budget does not cover it.
bool run_all(const std::vector<std::vector<sock_filter>>& programs, const seccomp_data& d, std::uint64_t& budget,
             std::uint64_t& executed, std::uint32_t& ret, bool& read_arg0) {
  ret = SECCOMP_RET_ALLOW;
  read_arg0 = false;
  for (const auto& p : programs) {
    // A run executes at most p.size() instructions (jumps go forward only).
    if (budget < p.size()) return false;
    bpf::RunOutcome o = bpf::run(p.data(), p.size(), d);
    budget -= o.executed;
    executed += o.executed;
    read_arg0 = read_arg0 || o.read_arg0;
    if (bpf::more_restrictive(o.ret, ret)) ret = o.ret;
  }
  return true;
}

// The first page at or above 64 KiB (the usual vm.mmap_min_addr) that no VMA
// covers: a request there touches nothing anyone could have sealed.
std::optional<std::uint64_t> unmapped_page(const std::vector<VmaRecord>& vmas) {
  std::uint64_t at = 0x10000;
  for (const VmaRecord& v : vmas) {
    if (v.map.range.begin >= at + kPage) return at;
    at = std::max<std::uint64_t>(at, v.map.range.end);
  }
  return at < (std::uint64_t{1} << 47) - kPage ? std::optional<std::uint64_t>(at) : std::nullopt;
}

}  // namespace

RangeCheck check_range(const std::vector<std::vector<sock_filter>>& programs, std::uint64_t begin,
                       std::uint64_t end, std::uint64_t& budget, std::uint64_t& executed) {
  RangeCheck r;
  if (programs.empty() || end <= begin) return r;
  const std::uint64_t pages = (end - begin) / kPage;
  static constexpr int kCalls[] = {kNrMprotect, kNrMunmap, kNrMremap, kNrMmap};
  auto page_at = [&](std::uint64_t i) {
    // first, last, then the ones between: an unsealed end shows at once
    const std::uint64_t k = i == 0 ? 0 : i == 1 ? pages - 1 : i - 1;
    return begin + k * kPage;
  };
  // Pages differ only in args[0]: a call whose filters never loaded it on
  // the first page gets the same answer on every page (sound, and what makes
  // a filter that decides by number alone cost one run per call for any size).
  bool address_matters[std::size(kCalls)] = {};
  FilterAction weakest = FilterAction::kNone;
  for (std::uint64_t i = 0; i < pages; ++i) {
    const std::uint64_t page = page_at(i);
    for (std::size_t c = 0; c < std::size(kCalls); ++c) {
      if (i > 0 && !address_matters[c]) continue;
      std::uint32_t ret = 0;
      bool read_arg0 = false;
      if (!run_all(programs, request(kCalls[c], page), budget, executed, ret, read_arg0)) {
        r.check = FilterCheck::kUnknown;
        return r;
      }
      if (i == 0) address_matters[c] = read_arg0;
      const FilterAction a = refusal(ret);
      if (a == FilterAction::kNone) return r;  // kNotSealed
      weakest = std::max(weakest, a);
    }
    if (i == 0 && std::none_of(std::begin(address_matters), std::end(address_matters), [](bool m) { return m; }))
      break;  // no call looked at the address: every page is answered alike
  }
  r.check = FilterCheck::kSealed;
  r.action = weakest;
  r.discard_refused = true;
  for (std::uint64_t i = 0; i < pages && r.discard_refused; ++i) {
    std::uint32_t ret = 0;
    bool read_arg0 = false;
    if (!run_all(programs, request(kNrMadvise, page_at(i)), budget, executed, ret, read_arg0)) {
      r.discard_refused = false;  // not known: not claimed
      break;
    }
    r.discard_refused = refusal(ret) != FilterAction::kNone;
    if (!read_arg0) break;  // the same for every page
  }
  return r;
}

void apply_filter_seals(const ProcessFilters& filters, std::uint64_t budget, ProcessAudit& a) {
  FilterSummary& s = a.filters;
  s.stopped_seconds = filters.stopped_seconds;
  switch (filters.status) {
    case ProcessFilters::Status::kNone: s.status = FilterSummary::Status::kNone; return;
    case ProcessFilters::Status::kUnknown:
      s.status = FilterSummary::Status::kUnknown;
      s.reason = filters.reason;
      return;
    case ProcessFilters::Status::kRead: break;
  }
  s.filters = filters.programs.size();
  s.instructions = filters.instructions;
  if (filters.arch != AUDIT_ARCH_X86_64) {
    s.status = FilterSummary::Status::kUnknown;
    s.reason = filters.arch == 0 ? "its system call arch could not be read"
                                 : "not an x86_64 process: its filters are not evaluated";
    return;
  }
  s.status = FilterSummary::Status::kRead;
  if (auto hole = unmapped_page(a.vmas)) {
    RangeCheck c = check_range(filters.programs, *hole, *hole + kPage, budget, s.executed);
    s.refuses_unmapped = c.check == FilterCheck::kSealed;
  }
  bool exhausted = false;
  for (VmaRecord& v : a.vmas) {
    if (v.sealed_by == SealedBy::kKernel) continue;
    RangeCheck c;
    if (exhausted) c.check = FilterCheck::kUnknown;  // past the budget: the rest is unknown
    else c = check_range(filters.programs, v.map.range.begin, v.map.range.end, budget, s.executed);
    exhausted = c.check == FilterCheck::kUnknown;
    v.filter = c.check;
    if (c.check == FilterCheck::kUnknown) {
      ++s.unknown_vmas;
      continue;
    }
    if (c.check != FilterCheck::kSealed) continue;
    v.sealed = true;
    v.sealed_by = SealedBy::kFilter;
    v.filter_action = c.action;
    v.filter_discard_refused = c.discard_refused;
    ++s.sealed_vmas;
    s.sealed_bytes += v.map.range.size();
    s.discard_refused_vmas += c.discard_refused;
  }
  count_totals(a);
}

}  // namespace sealkit::core
