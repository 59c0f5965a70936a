// What each VMA of a live process is, whether it should be sealed, and
// whether it is: the classification behind `sealkit audit` and `sealkit map`.
//
// How a caller uses it:
//
//   core::ElfLayoutCache cache;                       // one per run: ELF headers read once per (dev, inode)
//   core::ProcessAudit a = core::audit_process(pid, cache);
//   if (a.status != core::AuditStatus::kOk) ...       // gone, denied, kernel thread, zombie, torn: no VMAs
//   for (const core::VmaRecord& v : a.vmas) {         // in address order, one per smaps entry
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
//
// The rule (docs/audit.md, "What should be sealed") is the runtime's own:
// for each ELF object, core::plan_object_seal over its PT_LOAD segments
// (page-rounded, gap VMAs of its own file, minus PT_GNU_MUTABLE and the
// mutable sections of core/mutable_sections.hpp); plus
// [vdso], [vvar], [vvar_vclock] and [stack]. Everything else is "not
// applicable", though a sealed one is still counted as sealed.
#pragma once

#include <sys/types.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "core/elf_file.hpp"
#include "core/maps_line.hpp"
#include "core/range.hpp"
#include "core/wait_budget.hpp"

namespace sealkit::core {

enum class VmaClass : std::uint8_t {
  kElfText,      // executable part of an ELF object
  kElfRodata,    // read-only, not RELRO
  kElfRelro,     // inside PT_GNU_RELRO
  kElfData,      // writable, file-backed
  kElfBss,       // anonymous memory inside a PT_LOAD segment
  kElfGap,       // the object's own file between segments (ld.so's PROT_NONE reservations), or PROT_NONE inside
  kVdso,
  kVvar,
  kVvarVclock,
  kStack,        // [stack], the main thread's
  kHeap,         // [heap] (brk)
  kThreadStack,  // anonymous rw VMA right above an anonymous PROT_NONE guard VMA (the pthread layout)
  kAnon,         // other anonymous memory, including [anon:NAME]
  kShm,          // shared memory: /dev/shm, SysV, memfd, shared /dev/zero, [anon_shmem:NAME]
  kFile,         // any other file mapping (including ELF files mapped as data)
  kSpecial,      // other kernel-named mappings: [vsyscall], [uprobes], ...
};
inline constexpr std::size_t kVmaClassCount = static_cast<std::size_t>(VmaClass::kSpecial) + 1;

// "elf_text", "vdso", "thread_stack", ...: the names in JSON, Prometheus labels and docs.
const char* to_string(VmaClass c) noexcept;
bool is_elf_class(VmaClass c) noexcept;

enum class Verdict : std::uint8_t {
  kSealed,         // sealed (whether or not the rule asks for it)
  kUnsealed,       // should be sealed and is not
  kNotApplicable,  // not sealed, and the rule does not ask for it
  kPartial,        // sealed in part by a seccomp filter (FilterCheck::kPartial), asked for or not
};
const char* to_string(Verdict v) noexcept;

// Who enforces a VMA's seal: the kernel (mseal, "sl" in VmFlags) or the
// process's seccomp filters (core/filter_seals.hpp; docs/audit.md).
enum class SealedBy : std::uint8_t { kNone, kKernel, kFilter };
const char* to_string(SealedBy s) noexcept;  // "none", "kernel", "filter"

// What the filters of the process say about a VMA the kernel has not sealed.
enum class FilterCheck : std::uint8_t {
  kNotChecked,  // no filters, filters not read, or sealed by the kernel
  kSealed,      // every page refused for mprotect, munmap, mremap and mmap(MAP_FIXED)
  kNotSealed,   // no page refused for all of them, none handed to a supervisor
  kUnknown,     // the per-process instruction budget ran out before this VMA
  kPartial,     // some pages refused, not all: sealed in part (filter_part_bytes)
  kSupervised,  // no page refused; some handed to a supervisor (USER_NOTIF), whose answer the filter does not say
};
// "not_checked", "sealed", "not_sealed", "unknown", "partial", "supervised"
const char* to_string(FilterCheck c) noexcept;

// The refusal a filter seal answers with (the weakest one met, for a VMA).
enum class FilterAction : std::uint8_t { kNone, kErrno, kUserNotif, kTrap };
const char* to_string(FilterAction a) noexcept;  // "none", "errno", "user_notif", "trap"

struct VmaRecord {
  MapsEntry map;     // map.path is left empty (it would point into the smaps text): use `path`
  std::string path;  // the smaps pathname ("" for anonymous memory)
  VmaClass cls = VmaClass::kAnon;
  int object = -1;   // index into ProcessAudit::objects, for elf_* classes
  std::uint64_t should_seal_bytes = 0;  // bytes of this VMA the rule wants sealed
  bool sealed = false;                  // sealed by the kernel ("sl" in VmFlags) or by a filter
  SealedBy sealed_by = SealedBy::kNone;
  FilterCheck filter = FilterCheck::kNotChecked;
  FilterAction filter_action = FilterAction::kNone;  // for filter = kSealed
  bool filter_discard_refused = false;  // every filter-refused page refuses madvise(MADV_DONTNEED) too
  // A filter does not split VMAs as mseal does: a VMA can be refused in part
  // (filter = kPartial; `sealed` stays false). Its refused bytes, and those
  // of them the rule asks for; and bytes handed to a supervisor (USER_NOTIF),
  // which count as sealed nowhere.
  std::uint64_t filter_part_bytes = 0, filter_part_should_bytes = 0;
  std::uint64_t filter_supervised_bytes = 0;

