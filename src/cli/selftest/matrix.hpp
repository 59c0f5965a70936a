// The `sealkit selftest` matrix: which primitives attack which mapping
// classes, and what the kernel's documented sealing rules say must happen in
// each cell. The rules live here and nowhere else.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace sealkit::cli::selftest {

enum class Primitive {
  kMprotect,
  kPkeyMprotect,
  kMunmap,
  kMremapShrink,
  kMremapExpand,
  kMremapMove,
  kMremapDontunmap,
  kMremapOnto,
  kMmapFixed,
  kMadvFree,
  kMadvDontneed,
  kMadvDontneedLocked,
  kMadvRemove,
  kMadvDontfork,
  kMadvWipeonfork,
  kMadvGuardInstall,
  kMadvRandom,
  kProcessMadvise,
  kShmatRemap,
  kBrkShrink,
};

enum class MappingClass {
  kAnonPrivateRo,
  kAnonPrivateRw,
  kAnonShared,
  kFilePrivateRo,
  kFilePrivateRw,
  kFileSharedRo,
  kFileSharedRw,
  kElfText,
  kElfRodata,
  kElfRelro,
  kElfData,
  kElfBss,
  kHeap,
};

struct PrimitiveInfo {
  Primitive id;
  std::string_view name;   // for --only and JSON
  std::string_view label;  // table row
  std::string_view call;   // what exactly is called, for people
};

// What the kernel's madvise seal rule looks at (mm/madvise.c,
// can_madvise_modify): whether the VMA is anonymous (no vm_ops: not a file,
// not shmem) and whether it is writable.
struct ClassInfo {
  MappingClass id;
  std::string_view name;    // for --class and JSON
  std::string_view column;  // table column header (short)
  std::string_view what;    // for people
  bool anonymous;           // vma_is_anonymous(): private anonymous memory, bss, heap
  bool writable;            // VM_WRITE
  bool shared;              // MAP_SHARED (shmem or file)
  bool heap;                // part of the brk area
};

std::span<const PrimitiveInfo> primitives();
std::span<const ClassInfo> classes();
const PrimitiveInfo& info(Primitive p);
const ClassInfo& info(MappingClass c);

enum class Outcome {
  kBlocked,        // the sealed call must fail with EPERM and change nothing
  kAllowed,        // the sealed call must succeed, like the unsealed one
  kNotApplicable,  // the primitive means nothing for this class
};

struct Expectation {
  Outcome outcome;
  std::string why;
  // For kNotApplicable: the errno the unsealed call must fail with, which
  // shows on this kernel that the primitive indeed does not apply; 0 when
  // there is nothing to call (brk on memory that is not the heap).
  int control_errno = 0;
};

// The documented rule for one cell (mseal-facts.md, Documentation/
// userspace-api/mseal.rst, mm/madvise.c).
Expectation expected(Primitive p, MappingClass c);

std::string_view outcome_name(Outcome o);

// brk reports failure by returning the old break, with no errno to compare.
inline bool reports_errno(Primitive p) { return p != Primitive::kBrkShrink; }

}  // namespace sealkit::cli::selftest
