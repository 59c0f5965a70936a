// /proc/self/maps parsed into an array, in address order, without malloc.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/maps_line.hpp"
#include "runtime/proc_text.hpp"

namespace sealkit::rt {

class MapsSnapshot {
 public:
  MapsSnapshot() = default;
  MapsSnapshot(const MapsSnapshot&) = delete;
  MapsSnapshot& operator=(const MapsSnapshot&) = delete;
  ~MapsSnapshot();

  bool load();
  const core::MapsEntry* begin() const { return entries_; }
  const core::MapsEntry* end() const { return entries_ + n_; }
  std::size_t size() const { return n_; }
  std::size_t bad_lines() const { return bad_; }
  // The entry holding addr, or nullptr.
  const core::MapsEntry* find(std::uintptr_t addr) const;

 private:
  ProcText text_;
  core::MapsEntry* entries_ = nullptr;
  std::size_t cap_bytes_ = 0;
  std::size_t n_ = 0;
  std::size_t bad_ = 0;
};

}  // namespace sealkit::rt
