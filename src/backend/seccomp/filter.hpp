// The seccomp-BPF filter that enforces mseal's rules on a set of ranges, for
// kernels without mseal(2). docs/seccomp.md has the rules, every difference
// from the kernel and the measured budget; this is the layout.
//
//   arch == AUDIT_ARCH_X86_64 ?          x86_64 path below
//   arch == AUDIT_ARCH_I386 ?            only when the program guards i386 (I386Guard), else RET ALLOW:
//                                        int 0x80 from a 64-bit process; other ABIs: RET ALLOW
//   x86_64: nr (x32 bit masked off)
//   dispatch: JEQ nr per guarded call    the rest: RET ALLOW, having read nothing but arch and nr,
//                                        so the kernel's per-filter action cache skips this filter
//   i386: dispatch on the i386 numbers   the same: only arch and nr on the way to RET ALLOW.
//     shmat/ipc(SHMAT) with SHM_REMAP are decided at once (no scratch, no
//     search: [addr, 2^64) overlaps a seal iff addr <= the last sealed
//     address); old mmap (90, arguments in memory) is refused outright
//   guarded calls of both ABIs: store every scratch word, set M[15] to the
//     mask for arguments' high words (all ones for x86_64, 0 for i386: seccomp
//     shows an i386 caller's whole registers, the kernel uses their low words),
//     dispatch on arch and nr into the same per-call blocks
//   per-call block: reads the arguments, lets through (RET ALLOW) every call
//     the kernel refuses before its seal check (unaligned address, length 0,
//     page rounding or addr+len overflowing, beyond TASK_SIZE, bad flags...),
//     stores the request as a 64-bit inclusive range S..L in scratch memory
//     (M[0..3]) and jumps forward (BPF_JA) to one shared range search:
//   range search over the merged ranges (one copy for all calls of both ABIs;
//     one over the ranges whose madvise discard is refused, for madvise; one
//     more for mremap's MREMAP_FIXED destination while the budget allows,
//     else mremap searches the hull of source and destination once):
//       find the first sealed piece k whose last address >= S, deny iff
//       first(k) <= L. Level 1: a balanced tree on the high word of S over
//       the "windows" (4 GiB blocks, range_layout.hpp); level 2: a balanced
//       tree on the low word of S over the pieces of that window, one
//       JGT per node with the accumulator kept loaded, and a 2-instruction
//       leaf (LD L-low-or-max; JGE first). Trees are laid out in pre-order so
//       every jump goes forward; a node whose right subtree is more than 255
//       instructions away gets a BPF_JA, and leaves share RET islands.
//
// Refused calls get Input::refusal_action: SECCOMP_RET_ERRNO | EPERM, as mseal's
// own refusals, or SECCOMP_RET_USER_NOTIF for a supervisor (docs/seccomp-exec.md).
// Building allocates nothing and throws nothing: the workspace is the caller's.
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cerrno>

#include <cstddef>
#include <cstdint>

#include "backend/seccomp/bpf_asm.hpp"
#include "backend/seccomp/range_layout.hpp"

