// What the loader's decision to keep an object depends on, read from the
// object's dynamic section in memory: DF_1_NODELETE, DT_SONAME and the
// DT_NEEDED names (to follow "a dependency of a never-unloaded object").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "runtime/maps_snapshot.hpp"

namespace sealkit::rt::preload {

struct DynamicInfo {
  static constexpr std::size_t kMaxNeeded = 64;
  bool nodelete = false;  // DF_1_NODELETE
  bool textrel = false;   // DT_TEXTREL / DF_TEXTREL
  std::string_view soname;
  std::string_view needed[kMaxNeeded];
  std::size_t nneeded = 0;
};

// `dynamic` and `bias` are a loaded object's l_ld and l_addr. Nothing is
// read that `maps` does not show as readable (the string table pointer may
// be a link-time address before relocation, or anything in a corrupt file).
DynamicInfo read_dynamic(std::uintptr_t bias, std::uintptr_t dynamic, const MapsSnapshot& maps);

// Whether the DT_NEEDED entry `needed` names the object loaded as `path`
// with soname `soname`: ld.so matches a needed name against sonames and the
// names objects were loaded by, which for a path search is its last part.
bool needed_names(std::string_view needed, std::string_view path, std::string_view soname);

}  // namespace sealkit::rt::preload
