#include "backend/seccomp/table.hpp"

#include <sys/mman.h>
#include <sys/prctl.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <new>

#include "core/page.hpp"

namespace sealkit::backend::seccomp {

namespace {

constexpr std::uint64_t kChunkMagic = 0x736b2d7461626c65;  // "sk-table"

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

}  // namespace

struct TableChunk {
  std::uint64_t magic;
  const TableChunk* prev;
  std::uint64_t bytes;  // the whole mapping, a multiple of the page size
  std::uint64_t count;
  SealedRange ranges[1];  // `count` of them (the mapping holds them all)
};

namespace {

std::atomic<const TableChunk*> g_head{nullptr};
std::atomic<std::size_t> g_chunks{0};

std::size_t chunk_bytes(std::size_t count) noexcept {
  // count is bounded by the filter's kMaxRanges: no overflow.
  const std::size_t raw = offsetof(TableChunk, ranges) + count * sizeof(SealedRange);
  const std::size_t ps = core::page_size();
  return (raw + ps - 1) / ps * ps;
}

// Only a filter (or a kernel seal) refuses a same-size, non-moving mremap with
// EPERM; on writable, forged memory it succeeds and changes nothing.
bool enforced(const TableChunk* c) noexcept {
  const int saved = errno;
  void* r = ::mremap(const_cast<TableChunk*>(c), core::page_size(), core::page_size(), 0);
  const bool refused = r == MAP_FAILED && errno == EPERM;
  errno = saved;
  return refused;
}

bool well_formed(const TableChunk* c) noexcept {
  return c->magic == kChunkMagic && c->bytes == chunk_bytes(c->count) && c->count > 0;
}

}  // namespace

PendingChunk::~PendingChunk() {
  if (chunk_) ::munmap(chunk_, bytes_);
}

int PendingChunk::create(const SealedRange* ranges, std::size_t count) noexcept {
  bytes_ = chunk_bytes(count + 1);  // the chunk records itself last
  void* p = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return errno;
  chunk_ = static_cast<TableChunk*>(p);
  // The chunk must not merge with the caller's read-only anonymous memory next
  // to it: that would change the caller's VMA (its bounds, and a later madvise
  // would split it again). A flag the caller's memory normally lacks
  // (VM_NOHUGEPAGE) keeps the VMAs apart; a name (CONFIG_ANON_VMA_NAME) does too
  // and shows the chunk in /proc/PID/maps. Either may be unsupported: no harm.
  const int saved = errno;
  (void)::madvise(p, bytes_, MADV_NOHUGEPAGE);
  (void)::prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, p, bytes_, "sealkit-seal-record");
  errno = saved;
  chunk_->magic = kChunkMagic;
  chunk_->prev = g_head.load(std::memory_order_acquire);  // the writer is serialized by its caller
  chunk_->bytes = bytes_;
  chunk_->count = count + 1;
  for (std::size_t i = 0; i < count; ++i) chunk_->ranges[i] = ranges[i];
  chunk_->ranges[count] = self_range();
  return 0;
}

int PendingChunk::freeze() noexcept { return ::mprotect(chunk_, bytes_, PROT_READ) == 0 ? 0 : errno; }

SealedRange PendingChunk::self_range() const noexcept {
  const auto start = reinterpret_cast<std::uintptr_t>(chunk_);
  // Anonymous, private and read-only from now on: madvise discard is refused too.
  return SealedRange{start, start + bytes_, true};
}

void PendingChunk::publish() noexcept {
  g_head.store(chunk_, std::memory_order_release);
  g_chunks.fetch_add(1, std::memory_order_relaxed);
  chunk_ = nullptr;  // sealed now: it stays for the life of the process
}

bool for_each_sealed(void (*fn)(const SealedRange&, void*), void* ctx) {
  for (const TableChunk* c = g_head.load(std::memory_order_acquire); c != nullptr; c = c->prev) {
    if (!enforced(c) || !well_formed(c)) return false;
    for (std::uint64_t i = 0; i < c->count; ++i) fn(c->ranges[i], ctx);
  }
  return true;
}

std::optional<core::RangeSet> recorded_ranges() {
  core::RangeSet set;
  bool ok = for_each_sealed(
      [](const SealedRange& s, void* ctx) { static_cast<core::RangeSet*>(ctx)->insert({s.start, s.end}); }, &set);
  if (!ok) return std::nullopt;
  return set;
}

std::size_t chunk_count() noexcept { return g_chunks.load(std::memory_order_relaxed); }

const void* newest_chunk() noexcept { return g_head.load(std::memory_order_acquire); }

}  // namespace sealkit::backend::seccomp
