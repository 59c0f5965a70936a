// sealkit_seal_loaded_objects: seal every ELF object loaded now.
#include <cerrno>

#include <vector>

#include "core/loaded_objects.hpp"
#include "core/proc_maps.hpp"
#include "lib/seal.hpp"
#include "sealkit/sealkit.h"

namespace {

int seal_loaded_objects(unsigned flags) {
  if (flags != SEALKIT_SEAL_OBJECTS_DEFAULT) {
    errno = EINVAL;
    return -1;
  }
  // /proc/self/maps tells which pages in each object's span are really its
  // own (core::object_seal_ranges); read it once for all objects.
  auto text = sealkit::core::read_proc_file("/proc/self/maps");
  if (!text) return -1;
  std::vector<sealkit::core::MapsEntry> maps;
  sealkit::core::for_each_maps_entry(*text, [&](const sealkit::core::MapsEntry& m) {
    maps.push_back(m);
    return true;
  });

  int sealed = 0;
  int first_error = 0;
  for (const sealkit::core::LoadedObject& obj : sealkit::core::loaded_objects()) {
    sealkit::core::RangeSet ranges = sealkit::core::object_seal_ranges(obj, maps);
    if (ranges.empty()) continue;
    int err = 0;
    // Ranges are coalesced: one mseal per contiguous run.
    for (const sealkit::core::Range& r : ranges.ranges()) {
      if (int e = sealkit::lib::seal_range(r.begin, r.size(), 0, /*v8_sealable_known=*/true)) err = e;
    }
    if (err == 0) ++sealed;
    else if (first_error == 0) first_error = err;
  }
  if (first_error) {
    errno = first_error;
    return -1;
  }
  return sealed;
}

}  // namespace

extern "C" int sealkit_seal_loaded_objects(unsigned flags) {
  try {
    return seal_loaded_objects(flags);
  } catch (...) {
    errno = ENOMEM;
    return -1;
  }
}
