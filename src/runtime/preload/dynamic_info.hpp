// What the loader's decision to keep an object depends on, read from the
// object's dynamic section in memory: DF_1_NODELETE, DT_SONAME and the
// DT_NEEDED names (to follow "a dependency of a never-unloaded object").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/range.hpp"

namespace sealkit::rt::preload {

struct DynamicInfo {
  static constexpr std::size_t kMaxNeeded = 64;
  bool nodelete = false;  // DF_1_NODELETE
  bool textrel = false;   // DT_TEXTREL / DF_TEXTREL
  std::string_view soname;
  std::string_view needed[kMaxNeeded];
  std::size_t nneeded = 0;
};

// The memory an object's program headers say is readable file content:
// [bias + p_vaddr, + p_filesz) of each PT_LOAD with PF_R.
struct ReadableRanges {
  static constexpr std::size_t kMax = 32;
  core::Range r[kMax];
  std::size_t n = 0;
  // Bytes readable from p on (within one range), 0 if p is not readable.
  std::uint64_t room(std::uintptr_t p) const {
    for (std::size_t i = 0; i < n; ++i)
      if (p >= r[i].begin && p < r[i].end) return r[i].end - p;
    return 0;
  }
  bool contains(std::uintptr_t p, std::uint64_t len) const { return len <= room(p) && room(p) != 0; }
};

// `dynamic` and `bias` are a loaded object's l_ld and l_addr. Nothing is
// read outside `readable` (the string table pointer may be a link-time
// address before relocation, or anything in a corrupt file). The string views
// point into the object's memory: copy them before it may be unloaded.
DynamicInfo read_dynamic(std::uintptr_t bias, std::uintptr_t dynamic, const ReadableRanges& readable);

// Whether the DT_NEEDED entry `needed` names the object loaded as `path`
// with soname `soname`: ld.so matches a needed name against sonames and the
// names objects were loaded by, which for a path search is its last part.
bool needed_names(std::string_view needed, std::string_view path, std::string_view soname);

}  // namespace sealkit::rt::preload
