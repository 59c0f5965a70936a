#include "backend/seccomp/filter.hpp"

#include <cerrno>
#include <cstring>
#include <initializer_list>

// SEALKIT_FREESTANDING: the libc-free runtime (src/runtime) compiles this file
// too; it builds with its own mmap'd workspace and finds TASK_SIZE with raw
// system calls, so the parts that need libc or operator new are left out.
#ifndef SEALKIT_FREESTANDING
#include <sys/mman.h>

#include <new>
#endif

#include "backend/seccomp/emitter.hpp"

namespace sealkit::backend::seccomp {

BuildStatus build(const Input& in, Program& out, BuildWorkspace& work) noexcept {
  out.length = 0;
  // Without TASK_SIZE every munmap and MAP_FIXED would look out of range and pass.
  if (in.task_size == 0 || (in.task_size & (kPageSize - 1)) != 0) return BuildStatus::kInvalidRange;
  LayoutStatus st = make_layout(in.ranges, in.count, false, work.spans, work.all);
  if (st == LayoutStatus::kInvalidRange) return BuildStatus::kInvalidRange;
  if (st == LayoutStatus::kTooMany) return BuildStatus::kTooLarge;
  st = make_layout(in.ranges, in.count, true, work.spans, work.discard);
  if (st != LayoutStatus::kOk) return BuildStatus::kTooLarge;

  // int 0x80: every call when a range is within 32-bit reach, else only the
  // shmat forms, whose reach no argument bounds (docs/seccomp.md, difference 7).
  // A discard-only program guards no shmat form: only madvise and
  // process_madvise, in i386 numbers too while a discard range is in reach.
  I386Guard i386 = I386Guard::kNone;
  if (in.discard_only) {
    if (work.discard.window_count != 0 && first_address(work.discard) < kI386Reach) i386 = I386Guard::kAll;
  } else if (work.all.window_count != 0) {
    i386 = first_address(work.all) < kI386Reach ? I386Guard::kAll : I386Guard::kShmat;
  }
  std::uint8_t* long_nodes = work.long_nodes;
  for (bool exact : {true, false}) {
    if (exact && !in.try_exact_mremap_destination) continue;
    std::memset(long_nodes, 0, sizeof(work.long_nodes));
    for (int pass = 0; pass < 64; ++pass) {
      Assembler a(work.assembler);
      detail::Emitter e(a, in, work.all, work.discard, long_nodes, exact, i386);
      e.program();
      AsmStatus as = a.finish();
      if (as == AsmStatus::kOk) {
        std::memcpy(out.insns, a.instructions(), a.size() * sizeof(sock_filter));
        out.length = a.size();
        out.merged_ranges = work.all.merged_ranges;
        out.discard_ranges = work.discard.merged_ranges;
        out.pieces = work.all.piece_count;
        out.exact_mremap_destination = exact;
        out.i386_guard = i386;
        return BuildStatus::kOk;
      }
      if (as == AsmStatus::kTooLarge) break;
      if (as != AsmStatus::kFarJump) return BuildStatus::kInternal;
      for (std::size_t i = 0; i < a.far_jump_count() && i < 256; ++i) {
        std::uint32_t tag = a.far_jump_tag(i);
        if (tag == 0 || tag >= kMaxTreeNodes) return BuildStatus::kInternal;
        long_nodes[tag] = 1;
      }
    }
  }
  return BuildStatus::kTooLarge;
}

#ifndef SEALKIT_FREESTANDING
BuildStatus build(const Input& in, Program& out) noexcept {
  BuildWorkspace* work = new (std::nothrow) BuildWorkspace;
  if (work == nullptr) {
    out.length = 0;
    return BuildStatus::kNoMemory;
  }
  BuildStatus st = build(in, out, *work);
  delete work;
  return st;
}
#endif  // SEALKIT_FREESTANDING

const char* to_string(BuildStatus s) noexcept {
  switch (s) {
    case BuildStatus::kOk: return "ok";
    case BuildStatus::kTooLarge: return "the ranges do not fit in one filter";
    case BuildStatus::kInvalidRange: return "a range is empty or not page-aligned";
    case BuildStatus::kNoMemory: return "no memory for the workspace";
    case BuildStatus::kInternal: return "internal error in the filter generator";
  }
  return "unknown";
}

int to_errno(BuildStatus s) noexcept {
  switch (s) {
    case BuildStatus::kOk: return 0;
    case BuildStatus::kTooLarge: return ENOMEM;
    case BuildStatus::kInvalidRange: return EINVAL;
    case BuildStatus::kNoMemory: return ENOMEM;
    case BuildStatus::kInternal: return EFAULT;
  }
  return EFAULT;
}

#ifndef SEALKIT_FREESTANDING
std::uint64_t task_size() noexcept {
  static const std::uint64_t size = [] {
    constexpr std::uint64_t k47 = std::uint64_t{1} << 47;
    // A hint above 2^47 is honoured only with 5-level paging (the kernel never
    // places a mapping there otherwise).
    void* p = ::mmap(reinterpret_cast<void*>(k47 << 1), kPageSize, PROT_NONE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    std::uint64_t result = k47 - kPageSize;
    if (p != MAP_FAILED) {
      if (reinterpret_cast<std::uintptr_t>(p) >= k47) result = (std::uint64_t{1} << 56) - kPageSize;
      ::munmap(p, kPageSize);
    }
    return result;
  }();
  return size;
}

#endif  // SEALKIT_FREESTANDING

}  // namespace sealkit::backend::seccomp
