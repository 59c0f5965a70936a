// "Intact" for a selftest run: over the target's range, the same mappings
// (same protection, same backing file and offset) and the same bytes as
// before the primitive was called.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cli/selftest/child.hpp"

namespace sealkit::cli::selftest {

class MemorySnapshot {
 public:
  // Maps all buffers up front: record() and unchanged() allocate nothing
  // (see Note). ready() is false when that failed.
  explicit MemorySnapshot(std::size_t max_len) noexcept;
  ~MemorySnapshot();
  MemorySnapshot(const MemorySnapshot&) = delete;
  MemorySnapshot& operator=(const MemorySnapshot&) = delete;
  bool ready() const noexcept { return ready_; }

  // Records the layout and bytes of `t` as the reference.
  bool record(const Target& t, Note& why) noexcept;
  // How `t` differs from the recorded reference, checked in this order.
  // Memory is read with process_vm_readv, so a page that became unreadable
  // (unmapped, PROT_NONE, a guard region) is reported instead of crashing
  // the child.
  enum class Change : int {
    kNone = 0,
    kLayout,      // the mappings over the range changed (gone, moved, other protection or backing)
    kUnreadable,  // same mappings, but the bytes cannot be read any more
    kContent,     // same mappings, different bytes
  };
  Change compare(const Target& t) noexcept;
  static const char* describe(Change c) noexcept;

  struct Segment {
    std::uintptr_t begin, end;
    bool read, write, exec, shared;
    std::uint64_t offset, inode;
    std::uint32_t dev_major, dev_minor;
  };
  static constexpr int kMaxSegments = 32;
  struct Layout {
    Segment segments[kMaxSegments];
    int count = 0;
  };

 private:
  bool read_layout(const Target& t, Layout& out) noexcept;
  bool read_bytes(const Target& t, unsigned char* into) noexcept;

  bool ready_ = false;
  std::size_t max_len_;
  std::size_t maps_cap_;
  char* maps_text_ = nullptr;
  unsigned char* before_ = nullptr;
  unsigned char* after_ = nullptr;
  Layout layout_before_;
  Layout layout_after_;
};

}  // namespace sealkit::cli::selftest