namespace sealkit::backend::seccomp {

inline constexpr std::uint64_t kPageSize = 4096;  // x86_64

// No i386 request of mprotect, munmap, mremap, mmap2, madvise or
// process_madvise reaches this address: 32-bit arguments start at most at
// 0xfffff000 and span at most PAGE_ALIGN(0xffffffff) = 4 GiB.
inline constexpr std::uint64_t kI386Reach = 0x1'ffff'f000;

// What a program guards of the i386 ABI, which a 64-bit process reaches with
// `int $0x80` (docs/seccomp.md, difference 7).
enum class I386Guard : std::uint8_t {
  kNone,   // no range at all: nothing is guarded in any ABI
  kShmat,  // every range lies at or above kI386Reach: only shmat and ipc(SHMAT) with SHM_REMAP, whose
           // segment, of a size no argument gives, can reach any address
  kAll,    // a range lies below kI386Reach: every guarded call, in i386 numbers
};

struct SealedRange {
  std::uint64_t start = 0;  // page-aligned
  std::uint64_t end = 0;    // page-aligned, exclusive, > start
  // madvise with discard advice is refused: the mapping was anonymous and not
  // writable when it was sealed (a seal fixes both, so this never goes stale).
  bool discard_protected = false;
};

struct Input {
  const SealedRange* ranges = nullptr;
  std::size_t count = 0;
  // The kernel's TASK_SIZE (one past the highest user address): munmap, mmap and
  // mremap refuse addresses beyond it with EINVAL/ENOMEM before any seal check.
  // task_size() below tells this machine's. Required: 0 is kInvalidRange.
  std::uint64_t task_size = 0;
  // false: skip the exact mremap-destination search and use the hull at once
  // (what build() falls back to when the exact program does not fit; for tests).
  bool try_exact_mremap_destination = true;
  // What the filter returns for a refused call: SECCOMP_RET_ERRNO | EPERM (the
  // kernel's own answer, decided in the kernel), or SECCOMP_RET_USER_NOTIF (a
  // supervisor holding the filter's listener decides; docs/seccomp-exec.md).
  std::uint32_t refusal_action = SECCOMP_RET_ERRNO | EPERM;
  // Guard only discarding madvise on the discard-protected ranges and
  // process_madvise with discard advice: nothing else (no mprotect, munmap,
  // mmap, mremap, shmat). For a kernel whose mseal guards the rest but lets
  // discard advice through on sealed private file mappings (the runtime's
  // harden-discard layer, docs/runtime.md). The i386 forms of those two calls
  // are guarded while a discard-protected range lies below kI386Reach.
  bool discard_only = false;
};

struct Program {
  sock_filter insns[kMaxInstructions];
  std::size_t length = 0;
  // What the program searches, after merging.
  std::size_t merged_ranges = 0;
  std::size_t discard_ranges = 0;
  std::size_t pieces = 0;
  // True when mremap's destination is checked exactly (its own copy of the
  // range search); false when the budget forced one search over the hull of
  // source and destination (refuses more, never less; docs/seccomp.md).
  bool exact_mremap_destination = false;
  I386Guard i386_guard = I386Guard::kNone;

  sock_fprog fprog() noexcept { return sock_fprog{static_cast<unsigned short>(length), insns}; }
};

// Range-search nodes of one program (three searches at most), an upper bound.
inline constexpr std::size_t kMaxTreeNodes = 3 * (kMaxPieces + kMaxWindows) + 16;

// Scratch space for build(): about 250 KiB, so keep it off small stacks.
struct BuildWorkspace {
  Span spans[kMaxRanges];
  RangeLayout all;
  RangeLayout discard;
  AsmStorage assembler;
  // Tree nodes that need a BPF_JA to reach their right subtree (by emission order).
  std::uint8_t long_nodes[kMaxTreeNodes];
};

enum class BuildStatus {
  kOk,
  kTooLarge,      // does not fit in kMaxInstructions (or the workspace): ENOMEM for the caller
  kInvalidRange,  // a range not page-aligned or empty, or no task_size: EINVAL
  kNoMemory,      // the workspace could not be allocated (the two-argument build only)
  kInternal,      // a generator bug (an unbound or backward label): EFAULT, never expected
};

// Generates the filter for `in` into `out`. On failure `out.length` is 0 and,
// for kTooLarge, out.insns is unspecified; the caller may split the ranges over
// several filters (each filter refuses its own ranges; the lowest action wins).
BuildStatus build(const Input& in, Program& out, BuildWorkspace& work) noexcept;
// The same with a workspace allocated for the call.
BuildStatus build(const Input& in, Program& out) noexcept;

const char* to_string(BuildStatus s) noexcept;
// The errno a system call built on this would return.
int to_errno(BuildStatus s) noexcept;

// TASK_SIZE of this process: 2^47 - 4096 with 4-level page tables, 2^56 - 4096
// with 5-level ones (told apart by where a hint above 2^47 lands).
std::uint64_t task_size() noexcept;

}  // namespace sealkit::backend::seccomp
