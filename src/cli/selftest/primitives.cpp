#include "cli/selftest/primitives.hpp"

#include <cerrno>
#include <cstring>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "backend/kernel_abi.hpp"
#include "core/page.hpp"

namespace sealkit::cli::selftest {

namespace {

void* ptr(const Target& t) { return reinterpret_cast<void*>(t.addr); }


// The protection an attacker wants is the opposite of the current one as
// far as writing goes: read-only memory made writable, writable memory
// made read-only. Both are a change the seal must refuse.
int toggled_write(const Target& t) { return t.prot ^ PROT_WRITE; }

CallOutcome do_mprotect(const Target& t) { return outcome(mprotect(ptr(t), t.len, toggled_write(t)) == 0); }

CallOutcome do_pkey_mprotect(const Target& t) {
  int pkey = pkey_alloc(0, 0);
  int alloc_err = errno;
  CallOutcome o = outcome(pkey_mprotect(ptr(t), t.len, toggled_write(t), pkey) == 0);
  if (pkey >= 0) o.note.set("with protection key %d", pkey);
  else o.note.set("no protection key available (pkey_alloc: %s); used pkey -1", strerrorname_np(alloc_err));
  return o;
}

CallOutcome do_munmap(const Target& t) { return outcome(munmap(ptr(t), t.len) == 0); }

CallOutcome do_mremap_shrink(const Target& t) {
  const std::size_t ps = core::page_size();
  std::size_t half = core::page_down(t.len / 2, ps);
  return outcome(mremap(ptr(t), t.len, half < ps ? ps : half, 0, nullptr) != MAP_FAILED);
}

CallOutcome do_mremap_expand(const Target& t) {
  return outcome(mremap(ptr(t), t.len, t.len + core::page_size(), MREMAP_MAYMOVE, nullptr) != MAP_FAILED);
}

CallOutcome do_mremap_move(const Target& t) {
  void* dest = mmap(nullptr, t.len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (dest == MAP_FAILED) return setup_failure("mmap of the destination");
  return outcome(mremap(ptr(t), t.len, t.len, MREMAP_MAYMOVE | MREMAP_FIXED, dest) == dest);
}

// glibc's mremap reads a fifth argument (new_address) whenever
// MREMAP_FIXED or MREMAP_DONTUNMAP is set, and the kernel takes it as a hint
// for MREMAP_DONTUNMAP, rejecting an unaligned one with EINVAL. A call with
// four arguments would pass whatever the register held; every mremap here
// passes new_address explicitly.
CallOutcome do_mremap_dontunmap(const Target& t) {
  return outcome(mremap(ptr(t), t.len, t.len, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, nullptr) != MAP_FAILED);
}

CallOutcome do_mremap_onto(const Target& t) {
  void* other = mmap(nullptr, t.len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (other == MAP_FAILED) return setup_failure("mmap of the mapping to move");
  std::memset(other, 0xa5, t.len);
  return outcome(mremap(other, t.len, t.len, MREMAP_MAYMOVE | MREMAP_FIXED, ptr(t)) == ptr(t));
}

CallOutcome do_mmap_fixed(const Target& t) {
  void* m = mmap(ptr(t), t.len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  return outcome(m == ptr(t));
}

template <int Advice>
CallOutcome do_madvise(const Target& t) {
  return outcome(madvise(ptr(t), t.len, Advice) == 0);
}

CallOutcome do_process_madvise(const Target& t) {
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0));
  if (pidfd < 0) return setup_failure("pidfd_open of this process");
  iovec iov{ptr(t), t.len};
  long n = syscall(__NR_process_madvise, pidfd, &iov, 1, MADV_DONTNEED, 0);
  CallOutcome o = outcome(n == static_cast<long>(t.len));
  if (n >= 0 && n != static_cast<long>(t.len)) o.note.set("advised %ld of %zu bytes", n, t.len);
  close(pidfd);
  return o;
}

CallOutcome do_shmat_remap(const Target& t) {
  int id = shmget(IPC_PRIVATE, t.len, IPC_CREAT | 0600);
  if (id < 0) return setup_failure("shmget");
  CallOutcome o = outcome(shmat(id, ptr(t), SHM_REMAP) == ptr(t));
  // Removed right after the attempt (a segment without attachments would
  // be destroyed at once, so not before): it disappears with the child.
  shmctl(id, IPC_RMID, nullptr);
  return o;
}

// brk reports failure by returning the unchanged break, without an errno.
CallOutcome do_brk_shrink(const Target& t) {
  long now = syscall(SYS_brk, t.heap_floor);
  CallOutcome o;
  o.ok = static_cast<std::uintptr_t>(now) == t.heap_floor;
  if (!o.ok) o.note.set("the break stayed at %#lx (brk returns no errno)", static_cast<unsigned long>(now));
  return o;
}

}  // namespace

PrimitiveFn primitive_fn(Primitive p) {
  switch (p) {
    case Primitive::kMprotect:
      return do_mprotect;
    case Primitive::kPkeyMprotect:
      return do_pkey_mprotect;
    case Primitive::kMunmap:
      return do_munmap;
    case Primitive::kMremapShrink:
      return do_mremap_shrink;
    case Primitive::kMremapExpand:
      return do_mremap_expand;
    case Primitive::kMremapMove:
      return do_mremap_move;
    case Primitive::kMremapDontunmap:
      return do_mremap_dontunmap;
    case Primitive::kMremapOnto:
      return do_mremap_onto;
    case Primitive::kMmapFixed:
      return do_mmap_fixed;
    case Primitive::kMadvFree:
      return do_madvise<MADV_FREE>;
    case Primitive::kMadvDontneed:
      return do_madvise<MADV_DONTNEED>;
    case Primitive::kMadvDontneedLocked:
      return do_madvise<MADV_DONTNEED_LOCKED>;
    case Primitive::kMadvRemove:
      return do_madvise<MADV_REMOVE>;
    case Primitive::kMadvDontfork:
      return do_madvise<MADV_DONTFORK>;
    case Primitive::kMadvWipeonfork:
      return do_madvise<MADV_WIPEONFORK>;
    case Primitive::kMadvGuardInstall:
      return do_madvise<MADV_GUARD_INSTALL>;
    case Primitive::kMadvRandom:
      return do_madvise<MADV_RANDOM>;
    case Primitive::kProcessMadvise:
      return do_process_madvise;
    case Primitive::kShmatRemap:
      return do_shmat_remap;
    case Primitive::kBrkShrink:
      return do_brk_shrink;
  }
  return nullptr;
}

}  // namespace sealkit::cli::selftest
