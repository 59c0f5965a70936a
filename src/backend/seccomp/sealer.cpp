#include "backend/seccomp/sealer.hpp"

#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <mutex>

#include <pthread.h>
#include <new>
#include <vector>

#include "backend/kernel.hpp"
#include "backend/seccomp/existing_filter.hpp"
#include "backend/seccomp/filter.hpp"
#include "backend/seccomp/install.hpp"
#include "backend/seccomp/registration.hpp"
#include "backend/seccomp/registration_proto.hpp"
#include "backend/seccomp/table.hpp"
#include "core/page.hpp"
#include "core/proc_maps.hpp"
#include "core/range.hpp"

namespace sealkit::backend::seccomp {

namespace {

std::mutex g_seal_mutex;

// fork() while another thread is sealing must not leave the child with the
// mutex taken (its next seal would wait forever): held across fork, released
// on both sides, registered at the first seal.
std::once_flag g_atfork_once;
void lock_for_fork() { g_seal_mutex.lock(); }
void unlock_after_fork() { g_seal_mutex.unlock(); }

// The kernel's idea of anonymous memory (vma_is_anonymous): private, not backed
// by a file, not shmem. Shared anonymous memory is shmem ("/dev/zero (deleted)").
bool anonymous(const core::MapsEntry& m) noexcept {
  if (m.shared || m.inode != 0) return false;
  const std::string_view p = m.path;
  return p.empty() || p == "[heap]" || p.starts_with("[stack") || p.starts_with("[anon:");
}

// The pieces of [start, end) not sealed before, one per VMA (so that each has
// its own madvise rule), from /proc/self/maps. ENOMEM when maps does not cover
// the span as check_mapped said (it changed meanwhile): nothing is sealed then.
int collect_pieces(core::Range span, const core::RangeSet& already, std::vector<SealedRange>& out) {
  auto text = core::read_proc_file("/proc/self/maps");
  if (!text) return errno ? errno : EIO;
  std::uintptr_t cur = span.begin;
  core::for_each_maps_entry(*text, [&](const core::MapsEntry& m) {
    if (m.range.end <= cur) return true;
    if (m.range.begin > cur) return false;  // a hole: cur stays short of the end
    const std::uintptr_t piece_end = m.range.end < span.end ? m.range.end : span.end;
    core::RangeSet piece;
    piece.insert({cur, piece_end});
    for (const core::Range& r : already.ranges()) piece.erase(r);
    for (const core::Range& r : piece.ranges()) out.push_back({r.begin, r.end, anonymous(m) && !m.write});
    cur = piece_end;
    return cur < span.end;
  });
  return cur >= span.end ? 0 : ENOMEM;
}

core::RangeSet sealed_overlapping(core::Range span, bool& intact) {
  struct Ctx {
    core::Range span;
    core::RangeSet set;
  } ctx{span, {}};
  intact = for_each_sealed(
      [](const SealedRange& s, void* p) {
        auto* c = static_cast<Ctx*>(p);
        core::Range r{s.start, s.end};
        if (r.overlaps(c->span)) c->set.insert(r);
      },
      &ctx);
  return std::move(ctx.set);
}

// The supervisor's registration socket when this process runs under one
// (docs/seccomp-exec.md), else -1. Read once; secure_getenv, so a setuid
// program ignores it. A socket the kernel does not vouch for (its peer is no
// ancestor's, of another user, or this process has no filter:
// registration::untrusted_supervisor) is no supervisor either: an impostor
// would answer "registered" and enforce nothing. Without one the library
// seals with its own filters.
// A registration the peer answered but nothing enforces (EPROTO) sets
// g_not_the_supervisor: from then on the library's own filters too.
std::atomic<bool> g_not_the_supervisor{false};

int supervisor_fd() noexcept {
  static const int fd = [] {
    const int named = registration::parse_supervisor_fd(::secure_getenv(registration::kSupervisorFdEnv));
    return named >= 0 && registration::untrusted_supervisor(named) == nullptr ? named : -1;
  }();
  return g_not_the_supervisor.load(std::memory_order_relaxed) ? -1 : fd;
}

int seal_locked(core::Range span) {
  bool intact = true;
  core::RangeSet already = sealed_overlapping(span, intact);
  if (!intact) return EFAULT;
  if (already.covers(span)) return 0;  // sealing twice succeeds, and needs no new filter

  std::vector<SealedRange> pieces;
  int e = collect_pieces(span, already, pieces);
  for (int retry = 0; e == ENOMEM && retry < 2; ++retry) {  // a torn read of maps: ask check_mapped again first
    if ((e = kernel::check_mapped(span.begin, span.end)) != 0) return e;
    pieces.clear();
    e = collect_pieces(span, already, pieces);
  }
  if (e) return e;
  if (pieces.empty()) return 0;
  if (pieces.size() + 1 > kMaxRanges) return ENOMEM;

  PendingChunk chunk;
  if ((e = chunk.create(pieces.data(), pieces.size())) || (e = chunk.freeze())) return e;
  pieces.push_back(chunk.self_range());

  if (supervisor_fd() >= 0) {
    // Under a supervisor the root filter already sends every guarded call to
    // it; sealing is telling it the ranges (no filter of our own, which would
    // outlive this image at execve). Failure: nothing recorded, the errno.
    SealedRange token;
    e = registration::register_seal(supervisor_fd(), pieces.data(), pieces.size(), token);
    if (e == 0) {
      chunk.publish();
      return 0;
    }
    if (e != EPROTO) return e;
    g_not_the_supervisor.store(true, std::memory_order_relaxed);  // and seal with a filter of our own, below
  }

  std::unique_ptr<Program> program(new (std::nothrow) Program);
  if (!program) return ENOMEM;
  Input in;
  in.ranges = pieces.data();
  in.count = pieces.size();
  in.task_size = task_size();
  BuildStatus st = build(in, *program);
  if (st != BuildStatus::kOk) return to_errno(st);
  InstallOutcome out = install(*program);
  if (out.error) return out.error;  // the chunk is unmapped by its destructor: nothing recorded
  chunk.publish();
  return 0;
}

}  // namespace

const char* unusable_reason() noexcept {
#if !defined(__x86_64__)
  return "the filter is generated for x86_64 only";
#else
  static const char* const reason = []() noexcept -> const char* {
    // Before any seccomp(2) here: under an allow-list that does not name it,
    // the call would kill the process.
    if (const char* refused = existing_filter_refuses_seccomp()) return refused;
    const int saved = errno;
    std::uint32_t action = SECCOMP_RET_ERRNO;
    const long r = ::syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action);
    const int err = errno;
    errno = saved;
    if (r == 0) return nullptr;
    if (err == ENOSYS) return "this kernel has no seccomp(2)";
    return "this kernel has no seccomp filters (CONFIG_SECCOMP_FILTER) or no SECCOMP_RET_ERRNO";
  }();
  return reason;
#endif
}

