// A process with many VMAs, for measuring queries whose cost could grow with
// the number of mappings a process has.
#pragma once

#include <cstddef>

namespace sealkit::bench {

// `count` pages in one reservation whose neighbours alternate between
// read-write and read-only, so the kernel cannot merge them: `count` VMAs.
// Never unmapped (callers may seal pages of it).
class VmaField {
 public:
  // Throws std::system_error when the pages cannot be mapped or protected.
  explicit VmaField(std::size_t count);
  VmaField(const VmaField&) = delete;
  VmaField& operator=(const VmaField&) = delete;

  void* page(std::size_t i) const;
  std::size_t count() const { return count_; }

 private:
  std::byte* base_ = nullptr;
  std::size_t count_ = 0;
};

// The number of VMAs in this process now: lines of /proc/self/maps.
std::size_t count_own_vmas();

}  // namespace sealkit::bench
