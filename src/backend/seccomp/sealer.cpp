#include "backend/seccomp/sealer.hpp"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>

#include <pthread.h>
#include <new>
#include <vector>

#include "backend/kernel.hpp"
#include "backend/seccomp/existing_filter.hpp"
#include "backend/seccomp/filter.hpp"
#include "backend/seccomp/install.hpp"
#include "backend/seccomp/mm_sharers.hpp"
#include "backend/seccomp/registration.hpp"
#include "backend/seccomp/registration_proto.hpp"
#include "core/mseal_args.hpp"
#include "core/page.hpp"
#include "core/proc_maps.hpp"
#include "core/range.hpp"
#include "core/vma_query.hpp"

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

// The pieces of [start, end), one per VMA (so that each has its own madvise
// rule), from the VMAs in address order. ENOMEM when they do not cover the
// span as check_mapped said (it changed meanwhile): nothing is sealed then.
struct PieceCollector {
  core::Range span;
  std::vector<SealedRange>& out;
  std::uintptr_t cur = span.begin;

  // One VMA; false once nothing more is needed.
  bool add(const core::MapsEntry& m) {
    if (m.range.end <= cur) return true;
    if (m.range.begin > cur) return false;  // a hole: cur stays short of the end
    const std::uintptr_t piece_end = m.range.end < span.end ? m.range.end : span.end;
    out.push_back({cur, piece_end, anonymous(m) && !m.write});
    cur = piece_end;
    return cur < span.end;
  }
  int result() const { return cur >= span.end ? 0 : ENOMEM; }
};

// The span's VMAs looked up one by one with PROCMAP_QUERY: a process gains a
// VMA (its token) with every seal under the supervisor, and reading all of
// /proc/self/maps on every seal would make each one cost more than the one
// before. nullopt where the ioctl does not answer (before 6.11, or a name
// longer than the buffer): the text decides.
std::optional<int> collect_pieces_by_query(core::Range span, std::vector<SealedRange>& out) {
  const int fd = ::open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  PieceCollector c{span, out};
  std::optional<int> result;
  char name[4096 + 64];  // a path as d_path writes it, " (deleted)" included
  for (;;) {
    core::MapsEntry m;
    const long r = core::query_vma(fd, c.cur, true, name, sizeof name, m);
    if (r == -ENOENT) {
      result = c.result();
      break;
    }
    if (r != 0) {
      out.clear();
      break;
    }
    if (!c.add(m)) {
      result = c.result();
      break;
    }
  }
  ::close(fd);
  return result;
}

int collect_pieces(core::Range span, std::vector<SealedRange>& out) {
  if (std::optional<int> by_query = collect_pieces_by_query(span, out)) return *by_query;
  // The text up to the span's end, not beyond (scan_maps_file).
  PieceCollector c{span, out};
  if (!core::scan_maps_file("/proc/self/maps", [&](const core::MapsEntry& m) { return c.add(m); }))
    return errno ? errno : EIO;
  return c.result();
}

bool refused(std::uintptr_t start, std::uintptr_t end) noexcept {
  return kernel::probe_unverified(start, end - start) == kernel::VmaState::kSealed;
}

