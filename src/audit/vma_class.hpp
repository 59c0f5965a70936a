// What each VMA of a live process is, whether it should be sealed, and
// whether it is: the classes and records behind `sealkit audit` and
// `sealkit map` (the audit API that fills them: audit/process_audit.hpp).
//
// The rule (docs/audit.md, "What should be sealed") is the runtime's own:
// for each ELF object, core::plan_object_seal over its PT_LOAD segments
// (page-rounded, gap VMAs of its own file, minus PT_GNU_MUTABLE and the
// mutable sections of core/mutable_sections.hpp); plus
// [vdso], [vvar], [vvar_vclock] and [stack]. Everything else is "not
// applicable", though a sealed one is still counted as sealed.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/elf_file.hpp"
#include "core/maps_line.hpp"
#include "core/range.hpp"

namespace sealkit::audit {

using core::MapsEntry;
using core::Range;

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
// process's seccomp filters (audit/filter_seals.hpp; docs/audit.md).
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



// The rule's view of an ELF file's program headers; nullopt when it has no
// PT_LOAD that maps file offset 0 (then it is not mapped as ld.so maps one).
std::optional<ElfLayout> layout_from_headers(const std::vector<ElfSegment>& segments,
                                            const std::vector<ElfMutableSection>& mutable_sections = {});

}  // namespace sealkit::audit
