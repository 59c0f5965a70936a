#include "audit/filter_seals.hpp"

#include <elf.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include "audit/bpf_span.hpp"
#include "core/bpf_eval.hpp"

namespace sealkit::audit {

using namespace core;

namespace {

constexpr std::uint64_t kPage = bpf::kSpanPage;  // x86_64 and i386 alike
constexpr std::uint64_t kNoEnd = ~std::uint64_t{0};
constexpr std::uint64_t k4GiB = std::uint64_t{1} << 32;

static_assert(kAbiX86_64.audit_arch == AUDIT_ARCH_X86_64 && kAbiI386.audit_arch == AUDIT_ARCH_I386);

// The request of `nr` on [start, start + len).
seccomp_data request(const FilterAbi& abi, int nr, std::uint64_t start, std::uint64_t len) {
  seccomp_data d{};
  d.nr = nr;
  d.arch = abi.audit_arch;
  d.args[0] = start;
  d.args[1] = len;
  // A 32-bit process's arguments are 32-bit: the kernel zero-extends them into seccomp_data.
  const std::uint64_t minus_one = abi.address_limit == (std::uint64_t{1} << 32) ? 0xffffffffu : ~std::uint64_t{0};
  if (nr == abi.nr_mprotect) {
    d.args[2] = PROT_READ;
  } else if (nr == abi.nr_mremap) {
    d.args[2] = len + kPage;
    d.args[3] = MREMAP_MAYMOVE;
  } else if (nr == abi.nr_mmap) {
    d.args[2] = PROT_READ;
    d.args[3] = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
    d.args[4] = minus_one;  // fd -1
  } else if (nr == abi.nr_madvise) {
    d.args[2] = MADV_DONTNEED;
  }
  return d;
}

seccomp_data request(const FilterAbi& abi, int nr, std::uint64_t page) { return request(abi, nr, page, kPage); }

// What one request's combined action means for a seal.
enum class Outcome : std::uint8_t { kAllowed, kSupervised, kRefused };

Outcome outcome_of(std::uint32_t ret, FilterAction& refusal) noexcept {
  switch (ret & SECCOMP_RET_ACTION_FULL) {
    case SECCOMP_RET_ERRNO:
      if ((ret & SECCOMP_RET_DATA) != EPERM) return Outcome::kAllowed;  // another errno: not mseal's answer
      refusal = FilterAction::kErrno;
      return Outcome::kRefused;
    case SECCOMP_RET_TRAP:
      refusal = FilterAction::kTrap;
      return Outcome::kRefused;
    case SECCOMP_RET_USER_NOTIF: return Outcome::kSupervised;
    default: return Outcome::kAllowed;
  }
}

// All filters on one request, the kernel's way: newest first, the most
// restrictive action wins, the first of equal ones keeps its data.
// `through`: the last page-aligned address up to which every filter answers
// the same. false when the budget does not cover it.
bool run_all(const std::vector<std::vector<sock_filter>>& programs, const seccomp_data& d, std::uint64_t& budget,
             std::uint64_t& executed, std::uint32_t& ret, std::uint64_t& through) {
  ret = SECCOMP_RET_ALLOW;
  through = kNoEnd;
  for (const auto& p : programs) {
    // A run executes at most p.size() instructions (jumps go forward only).
    if (budget < p.size()) return false;
    bpf::SpanOutcome o = bpf::run_span(p.data(), p.size(), d);
    budget -= o.run.executed;
    executed += o.run.executed;
    through = std::min(through, o.same_through);
    if (core::bpf::more_restrictive(o.run.ret, ret)) ret = o.run.ret;
  }
  return true;
}

// The next page after `through`, at most `end`.
std::uint64_t next_page(std::uint64_t through, std::uint64_t end) {
  return through >= end - 1 ? end : (through | (kPage - 1)) + 1;
}

void append(std::vector<Range>& out, std::uint64_t begin, std::uint64_t end) {
  if (!out.empty() && out.back().end == begin) out.back().end = end;
  else out.push_back({begin, end});
}

// Whether madvise(MADV_DONTNEED) is refused on every page of `r`; nullopt when the budget ran out.
std::optional<bool> discard_refused(const FilterAbi& abi, const std::vector<std::vector<sock_filter>>& programs,
                                    Range r, std::uint64_t& budget, std::uint64_t& executed) {
  for (std::uint64_t p = r.begin; p < r.end;) {
    std::uint32_t ret = 0;
    std::uint64_t through = 0;
    if (!run_all(programs, request(abi, abi.nr_madvise, p), budget, executed, ret, through)) return std::nullopt;
    FilterAction ignored = FilterAction::kNone;
    if (outcome_of(ret, ignored) != Outcome::kRefused) return false;
    p = next_page(through, r.end);
  }
  return true;
}

// The first page at or above 64 KiB (the usual vm.mmap_min_addr) that no VMA
// covers: a request there touches nothing anyone could have sealed.
std::optional<std::uint64_t> unmapped_page(const std::vector<VmaRecord>& vmas, std::uint64_t limit) {
  std::uint64_t at = 0x10000;
  for (const VmaRecord& v : vmas) {
    if (v.map.range.begin >= at + kPage) return at;
    at = std::max<std::uint64_t>(at, v.map.range.end);
  }
  return at < limit - kPage ? std::optional<std::uint64_t>(at) : std::nullopt;
}

// check_range, for a 64-bit process in both ABIs (below).
RangeCheck check_range_for(const FilterAbi& abi, const std::vector<std::vector<sock_filter>>& programs,
                           std::uint64_t begin, std::uint64_t end, std::uint64_t& budget, std::uint64_t& executed);

// The supervisor's answer for the supervised pages of `c`: the pages its
// records refuse become refused (USER_NOTIF, answered EPERM), the others not
// sealed. False when the budget ran out.
bool resolve_supervised(const FilterAbi& abi, const std::vector<std::vector<sock_filter>>& records, std::uint64_t size,
                        RangeCheck& c, std::uint64_t& budget, std::uint64_t& executed) {
  std::vector<Range> refused;
  bool discard = c.refused.empty() || c.discard_refused;
  for (const Range& piece : c.supervised) {
    RangeCheck by_records = check_range_for(abi, records, piece.begin, piece.end, budget, executed);
    if (by_records.check == FilterCheck::kUnknown) return false;
    for (const Range& r : by_records.refused) refused.push_back(r);
    if (by_records.refused_bytes) discard = discard && by_records.discard_refused;
  }
  if (!refused.empty()) {
    c.action = std::max(c.action, FilterAction::kUserNotif);
    c.discard_refused = discard;
  }
  for (const Range& r : refused) c.refused.push_back(r);
  std::sort(c.refused.begin(), c.refused.end(), [](const Range& x, const Range& y) { return x.begin < y.begin; });
  std::vector<Range> merged;
  c.refused_bytes = 0;
  for (const Range& r : c.refused) {
    append(merged, r.begin, r.end);
    c.refused_bytes += r.size();
  }
  c.refused = std::move(merged);
  c.supervised.clear();
  c.supervised_bytes = 0;
  c.check = c.refused_bytes == size ? FilterCheck::kSealed
          : c.refused_bytes != 0   ? FilterCheck::kPartial
                                   : FilterCheck::kNotSealed;
  return true;
}

// Sorted, disjoint range lists: their intersection, their union.
std::vector<Range> intersect(const std::vector<Range>& a, const std::vector<Range>& b) {
  std::vector<Range> out;
  auto j = b.begin();
  for (const Range& r : a) {
    while (j != b.end() && j->end <= r.begin) ++j;
    for (auto k = j; k != b.end() && k->begin < r.end; ++k)
      append(out, std::max(r.begin, k->begin), std::min(r.end, k->end));
  }
  return out;
}

std::vector<Range> unite(const std::vector<Range>& a, const std::vector<Range>& b) {
  RangeSet u;
  for (const Range& r : a) u.insert(r);
  for (const Range& r : b) u.insert(r);
  return u.ranges();
}

std::uint64_t bytes(const std::vector<Range>& rs) {
  std::uint64_t n = 0;
  for (const Range& r : rs) n += r.size();
  return n;
}

// The i386 answer for [begin, end), 4 GiB <= begin < end <= kI386ArgumentReach:
// no 32-bit start lies there, so an i386 call reaches page p only from
// 0xfffff000 or below, through every page in between; the least it can ask is
// [0xfffff000, p + 4 KiB), and p is out of its reach iff that is refused
// (sealkit's filters refuse by overlap, so a longer request is refused too).
// Page by page: the length is not what the span interpreter narrows.
bool check_i386_above_4gib(const std::vector<std::vector<sock_filter>>& programs, std::uint64_t begin,
                           std::uint64_t end, std::uint64_t& budget, std::uint64_t& executed, RangeCheck& r) {
  constexpr std::uint64_t kFrom = 0xfffff000;
  const int calls[] = {kAbiI386.nr_mprotect, kAbiI386.nr_munmap, kAbiI386.nr_mremap, kAbiI386.nr_mmap};
  FilterAction weakest = r.action;
  for (std::uint64_t p = begin; p < end; p += kPage) {
    Outcome page = Outcome::kRefused;
    FilterAction page_refusal = FilterAction::kNone;
    for (int nr : calls) {
      std::uint32_t ret = 0;
      std::uint64_t through = 0;
      if (!run_all(programs, request(kAbiI386, nr, kFrom, p + kPage - kFrom), budget, executed, ret, through)) return false;
      FilterAction refusal = FilterAction::kNone;
      page = std::min(page, outcome_of(ret, refusal));
      page_refusal = std::max(page_refusal, refusal);
      if (page == Outcome::kAllowed) break;
    }
    if (page == Outcome::kRefused) {
      weakest = std::max(weakest, page_refusal);
      append(r.refused, p, p + kPage);
    } else if (page == Outcome::kSupervised) {
      append(r.supervised, p, p + kPage);
    }
  }
  r.action = weakest;
  return true;
}

// A 64-bit process reaches memory below kI386ArgumentReach through int 0x80
// too: there a page is refused only when both ABIs refuse it, supervised when
// neither allows it. Only pages the x86_64 answer does not already leave
// unsealed are asked again, so memory beyond 32-bit reach costs nothing more.
RangeCheck check_range_64bit_process(const std::vector<std::vector<sock_filter>>& programs, std::uint64_t begin,
                                     std::uint64_t end, std::uint64_t& budget, std::uint64_t& executed) {
  RangeCheck x = check_range(kAbiX86_64, programs, begin, end, budget, executed);
  if (x.check == FilterCheck::kUnknown || begin >= kI386ArgumentReach) return x;
  if (x.refused_bytes == 0 && x.supervised_bytes == 0) return x;
  const std::uint64_t limit = std::min(end, kI386ArgumentReach);
  RangeCheck unknown;
  unknown.check = FilterCheck::kUnknown;
  // The i386 answer over [begin, limit), only where x refused or supervised.
  RangeCheck y;
  bool discard = true;
  for (const Range& asked : intersect(unite(x.refused, x.supervised), {{begin, limit}})) {
    if (asked.begin < k4GiB) {
      RangeCheck low = check_range(kAbiI386, programs, asked.begin, std::min<std::uint64_t>(asked.end, k4GiB), budget,
                                   executed);
      if (low.check == FilterCheck::kUnknown) return unknown;
      y.refused = unite(y.refused, low.refused);
      y.supervised = unite(y.supervised, low.supervised);
      y.action = std::max(y.action, low.action);
      if (low.refused_bytes != 0) discard = discard && low.discard_refused;
    }
    if (asked.end > k4GiB) {
      RangeCheck high;
      if (!check_i386_above_4gib(programs, std::max<std::uint64_t>(asked.begin, k4GiB), asked.end, budget, executed,
                                 high))
        return unknown;
      y.refused = unite(y.refused, high.refused);
      y.supervised = unite(y.supervised, high.supervised);
      y.action = std::max(y.action, high.action);
    }
  }
  // Beyond i386 reach its answer does not matter: as refused.
  const std::vector<Range> beyond = limit < end ? std::vector<Range>{{limit, end}} : std::vector<Range>{};
  const std::vector<Range> i386_refused = unite(y.refused, beyond);
  const std::vector<Range> i386_not_allowed = unite(i386_refused, y.supervised);
  RangeCheck c;
  c.refused = intersect(x.refused, i386_refused);
  c.supervised = unite(intersect(x.supervised, i386_not_allowed), intersect(x.refused, y.supervised));
  c.refused_bytes = bytes(c.refused);
  c.supervised_bytes = bytes(c.supervised);
  if (c.refused_bytes == end - begin) c.check = FilterCheck::kSealed;
  else if (c.refused_bytes != 0) c.check = FilterCheck::kPartial;
  else if (c.supervised_bytes != 0) c.check = FilterCheck::kSupervised;
  else c.check = FilterCheck::kNotSealed;
  if (c.refused_bytes != 0) {
    c.action = std::max(x.action, y.refused.empty() ? FilterAction::kNone : y.action);
    // Discarding madvise between 4 and 8 GiB is not asked in i386 terms: not claimed there.
    const bool above_4gib_refused = !intersect(c.refused, {{k4GiB, kI386ArgumentReach}}).empty();
    c.discard_refused = x.discard_refused && discard && !above_4gib_refused;
  }
  return c;
}

RangeCheck check_range_for(const FilterAbi& abi, const std::vector<std::vector<sock_filter>>& programs,
                           std::uint64_t begin, std::uint64_t end, std::uint64_t& budget, std::uint64_t& executed) {
  if (&abi == &kAbiX86_64) return check_range_64bit_process(programs, begin, end, budget, executed);
  return check_range(abi, programs, begin, end, budget, executed);
}

}  // namespace

RangeCheck check_range(const FilterAbi& abi, const std::vector<std::vector<sock_filter>>& programs,
                       std::uint64_t begin, std::uint64_t end, std::uint64_t& budget, std::uint64_t& executed) {
  RangeCheck r;
  if (programs.empty() || end <= begin) return r;
  const int calls[] = {abi.nr_mprotect, abi.nr_munmap, abi.nr_mremap, abi.nr_mmap};
  FilterAction weakest = FilterAction::kNone;
  for (std::uint64_t p = begin; p < end;) {
    Outcome page = Outcome::kRefused;
    FilterAction page_refusal = FilterAction::kNone;
    std::uint64_t through = kNoEnd;
    for (int nr : calls) {
      std::uint32_t ret = 0;
      std::uint64_t same = 0;
      if (!run_all(programs, request(abi, nr, p), budget, executed, ret, same)) {
        RangeCheck unknown;
        unknown.check = FilterCheck::kUnknown;
        return unknown;
      }
      FilterAction refusal = FilterAction::kNone;
      const Outcome o = outcome_of(ret, refusal);
      if (o == Outcome::kAllowed) {  // not sealed wherever this call stays allowed, whatever the others say
        page = o;
        through = same;
        break;
      }
      through = std::min(through, same);
      page = std::min(page, o);
      page_refusal = std::max(page_refusal, refusal);
    }
    const std::uint64_t next = next_page(through, end);
    if (page == Outcome::kRefused) {
      weakest = std::max(weakest, page_refusal);
      append(r.refused, p, next);
      r.refused_bytes += next - p;
    } else if (page == Outcome::kSupervised) {
      append(r.supervised, p, next);
      r.supervised_bytes += next - p;
    }
    p = next;
  }
  if (r.refused_bytes == end - begin) r.check = FilterCheck::kSealed;
  else if (r.refused_bytes != 0) r.check = FilterCheck::kPartial;
  else if (r.supervised_bytes != 0) r.check = FilterCheck::kSupervised;
  if (r.refused_bytes == 0) return r;
  r.action = weakest;
  r.discard_refused = true;
  for (const Range& piece : r.refused) {
    // Not known (budget): not claimed.
    r.discard_refused = discard_refused(abi, programs, piece, budget, executed).value_or(false);
    if (!r.discard_refused) break;
  }
  return r;
}

const FilterAbi* process_abi(pid_t pid, std::string& why) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/exe", static_cast<int>(pid));
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    why = std::string("its executable cannot be read (") + std::strerror(errno) + "): its ABI is not known";
    return nullptr;
  }
  unsigned char ident[20] = {};  // e_ident (16), e_type (2), e_machine (2)
  const ssize_t n = ::pread(fd, ident, sizeof ident, 0);
  ::close(fd);
  if (n != static_cast<ssize_t>(sizeof ident) || std::memcmp(ident, ELFMAG, SELFMAG) != 0 || ident[EI_DATA] != ELFDATA2LSB) {
    why = "its executable is not a little-endian ELF file: its ABI is not known";
    return nullptr;
  }
  const unsigned machine = ident[18] | (ident[19] << 8);
  if (ident[EI_CLASS] == ELFCLASS64 && machine == EM_X86_64) return &kAbiX86_64;
  if (ident[EI_CLASS] == ELFCLASS32 && machine == EM_386) return &kAbiI386;
  why = ident[EI_CLASS] == ELFCLASS32 && machine == EM_X86_64 ? "an x32 process: its filters are not evaluated"
                                                              : "neither x86_64 nor i386: its filters are not evaluated";
  return nullptr;
}