int seal(std::uintptr_t addr, std::size_t len, unsigned long flags) noexcept {
  // mseal's own validation, in its order (mm/mseal.c).
  const std::size_t ps = core::page_size();
  if (flags != 0 || !core::is_page_aligned(addr, ps)) return EINVAL;
  auto span = core::page_span(addr, len, ps);
  if (!span) return EINVAL;
  if (span->start == span->end) return 0;
  if (unusable_reason()) return ENOSYS;
  const int saved = errno;
  int e;
  try {
    std::call_once(g_atfork_once, [] { pthread_atfork(lock_for_fork, unlock_after_fork, unlock_after_fork); });
    std::lock_guard<std::mutex> lock(g_seal_mutex);
    e = kernel::check_mapped(span->start, span->end);
    if (e == 0) e = seal_locked({span->start, span->end});
  } catch (const std::bad_alloc&) {
    e = ENOMEM;
  } catch (...) {
    e = EFAULT;
  }
  errno = saved;
  return e;
}

namespace {

// Whether every page of [start, end) outside this library's own records is
// refused anyway. Seals made in this process by someone else leave no record
// here: the runtime `sealkit run` injects (its start-up and later filters), a
// supervisor answering for the process (docs/seccomp-exec.md), or the
// kernel's own mseal. Each refuses a same-size mremap of a sealed page with
// EPERM before anything would change, and on an unsealed page that mremap is
// a no-op. Page by page, because a filter's seals are ranges, not VMAs; it
// stops at the first page nobody refuses.
bool others_refuse_the_rest(const core::RangeSet& recorded, std::uintptr_t start, std::uintptr_t end) noexcept {
  const std::size_t ps = core::page_size();
  auto next = recorded.ranges().begin();
  for (std::uintptr_t page = start; page < end; page += ps) {
    while (next != recorded.ranges().end() && next->end <= page) ++next;
    if (next != recorded.ranges().end() && next->contains(page)) {
      page = core::page_down(next->end - 1, ps);  // the loop steps past the recorded range
      continue;
    }
    if (kernel::probe_page_unverified(page) != kernel::VmaState::kSealed) return false;
  }
  return true;
}

}  // namespace

int is_sealed(std::uintptr_t start, std::uintptr_t end) noexcept {
  if (int e = kernel::check_mapped(start, end)) {
    errno = e;
    return -1;
  }
  try {
    auto recorded = recorded_ranges();
    if (!recorded) {
      errno = EFAULT;
      return -1;
    }
    if (recorded->covers({start, end})) return 1;
    return others_refuse_the_rest(*recorded, start, end) ? 1 : 0;
  } catch (...) {
    errno = ENOMEM;
    return -1;
  }
}

}  // namespace sealkit::backend::seccomp
