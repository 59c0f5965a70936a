// The ELF objects loaded in this process, as the dynamic loader lists them,
// and what sealing one of them means.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/proc_maps.hpp"
#include "core/range.hpp"

namespace sealkit::core {

struct LoadedObject {
  std::string name;            // dlpi_name; "" for the main program
  std::uintptr_t base = 0;     // load bias
  std::vector<Range> segments; // each PT_LOAD, page-rounded: [vaddr, vaddr+memsz)
  Range span;                  // lowest segment start to highest segment end
  // Left unsealed: PT_GNU_MUTABLE and the mutable sections of
  // core/mutable_sections.hpp, page-rounded, sorted.
  std::vector<Range> keep_mutable;
};

// Every object dl_iterate_phdr reports (main program, ld.so, libraries, the
// vDSO), in the loader's order. Objects without PT_LOAD are left out.
std::vector<LoadedObject> loaded_objects();

// The address ranges to seal for `obj`, given the process's current maps
// (sorted by address): the rule of core/seal_plan.hpp.
RangeSet object_seal_ranges(const LoadedObject& obj, const std::vector<MapsEntry>& maps);

}  // namespace sealkit::core