void apply_filter_seals(const ProcessFilters& filters, const FilterAbi* abi, std::uint64_t budget, ProcessAudit& a,
                        const AskSupervisor& ask_supervisor) {
  FilterSummary& s = a.filters;
  s.stopped_seconds = filters.stopped_seconds;
  switch (filters.status) {
    case ProcessFilters::Status::kNone: s.status = FilterSummary::Status::kNone; return;
    case ProcessFilters::Status::kUnknown:
    case ProcessFilters::Status::kBusy:  // audit_process skips these processes; unknown to anyone else
    case ProcessFilters::Status::kTimeout:
      s.status = FilterSummary::Status::kUnknown;
      s.reason = filters.reason;
      return;
    case ProcessFilters::Status::kRead: break;
  }
  s.filters = filters.programs.size();
  s.instructions = filters.instructions;
  if (abi == nullptr) {
    s.status = FilterSummary::Status::kUnknown;
    if (s.reason.empty()) s.reason = "its ABI is not known: its filters are not evaluated";
    return;
  }
  s.status = FilterSummary::Status::kRead;
  s.abi = abi->name;
  {
    // mseal of one page, no flags: what the runtime's seal would ask.
    std::uint64_t through = 0;
    if (!run_all(filters.programs, request(*abi, kNrMseal, kPage), budget, s.executed, s.mseal_ret, through))
      s.mseal_ret = SECCOMP_RET_ALLOW;  // past the budget: not known, so not said to refuse
  }
  if (auto hole = unmapped_page(a.vmas, abi->address_limit)) {
    RangeCheck c = check_range(*abi, filters.programs, *hole, *hole + kPage, budget, s.executed);
    s.refuses_unmapped = c.check == FilterCheck::kSealed;
    s.supervises_unmapped = c.check == FilterCheck::kSupervised;
  }
  SupervisorAnswer supervisor;
  if (s.supervises_unmapped) {
    if (ask_supervisor) supervisor = ask_supervisor();
    else supervisor.error = "not asked";
    s.supervisor_pid = supervisor.pid;
    s.supervisor = supervisor.error.empty() ? "answered" : supervisor.error;
  }
  const bool answered = s.supervises_unmapped && supervisor.error.empty();
  bool exhausted = false;
  for (VmaRecord& v : a.vmas) {
    if (v.sealed_by == SealedBy::kKernel) continue;
    RangeCheck c;
    if (exhausted) c.check = FilterCheck::kUnknown;  // past the budget: the rest is unknown
    else c = check_range_for(*abi, filters.programs, v.map.range.begin, v.map.range.end, budget, s.executed);
    if (answered && c.supervised_bytes != 0 &&
        !resolve_supervised(*abi, supervisor.programs, v.map.range.size(), c, budget, s.executed))
      c.check = FilterCheck::kUnknown;
    exhausted = c.check == FilterCheck::kUnknown;
    v.filter = c.check;
    if (c.check == FilterCheck::kUnknown) {
      ++s.unknown_vmas;
      continue;
    }
    v.filter_supervised_bytes = c.supervised_bytes;
    s.supervised_vmas += c.supervised_bytes != 0;
    s.supervised_bytes += c.supervised_bytes;
    if (c.refused_bytes == 0) continue;
    v.filter_action = c.action;
    v.filter_discard_refused = c.discard_refused;
    s.discard_refused_vmas += c.discard_refused;
    s.sealed_bytes += c.refused_bytes;
    if (c.check == FilterCheck::kSealed) {
      v.sealed = true;
      v.sealed_by = SealedBy::kFilter;
      ++s.sealed_vmas;
      continue;
    }
    // Sealed in part: which of the bytes the rule asks for are in the refused part.
    v.filter_part_bytes = c.refused_bytes;
    if (v.should_seal_bytes == v.map.range.size()) {
      v.filter_part_should_bytes = c.refused_bytes;
    } else if (v.should_seal_bytes != 0) {
      std::vector<Range> asked;
      for (const Range& r : a.should_seal_ranges)
        if (r.overlaps(v.map.range)) asked.push_back({std::max(r.begin, v.map.range.begin), std::min(r.end, v.map.range.end)});
      v.filter_part_should_bytes = bytes(intersect(c.refused, asked));
    }
    ++s.partial_vmas;
  }
  count_totals(a);
}

}  // namespace sealkit::audit
