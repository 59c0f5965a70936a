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
};

// Every object dl_iterate_phdr reports (main program, ld.so, libraries, the
// vDSO), in the loader's order. Objects without PT_LOAD are left out.
std::vector<LoadedObject> loaded_objects();

// The address ranges to seal for `obj`, given the process's current maps:
// - all of each PT_LOAD segment's pages (file-backed part and bss);
// - in the gaps between segments, only VMAs backed by the object's own file
//   (the PROT_NONE reservations ld.so leaves there). A gap can also be a hole
//   that something else was later mapped into; that memory is not the
//   object's and is never sealed.
// Only mapped pages are returned; `maps` must be sorted by address, as
// /proc/PID/maps is.
RangeSet object_seal_ranges(const LoadedObject& obj, const std::vector<MapsEntry>& maps);

}  // namespace sealkit::core