  bool should_seal() const noexcept { return should_seal_bytes != 0; }
  std::uint64_t sealed_bytes() const noexcept { return sealed ? map.range.size() : filter_part_bytes; }
  std::uint64_t sealed_should_bytes() const noexcept { return sealed ? should_seal_bytes : filter_part_should_bytes; }
  // Every byte the rule asks for is sealed (the whole VMA, or the asked-for part of a partly sealed one).
  bool should_sealed() const noexcept { return should_seal() && sealed_should_bytes() == should_seal_bytes; }
  Verdict verdict() const noexcept {
    return sealed ? Verdict::kSealed
         : filter_part_bytes != 0 ? Verdict::kPartial
         : should_seal() ? Verdict::kUnsealed : Verdict::kNotApplicable;
  }
};

// The program headers of an ELF file that the rule needs, not yet relocated.
struct ElfLayout {
  std::vector<Range> loads;     // PT_LOAD [vaddr, vaddr + memsz) rounded out to pages, sorted
  std::vector<Range> mutables;  // PT_GNU_MUTABLE and mutable sections, rounded out to pages, sorted
  Range relro;                  // PT_GNU_RELRO as glibc protects it (end rounded down); empty if none
  std::uintptr_t offset0_vaddr = 0;  // page-rounded p_vaddr of the PT_LOAD that maps file offset 0
};

// What the file behind a mapping at file offset 0 is.
struct ElfLookup {
  enum class Kind : std::uint8_t {
    kElf,      // an ELF file with a usable layout: `layout` is set
    kNotElf,   // verified not to be a loadable ELF file
    kUnknown,  // could not be read, or the file at that path is not the mapped one
  };
  Kind kind = Kind::kUnknown;
  std::shared_ptr<const ElfLayout> layout;
};
using ElfLookupFn = std::function<ElfLookup(const MapsEntry& offset0_mapping)>;

struct ObjectRecord {
  std::string path;
  std::uint32_t dev_major = 0, dev_minor = 0;
  std::uint64_t inode = 0;
  Range span;             // lowest to highest VMA of the object that this audit attributed to it
  bool verified = false;  // program headers read from the very file; false: smaps alone (docs/audit.md)
  std::size_t should_vmas = 0, sealed_should_vmas = 0;
  bool fully_sealed() const noexcept { return should_vmas != 0 && should_vmas == sealed_should_vmas; }
};

struct ClassTotals {
  std::uint64_t vmas = 0, bytes = 0;                              // every VMA of the class
  std::uint64_t should_vmas = 0, should_bytes = 0;                // the rule wants them sealed
  std::uint64_t sealed_should_vmas = 0, sealed_should_bytes = 0;  // ... and they are
  std::uint64_t sealed_vmas = 0, sealed_bytes = 0;                // sealed, whether asked or not
  std::uint64_t filter_sealed_vmas = 0, filter_sealed_bytes = 0;  // of those, sealed by a seccomp filter
  // Bytes count sealed parts of VMAs too (sealed_should_bytes, sealed_bytes,
  // filter_sealed_bytes; a VMA whose asked-for bytes are all sealed counts in
  // sealed_should_vmas); *_vmas otherwise count whole VMAs. These say how
  // much of it is in part:
  std::uint64_t partial_vmas = 0, partial_bytes = 0;  // VMAs a filter seals in part, and their sealed bytes
  std::uint64_t supervised_vmas = 0, supervised_bytes = 0;  // handed to a supervisor: not counted as sealed

  void add(const VmaRecord& v) noexcept;
  void add(const ClassTotals& o) noexcept;
  // nullopt when nothing should be sealed (a ratio of 0/0 is not a figure).
  std::optional<double> coverage_bytes() const noexcept;
  std::optional<double> coverage_vmas() const noexcept;
};

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

// The rule's view of an ELF file's program headers; nullopt when it has no
// PT_LOAD that maps file offset 0 (then it is not mapped as ld.so maps one).
std::optional<ElfLayout> layout_from_headers(const std::vector<ElfSegment>& segments,
                                            const std::vector<ElfMutableSection>& mutable_sections = {});

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
  // seal (core/filter_seals.hpp). Stops each such process for microseconds.
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

}  // namespace sealkit::core