// Whether the probe tells sealed from unsealed here at all: a page mapped
// just now is sealed by nobody, so a refusal there means that something
// refuses the probe everywhere (a foreign filter answering mremap with EPERM).
bool probe_discriminates() noexcept {
  const int saved = errno;
  void* m = ::mmap(nullptr, core::page_size(), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  bool ok = false;
  if (m != MAP_FAILED) {
    ok = !refused(reinterpret_cast<std::uintptr_t>(m), reinterpret_cast<std::uintptr_t>(m) + core::page_size());
    ::munmap(m, core::page_size());
  }
  errno = saved;
  return ok;
}

// The parts of `pieces` that nothing enforces yet. What is sealed already is
// asked of the enforcement itself (the same-size mremap probe, which every
// filter refuses on its ranges before the system call runs, as do the
// supervisor and the kernel's mseal), never read from memory this process
// can write: a record there could be forged by the very attacker sealing is
// against. A piece nobody refuses costs one probe; one that something
// refuses is asked page by page.
std::vector<SealedRange> not_yet_enforced(const std::vector<SealedRange>& pieces) {
  const std::size_t ps = core::page_size();
  std::vector<SealedRange> out;
  bool some_refused = false;
  for (const SealedRange& p : pieces) {
    if (!refused(p.start, p.end)) {
      out.push_back(p);
      continue;
    }
    some_refused = true;
    for (std::uintptr_t page = p.start; page < p.end; page += ps) {
      if (refused(page, page + ps)) continue;
      if (!out.empty() && out.back().end == page && out.back().start >= p.start) out.back().end = page + ps;
      else out.push_back({page, page + ps, p.discard_protected});
    }
  }
  return some_refused && !probe_discriminates() ? pieces : out;
}

// A task sharing the address space outside the thread group when the filter
// goes in is not bound by it (mm_sharers.hpp): before installing, any such
// task refuses the seal; after, one made in between (another thread cloned
// it meanwhile) does.
bool address_space_shared(bool unbound_only) noexcept {
  return find_address_space_sharer(unbound_only).verdict != SharerVerdict::kNone;
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
  // Under the supervisor every task of the tree has had the root filter since
  // before the program existed, and the supervisor answers by the address
  // space's tokens: tasks sharing it are refused like the program.
  const bool supervised = supervisor_fd() >= 0;
  if (!supervised && address_space_shared(false)) return EBUSY;

  std::vector<SealedRange> pieces;
  int e = collect_pieces(span, pieces);
  for (int retry = 0; e == ENOMEM && retry < 2; ++retry) {  // a torn read of maps: ask check_mapped again first
    if ((e = kernel::check_mapped(span.begin, span.end)) != 0) return e;
    pieces.clear();
    e = collect_pieces(span, pieces);
  }
  if (e) return e;
  pieces = not_yet_enforced(pieces);
  if (pieces.empty()) return 0;  // sealing twice succeeds, and needs no new filter
  if (pieces.size() > kMaxRanges) return ENOMEM;

  if (supervised) {
    // Under a supervisor the root filter already sends every guarded call to
    // it; sealing is telling it the ranges (no filter of our own, which would
    // outlive this image at execve).
    SealedRange token;
    e = registration::register_seal(supervisor_fd(), pieces.data(), pieces.size(), token);
    if (e != EPROTO) return e;
    // Answered, not enforced: not the supervisor. Seal with a filter of our
    // own, below, as a process without one would, sharers looked for first.
    g_not_the_supervisor.store(true, std::memory_order_relaxed);
    if (address_space_shared(false)) return EBUSY;
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
  if (out.error) return out.error;
  // A task made while the filter went in is not bound by it. The filter
  // stays (filters cannot be removed), unclaimed: sealkit_is_sealed says 0
  // while that task lives.
  if (address_space_shared(true)) return EBUSY;
  return 0;
}

}  // namespace

namespace {

const char* ask_whether_usable() noexcept {
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
}

}  // namespace

const char* unusable_reason() noexcept {
#if !defined(__x86_64__)
  return "the filter is generated for x86_64 only";
#else
  // Asked again when the process's seccomp mode changed since the last answer:
  // a filter installed after it (the program's own allow-list, say) may kill
  // the calls sealing makes, which the answer given without it did not see.
  static std::atomic<int> asked_in_mode{-1};
  static std::atomic<const char*> reason{nullptr};
  const int saved = errno;
  const int mode = ::prctl(PR_GET_SECCOMP);
  errno = saved;
  if (asked_in_mode.load(std::memory_order_acquire) != mode) {
    reason.store(ask_whether_usable(), std::memory_order_relaxed);
    asked_in_mode.store(mode, std::memory_order_release);
  }
  return reason.load(std::memory_order_relaxed);
#endif
}

int seal(std::uintptr_t addr, std::size_t len, unsigned long flags) noexcept {
  const auto args = core::check_mseal_args<std::uintptr_t>(addr, len, flags, core::page_size());
  if (args.error != 0) return args.error;
  if (args.empty()) return 0;
  if (unusable_reason()) return ENOSYS;
  const int saved = errno;
  int e;
  try {
    std::call_once(g_atfork_once, [] { pthread_atfork(lock_for_fork, unlock_after_fork, unlock_after_fork); });
    std::lock_guard<std::mutex> lock(g_seal_mutex);
    e = kernel::check_mapped(args.start, args.end);
    if (e == 0) e = seal_locked({args.start, args.end});
  } catch (const std::bad_alloc&) {
    e = ENOMEM;
  } catch (...) {
    e = EFAULT;
  }
  errno = saved;
  return e;
}

int is_sealed(std::uintptr_t start, std::uintptr_t end) noexcept {
  if (int e = kernel::check_mapped(start, end)) {
    errno = e;
    return -1;
  }
  // Every page is asked of the enforcement, whoever sealed it: this
  // library's filters, the runtime's, a supervisor answering for the process
  // (docs/seccomp-exec.md), the kernel's own mseal. Each refuses a same-size
  // mremap of a sealed page with EPERM before anything would change; on an
  // unsealed page that mremap is a no-op. Page by page, because a filter's
  // seals are ranges, not VMAs; it stops at the first page nobody refuses.
  const std::size_t ps = core::page_size();
  for (std::uintptr_t page = start; page < end; page += ps) {
    if (!refused(page, page + ps)) return 0;
  }
  if (!probe_discriminates()) return 0;  // everything is refused: nothing can be told
  // Sealed for this thread group; for the address space only when every task
  // sharing it has the filters too.
  if (supervisor_fd() < 0 && address_space_shared(true)) return 0;
  return 1;
}

}  // namespace sealkit::backend::seccomp
