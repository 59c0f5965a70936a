#include "cli/selftest/matrix.hpp"

#include <array>
#include <cerrno>
#include <stdexcept>

namespace sealkit::cli::selftest {

namespace {

using P = Primitive;
using C = MappingClass;

constexpr std::array kPrimitives{
    PrimitiveInfo{P::kMprotect, "mprotect", "mprotect", "mprotect(addr, len, prot ^ PROT_WRITE)"},
    PrimitiveInfo{P::kPkeyMprotect, "pkey_mprotect", "pkey_mprotect",
                  "pkey_mprotect(addr, len, prot ^ PROT_WRITE, pkey) with a fresh pkey, or -1 without pkeys"},
    PrimitiveInfo{P::kMunmap, "munmap", "munmap", "munmap(addr, len)"},
    PrimitiveInfo{P::kMremapShrink, "mremap_shrink", "mremap shrink", "mremap(addr, len, len / 2, 0)"},
    PrimitiveInfo{P::kMremapExpand, "mremap_expand", "mremap expand",
                  "mremap(addr, len, len + page, MREMAP_MAYMOVE)"},
    PrimitiveInfo{P::kMremapMove, "mremap_move", "mremap move",
                  "mremap(addr, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, elsewhere)"},
    PrimitiveInfo{P::kMremapDontunmap, "mremap_dontunmap", "mremap DONTUNMAP",
                  "mremap(addr, len, len, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL)"},
    PrimitiveInfo{P::kMremapOnto, "mremap_onto", "mremap onto it",
                  "mremap(other, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, addr): another mapping moved onto it"},
    PrimitiveInfo{P::kMmapFixed, "mmap_fixed", "mmap MAP_FIXED",
                  "mmap(addr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)"},
    PrimitiveInfo{P::kMadvFree, "madv_free", "MADV_FREE", "madvise(addr, len, MADV_FREE)"},
    PrimitiveInfo{P::kMadvDontneed, "madv_dontneed", "MADV_DONTNEED", "madvise(addr, len, MADV_DONTNEED)"},
    PrimitiveInfo{P::kMadvDontneedLocked, "madv_dontneed_locked", "MADV_DONTNEED_LOCKED",
                  "madvise(addr, len, MADV_DONTNEED_LOCKED)"},
    PrimitiveInfo{P::kMadvRemove, "madv_remove", "MADV_REMOVE", "madvise(addr, len, MADV_REMOVE)"},
    PrimitiveInfo{P::kMadvDontfork, "madv_dontfork", "MADV_DONTFORK", "madvise(addr, len, MADV_DONTFORK)"},
    PrimitiveInfo{P::kMadvWipeonfork, "madv_wipeonfork", "MADV_WIPEONFORK", "madvise(addr, len, MADV_WIPEONFORK)"},
    PrimitiveInfo{P::kMadvGuardInstall, "madv_guard_install", "MADV_GUARD_INSTALL",
                  "madvise(addr, len, MADV_GUARD_INSTALL)"},
    PrimitiveInfo{P::kMadvRandom, "madv_random", "MADV_RANDOM", "madvise(addr, len, MADV_RANDOM): does not discard"},
    PrimitiveInfo{P::kProcessMadvise, "process_madvise", "process_madvise",
                  "process_madvise(pidfd_open(getpid()), {addr, len}, MADV_DONTNEED)"},
    PrimitiveInfo{P::kShmatRemap, "shmat_remap", "shmat SHM_REMAP",
                  "shmat(new System V segment of len bytes, addr, SHM_REMAP)"},
    PrimitiveInfo{P::kBrkShrink, "brk_shrink", "brk shrink", "brk(start of the mapping): the break moved down into it"},
};

// Fields: id, name, column, what, anonymous, writable, shared, heap.
constexpr std::array kClasses{
    ClassInfo{C::kAnonPrivateRo, "anon_private_ro", "a-ro", "private anonymous, read-only", true, false, false, false},
    ClassInfo{C::kAnonPrivateRw, "anon_private_rw", "a-rw", "private anonymous, read-write", true, true, false, false},
    ClassInfo{C::kAnonShared, "anon_shared", "a-sh", "shared anonymous (shmem), read-write", false, true, true, false},
    ClassInfo{C::kFilePrivateRo, "file_private_ro", "fp-ro", "private file mapping, read-only", false, false, false,
              false},
    ClassInfo{C::kFilePrivateRw, "file_private_rw", "fp-rw", "private file mapping, read-write (written: COW pages)",
              false, true, false, false},
    ClassInfo{C::kFileSharedRo, "file_shared_ro", "fs-ro", "shared file mapping, read-only (file opened read-write)",
              false, false, true, false},
    ClassInfo{C::kFileSharedRw, "file_shared_rw", "fs-rw", "shared file mapping, read-write", false, true, true, false},
    ClassInfo{C::kElfText, "elf_text", "text", "loaded ELF object: text (PT_LOAD R+X)", false, false, false, false},
    ClassInfo{C::kElfRodata, "elf_rodata", "rdata", "loaded ELF object: rodata (PT_LOAD R)", false, false, false,
              false},
    ClassInfo{C::kElfRelro, "elf_relro", "relro", "loaded ELF object: RELRO (PT_GNU_RELRO, read-only after relocation)",
              false, false, false, false},
    ClassInfo{C::kElfData, "elf_data", "data", "loaded ELF object: data (file-backed part of PT_LOAD RW)", false,
              true, false, false},
    ClassInfo{C::kElfBss, "elf_bss", "bss", "loaded ELF object: bss (anonymous part of PT_LOAD RW)", true, true,
              false, false},
    ClassInfo{C::kHeap, "heap", "heap", "the heap: pages added to the program break with sbrk", true, true, false,
              true},
};

// The madvise rule for advice that discards (mm/madvise.c, is_discard and
// can_madvise_modify): refused only on sealed anonymous memory that is not
// writable. File-backed and shmem pages can be read back from their file; a
// writable mapping could be zeroed by the program anyway.
Expectation discard_rule(const ClassInfo& ci) {
  if (ci.anonymous && !ci.writable)
    return {Outcome::kBlocked, "discarding advice on sealed read-only anonymous memory would destroy data"};
  if (!ci.anonymous)
    return {Outcome::kAllowed, "discarding advice is allowed on sealed file-backed and shmem memory"};
  return {Outcome::kAllowed, "discarding advice is allowed on sealed writable anonymous memory"};
}

}  // namespace

std::span<const PrimitiveInfo> primitives() { return kPrimitives; }
std::span<const ClassInfo> classes() { return kClasses; }

const PrimitiveInfo& info(Primitive p) {
  for (const auto& i : kPrimitives)
    if (i.id == p) return i;
  throw std::logic_error("selftest: primitive missing from the table");
}

const ClassInfo& info(MappingClass c) {
  for (const auto& i : kClasses)
    if (i.id == c) return i;
  throw std::logic_error("selftest: mapping class missing from the table");
}

Expectation expected(Primitive p, MappingClass c) {
  const ClassInfo& ci = info(c);
  switch (p) {
    case P::kBrkShrink:
      if (!ci.heap) return {Outcome::kNotApplicable, "brk moves only the program break; this mapping is not the heap"};
      return {Outcome::kBlocked, "a shrinking brk unmaps the pages above the new break, and sealed pages cannot be "
                                 "unmapped"};
    case P::kMadvFree:
      if (!ci.anonymous)
        return {Outcome::kNotApplicable, "MADV_FREE works only on private anonymous memory (EINVAL)", EINVAL};
      return discard_rule(ci);
    case P::kMadvWipeonfork:
      if (!ci.anonymous)
        return {Outcome::kNotApplicable, "MADV_WIPEONFORK works only on private anonymous memory (EINVAL)", EINVAL};
      return discard_rule(ci);
    case P::kMadvRemove:
      // mm/madvise.c, madvise_remove: no file at all is EINVAL, a file
      // mapping that is not shared and writable is EACCES.
      if (!ci.shared && ci.anonymous)
        return {Outcome::kNotApplicable, "MADV_REMOVE frees backing store of shared mappings only (EINVAL)", EINVAL};
      if (!ci.shared)
        return {Outcome::kNotApplicable, "MADV_REMOVE frees backing store of shared mappings only (EACCES)", EACCES};
      return discard_rule(ci);
    case P::kMadvDontneed:
    case P::kMadvDontneedLocked:
    case P::kMadvDontfork:
    case P::kMadvGuardInstall:
    case P::kProcessMadvise:  // on the calling process: the same check as madvise (6.13+)
      return discard_rule(ci);
    case P::kMadvRandom:
      return {Outcome::kAllowed, "advice that discards nothing is always allowed on sealed memory"};
    case P::kMprotect:
    case P::kPkeyMprotect:
      return {Outcome::kBlocked, "the protection of a sealed VMA cannot change"};
    case P::kMunmap:
      return {Outcome::kBlocked, "a sealed VMA cannot be unmapped"};
    case P::kMremapShrink:
    case P::kMremapExpand:
    case P::kMremapMove:
    case P::kMremapDontunmap:
      return {Outcome::kBlocked, "a sealed VMA cannot be resized or moved"};
    case P::kMremapOnto:
    case P::kMmapFixed:
    case P::kShmatRemap:
      return {Outcome::kBlocked, "a sealed VMA cannot be replaced by another mapping"};
  }
  throw std::logic_error("selftest: unhandled primitive");
}

std::string_view outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kBlocked:
      return "blocked";
    case Outcome::kAllowed:
      return "allowed";
    case Outcome::kNotApplicable:
      return "n/a";
  }
  return "?";
}

}  // namespace sealkit::cli::selftest
