// The record of what the seccomp backend has sealed, for sealkit_is_sealed and
// sealkit audit (smaps shows no "sl" for a filter seal).
//
// Append-only, kept where an attacker cannot rewrite it: every seal writes its
// new ranges into a fresh anonymous mapping (a "chunk"), makes it read-only and
// puts the chunk's own range into the very filter that seals those ranges. So
// once the filter is installed the chunk can never again be made writable,
// unmapped, moved or replaced (mprotect, munmap, mremap, MAP_FIXED all EPERM),
// exactly like the memory it describes.
//
// Chunks form a list, newest first; each chunk names the one before it, and that
// link is inside the sealed chunk. Only the head pointer lives in ordinary memory.
// It is published after the filter is installed (release/acquire), so a reader
// never sees a range the kernel does not yet enforce; a seal that fails unmaps its
// chunk before anyone could see it. A reader also checks every chunk it walks is
// really enforced (same-size mremap answers EPERM), so a head pointer bent to a
// forged, writable page is refused instead of believed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "backend/seccomp/filter.hpp"
#include "core/range.hpp"

namespace sealkit::backend::seccomp {

struct TableChunk;

// A chunk being prepared by the (single, serialized) writer.
class PendingChunk {
 public:
  PendingChunk() = default;
  PendingChunk(const PendingChunk&) = delete;
  PendingChunk& operator=(const PendingChunk&) = delete;
  ~PendingChunk();  // unmaps the chunk unless it was published

  // Maps a chunk holding `ranges` and its own range (writable for now). 0 or an errno value.
  int create(const SealedRange* ranges, std::size_t count) noexcept;
  // Makes it read-only. 0 or an errno value.
  int freeze() noexcept;
  // The chunk's own address range, to be sealed together with its contents.
  SealedRange self_range() const noexcept;
  // Adds the chunk to the table: call after its filter is installed.
  void publish() noexcept;

 private:
  TableChunk* chunk_ = nullptr;
  std::size_t bytes_ = 0;
};

// Calls fn(const SealedRange&) for every recorded range, newest first. Returns
// false when a chunk on the list is not enforced by a filter or is malformed. fn may throw.
bool for_each_sealed(void (*fn)(const SealedRange&, void*), void* ctx);

// Every recorded range, merged; nullopt when the table is corrupt.
// Allocates: may throw std::bad_alloc.
std::optional<core::RangeSet> recorded_ranges();

// Number of chunks (= successful seals that added a filter) so far.
std::size_t chunk_count() noexcept;
// The newest chunk's first byte (nullptr before the first seal): for tests and audit.
const void* newest_chunk() noexcept;

}  // namespace sealkit::backend::seccomp
