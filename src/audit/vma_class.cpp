// classify_smaps: smaps text in, one VmaRecord per VMA out, with the rule of
// core/seal_plan.hpp applied to every ELF object found in it.
#include "audit/vma_class.hpp"

#include <algorithm>

#include "audit/process_audit.hpp"
#include "audit/smaps_scan.hpp"
#include "core/object_layout.hpp"
#include "core/page.hpp"
#include "core/proc_maps.hpp"
#include "core/seal_plan.hpp"

namespace sealkit::audit {

using namespace core;

namespace {

bool starts_with(std::string_view s, std::string_view p) noexcept { return s.substr(0, p.size()) == p; }

bool is_shm_path(std::string_view p) noexcept {
  return starts_with(p, "/dev/shm/") || starts_with(p, "/SYSV") || starts_with(p, "/memfd:") ||
         starts_with(p, "/dev/zero") || starts_with(p, "[anon_shmem:");
}

// The class of a VMA from its smaps line alone, before objects are found.
void classify_by_name(VmaRecord& v) {
  const std::string_view p = v.path;
  const std::uint64_t size = v.map.range.size();
  if (p == "[vdso]" || p == "[vvar]" || p == "[vvar_vclock]" || p == "[stack]") {
    v.cls = p == "[vdso]" ? VmaClass::kVdso : p == "[vvar]" ? VmaClass::kVvar
          : p == "[vvar_vclock]" ? VmaClass::kVvarVclock : VmaClass::kStack;
    v.should_seal_bytes = size;
  } else if (p == "[heap]") {
    v.cls = VmaClass::kHeap;
  } else if (is_shm_path(p) || (p.empty() && v.map.shared)) {
    v.cls = VmaClass::kShm;
  } else if (p.empty() || starts_with(p, "[anon:")) {
    v.cls = VmaClass::kAnon;
  } else if (p.front() == '[') {
    v.cls = VmaClass::kSpecial;
  } else {
    v.cls = VmaClass::kFile;
  }
}

bool anonymous_private(const VmaRecord& v) noexcept { return v.path.empty() && v.map.inode == 0 && !v.map.shared; }

// pthread stacks (glibc, musl): one mapping whose lowest page(s) are made
// PROT_NONE as a guard, so the kernel shows an anonymous ---p VMA directly
// below an anonymous rw-p one. malloc's mmap'd arenas are the other way
// round (usable part first, PROT_NONE reserve above). Sizes tell the rest:
// a guard is a page or a few (pthread_attr_setguardsize), a stack at most a
// few hundred MiB; an address sanitizer's 14 TiB shadow above its PROT_NONE
// shadow gap is neither.
constexpr std::uint64_t kMaxGuard = std::uint64_t{16} << 20;
constexpr std::uint64_t kMaxThreadStack = std::uint64_t{1} << 30;

void mark_thread_stacks(std::vector<VmaRecord>& vmas) {
  for (std::size_t i = 1; i < vmas.size(); ++i) {
    VmaRecord& v = vmas[i];
    const VmaRecord& below = vmas[i - 1];
    if (v.cls != VmaClass::kAnon || !anonymous_private(v) || !v.map.read || !v.map.write) continue;
    if (!anonymous_private(below) || below.map.read || below.map.write || below.map.exec) continue;
    if (below.map.range.size() > kMaxGuard || v.map.range.size() > kMaxThreadStack) continue;
    if (below.map.range.end == v.map.range.begin) v.cls = VmaClass::kThreadStack;
  }
}

bool same_file(const MapsEntry& a, const MapsEntry& b) noexcept {
  return a.inode == b.inode && a.dev_major == b.dev_major && a.dev_minor == b.dev_minor;
}

// An object VMA's part, from its permissions and where it lies.
VmaClass object_part(const VmaRecord& v, bool in_segment, bool in_relro) noexcept {
  if (!in_segment) return VmaClass::kElfGap;
  if (v.map.exec) return VmaClass::kElfText;
  if (in_relro) return VmaClass::kElfRelro;
  if (v.map.inode == 0) return VmaClass::kElfBss;
  if (v.map.write) return VmaClass::kElfData;
  if (!v.map.read) return VmaClass::kElfGap;
  return VmaClass::kElfRodata;
}

std::uint64_t overlap_bytes(Range a, const std::vector<Range>& set) noexcept {
  std::uint64_t n = 0;
  for (const Range& r : set) {
    Range c{std::max(a.begin, r.begin), std::min(a.end, r.end)};
    n += c.size();
  }
  return n;
}

bool add_bias(Range r, std::uintptr_t bias, Range& out) noexcept {
  return !__builtin_add_overflow(r.begin, bias, &out.begin) && !__builtin_add_overflow(r.end, bias, &out.end);
}

// Index of the first VMA whose end lies above `addr` (VMAs are sorted and disjoint).
std::size_t first_vma_ending_above(const std::vector<VmaRecord>& vmas, std::uintptr_t addr) {
  auto it = std::partition_point(vmas.begin(), vmas.end(), [&](const VmaRecord& v) { return v.map.range.end <= addr; });
  return static_cast<std::size_t>(it - vmas.begin());
}

// The object whose mapping at file offset 0 is vmas[first], with its program headers.
// False when the headers do not fit where it is mapped (then it is left as a file mapping).
bool attribute_verified(std::vector<VmaRecord>& vmas, std::size_t first, const ElfLayout& layout, int index,
                        std::vector<Range>& asked_in_part) {
  const MapsEntry& head = vmas[first].map;
  if (head.range.begin < layout.offset0_vaddr) return false;
  const std::uintptr_t bias = head.range.begin - layout.offset0_vaddr;
  std::vector<Range> loads, mutables;
  for (const Range& r : layout.loads) {
    Range a;
    if (!add_bias(r, bias, a)) return false;
    loads.push_back(a);
  }
  for (const Range& r : layout.mutables) {
    Range a;
    if (!add_bias(r, bias, a)) return false;
    mutables.push_back(a);
  }
  Range relro{};
  if (!layout.relro.empty() && !add_bias(layout.relro, bias, relro)) return false;
  Range span{loads.front().begin, loads.front().end};
  for (const Range& r : loads) span.end = std::max(span.end, r.end);

  const std::size_t lo = first_vma_ending_above(vmas, span.begin);
  std::size_t hi = lo;
  while (hi < vmas.size() && vmas[hi].map.range.begin < span.end) ++hi;
  std::vector<MapsEntry> window;
  window.reserve(hi - lo);
  for (std::size_t j = lo; j < hi; ++j) window.push_back(vmas[j].map);

  std::vector<Range> planned;
  plan_object_seal(loads.data(), loads.size(), mutables.data(), mutables.size(), window,
                   [&](Range r) { planned.push_back(r); });

  for (std::size_t j = lo; j < hi; ++j) {
    VmaRecord& v = vmas[j];
    const std::uint64_t should = overlap_bytes(v.map.range, planned);
    const bool own_file = same_file(v.map, head);
    if (should == 0 && !own_file) continue;  // foreign memory in a gap: keeps its own class
    bool in_segment = false;
    for (const Range& r : loads) in_segment = in_segment || v.map.range.overlaps(r);
    v.cls = object_part(v, in_segment, !relro.empty() && v.map.range.overlaps(relro));
    v.object = index;
    v.should_seal_bytes = should;
    if (should == 0 || should == v.map.range.size()) continue;
    for (const Range& r : planned) {
      const Range c{std::max(r.begin, v.map.range.begin), std::min(r.end, v.map.range.end)};
      if (c.begin < c.end) asked_in_part.push_back(c);
    }
  }
  return true;
}

// No program headers (unreadable or replaced file): the run of VMAs of the
// same file from its offset-0 mapping on, plus the anonymous rw VMA right
// after it (the bss), as smaps_check.py reads an object. Only a run with
// executable memory counts as an object: a data file would not have any.
bool attribute_from_smaps(std::vector<VmaRecord>& vmas, std::size_t first, int index) {
  std::size_t end = first + 1;
  while (end < vmas.size() && same_file(vmas[end].map, vmas[first].map) &&
         vmas[end].map.range.begin == vmas[end - 1].map.range.end)
    ++end;
  bool exec = false;
  for (std::size_t j = first; j < end; ++j) exec = exec || vmas[j].map.exec;
  if (!exec) return false;
  if (end < vmas.size() && anonymous_private(vmas[end]) && vmas[end].map.write &&
      vmas[end].map.range.begin == vmas[end - 1].map.range.end)
    ++end;
  for (std::size_t j = first; j < end; ++j) {
    VmaRecord& v = vmas[j];
    v.cls = object_part(v, true, false);
    v.object = index;
    v.should_seal_bytes = v.map.range.size();
  }
  return true;
}

}  // namespace

const char* to_string(VmaClass c) noexcept {
  switch (c) {
    case VmaClass::kElfText: return "elf_text";
    case VmaClass::kElfRodata: return "elf_rodata";
    case VmaClass::kElfRelro: return "elf_relro";
    case VmaClass::kElfData: return "elf_data";
    case VmaClass::kElfBss: return "elf_bss";
    case VmaClass::kElfGap: return "elf_gap";
    case VmaClass::kVdso: return "vdso";
    case VmaClass::kVvar: return "vvar";
    case VmaClass::kVvarVclock: return "vvar_vclock";
    case VmaClass::kStack: return "stack";
    case VmaClass::kHeap: return "heap";
    case VmaClass::kThreadStack: return "thread_stack";
    case VmaClass::kAnon: return "anon";
    case VmaClass::kShm: return "shm";
    case VmaClass::kFile: return "file";
    case VmaClass::kSpecial: return "special";
  }
  return "special";
}

bool is_elf_class(VmaClass c) noexcept { return c <= VmaClass::kElfGap; }

const char* to_string(Verdict v) noexcept {
  switch (v) {
    case Verdict::kSealed: return "sealed";
    case Verdict::kUnsealed: return "unsealed";
    case Verdict::kNotApplicable: return "n/a";
    case Verdict::kPartial: return "partial";
  }
  return "n/a";
}

const char* to_string(SealedBy s) noexcept {
  switch (s) {
    case SealedBy::kNone: return "none";
    case SealedBy::kKernel: return "kernel";
    case SealedBy::kFilter: return "filter";
  }
  return "none";
}

const char* to_string(FilterCheck c) noexcept {
  switch (c) {
    case FilterCheck::kNotChecked: return "not_checked";
    case FilterCheck::kSealed: return "sealed";
    case FilterCheck::kNotSealed: return "not_sealed";
    case FilterCheck::kUnknown: return "unknown";
    case FilterCheck::kPartial: return "partial";
    case FilterCheck::kSupervised: return "supervised";
  }
  return "unknown";
}

const char* to_string(FilterAction a) noexcept {
  switch (a) {
    case FilterAction::kNone: return "none";
    case FilterAction::kErrno: return "errno";
    case FilterAction::kUserNotif: return "user_notif";
    case FilterAction::kTrap: return "trap";
  }
  return "none";
}

void ClassTotals::add(const VmaRecord& v) noexcept {
  ++vmas;
  bytes += v.map.range.size();
  if (v.should_seal()) {
    ++should_vmas;
    should_bytes += v.should_seal_bytes;
    sealed_should_vmas += v.should_sealed();
    sealed_should_bytes += v.sealed_should_bytes();
  }
  sealed_vmas += v.sealed;
  sealed_bytes += v.sealed_bytes();
  if (v.sealed_by == SealedBy::kFilter) {
    ++filter_sealed_vmas;
    filter_sealed_bytes += v.map.range.size();
  }
  filter_sealed_bytes += v.filter_part_bytes;
  partial_vmas += v.filter_part_bytes != 0;
  partial_bytes += v.filter_part_bytes;
  supervised_vmas += v.filter_supervised_bytes != 0;
  supervised_bytes += v.filter_supervised_bytes;
}

void ClassTotals::add(const ClassTotals& o) noexcept {
  vmas += o.vmas;
  bytes += o.bytes;
  should_vmas += o.should_vmas;
  should_bytes += o.should_bytes;
  sealed_should_vmas += o.sealed_should_vmas;
  sealed_should_bytes += o.sealed_should_bytes;
  sealed_vmas += o.sealed_vmas;
  sealed_bytes += o.sealed_bytes;
  filter_sealed_vmas += o.filter_sealed_vmas;
  filter_sealed_bytes += o.filter_sealed_bytes;
  partial_vmas += o.partial_vmas;
  partial_bytes += o.partial_bytes;
  supervised_vmas += o.supervised_vmas;
  supervised_bytes += o.supervised_bytes;
}

std::optional<double> ClassTotals::coverage_bytes() const noexcept {
  if (should_bytes == 0) return std::nullopt;
  return static_cast<double>(sealed_should_bytes) / static_cast<double>(should_bytes);
}

std::optional<double> ClassTotals::coverage_vmas() const noexcept {
  if (should_vmas == 0) return std::nullopt;
  return static_cast<double>(sealed_should_vmas) / static_cast<double>(should_vmas);
}

void count_totals(ProcessAudit& a) {
  a.by_class.fill({});
  a.total = {};
  for (ObjectRecord& o : a.objects) {
    o.span = {};
    o.should_vmas = o.sealed_should_vmas = 0;
  }
  for (const VmaRecord& v : a.vmas) {
    a.by_class[static_cast<std::size_t>(v.cls)].add(v);
    a.total.add(v);
    if (v.object < 0) continue;
    ObjectRecord& o = a.objects[static_cast<std::size_t>(v.object)];
    if (o.span.empty()) o.span = v.map.range;
    o.span.begin = std::min(o.span.begin, v.map.range.begin);
    o.span.end = std::max(o.span.end, v.map.range.end);
    if (v.should_seal()) {
      ++o.should_vmas;
      o.sealed_should_vmas += v.should_sealed();
    }
  }
}

std::optional<ElfLayout> layout_from_headers(const std::vector<ElfSegment>& segments,
                                            const std::vector<ElfMutableSection>& mutable_sections) {
  const std::size_t ps = page_size();
  ElfLayout l;
  bool have_offset0 = false;
  for (const ElfSegment& s : segments) {
    if (s.type != core::kPtLoad && s.type != core::kPtGnuMutable && s.type != core::kPtGnuRelro) continue;
    if (s.memsz == 0) continue;
    auto span = page_span(static_cast<std::uintptr_t>(s.vaddr), static_cast<std::size_t>(s.memsz), ps);
    if (!span) return std::nullopt;  // wraps: not something a loader maps
    if (s.type == core::kPtLoad) {
      l.loads.push_back({span->start, span->end});
      if (!have_offset0 && page_down(static_cast<std::uintptr_t>(s.offset), ps) == 0) {
        have_offset0 = true;
        l.offset0_vaddr = span->start;
      }
    } else if (s.type == core::kPtGnuMutable) {
      l.mutables.push_back({span->start, span->end});
    } else {
      // glibc's _dl_protect_relro rounds the end down: a partial last page stays writable.
      l.relro = {span->start, page_down(static_cast<std::uintptr_t>(s.vaddr + s.memsz), ps)};
    }
  }
  if (!have_offset0 || l.loads.empty()) return std::nullopt;
  for (const ElfMutableSection& m : mutable_sections)
    l.mutables.push_back({static_cast<std::uintptr_t>(m.page_begin), static_cast<std::uintptr_t>(m.page_end)});
  auto by_begin = [](const Range& a, const Range& b) { return a.begin < b.begin; };
  std::sort(l.loads.begin(), l.loads.end(), by_begin);
  std::sort(l.mutables.begin(), l.mutables.end(), by_begin);
  return l;
}

ProcessAudit classify_smaps(std::string_view smaps_text, const ElfLookupFn& lookup) {
  ProcessAudit a;
  a.vmas.reserve(smaps_text.size() / 1024 + 8);  // an smaps entry is about 1 KiB of text
  bool torn = false;
  std::uintptr_t last_end = 0;
  auto add = [&](const MapsEntry& m, bool sealed) {
    if (m.range.begin < last_end || m.range.empty()) torn = true;
    last_end = m.range.end;
    VmaRecord v;
    v.map = m;
    v.path.assign(m.path);
    v.map.path = {};
    v.sealed = sealed;
    v.sealed_by = sealed ? SealedBy::kKernel : SealedBy::kNone;
    a.vmas.push_back(std::move(v));
  };
  SmapsStats st;
  if (!scan_smaps_fast(smaps_text, add)) {
    // Not the kernel's usual layout: the careful parser, which reads anything.
    a.vmas.clear();
    torn = false;
    last_end = 0;
    st = for_each_smaps_entry(smaps_text, [&](const SmapsEntry& e) {
      torn = torn || !e.has_vmflags;
      add(e.map, e.sealed);
      return true;
    });
  }
  if (torn || st.bad_lines != 0) {
    a.status = AuditStatus::kTorn;
    a.detail = st.bad_lines ? "smaps has lines that are not smaps" : "smaps entries out of order or without VmFlags";
    a.vmas.clear();
    return a;
  }

  for (VmaRecord& v : a.vmas) classify_by_name(v);
  mark_thread_stacks(a.vmas);

  for (std::size_t i = 0; i < a.vmas.size(); ++i) {
    const VmaRecord& head = a.vmas[i];
    if (head.map.inode == 0 || head.map.offset != 0 || head.path.empty() || head.path.front() != '/') continue;
    if (is_elf_class(head.cls)) continue;  // already inside an object (a file mapped twice in one span)
    MapsEntry named = head.map;
    named.path = head.path;
    ElfLookup found = lookup(named);
    if (found.kind == ElfLookup::Kind::kNotElf) continue;
    const int index = static_cast<int>(a.objects.size());
    const bool verified = found.kind == ElfLookup::Kind::kElf && found.layout && !found.layout->loads.empty();
    if (verified ? !attribute_verified(a.vmas, i, *found.layout, index, a.should_seal_ranges)
                 : !attribute_from_smaps(a.vmas, i, index))
      continue;
    ObjectRecord o;
    o.path = head.path;
    o.dev_major = head.map.dev_major;
    o.dev_minor = head.map.dev_minor;
    o.inode = head.map.inode;
    o.verified = verified;
    a.objects.push_back(std::move(o));
    if (!verified) ++a.objects_unverified;
  }

  std::sort(a.should_seal_ranges.begin(), a.should_seal_ranges.end(),
            [](const Range& x, const Range& y) { return x.begin < y.begin; });
  count_totals(a);
  return a;
}

}  // namespace sealkit::audit
