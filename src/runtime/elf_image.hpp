// An ELF object as it lies in memory: its PT_LOAD segments with the
// protection each asks for, its RELRO range and the ranges it asks to keep
// mutable (PT_GNU_MUTABLE), found from its program headers by the reading the
// library shares (core/object_layout.hpp); its mutable sections are added
// from the file (runtime/mutable_sections.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/object_layout.hpp"
#include "core/range.hpp"
#include "runtime/maps_snapshot.hpp"

namespace sealkit::rt {

// mmap(2)'s PROT_* bits, as the kernel's VMA flags and PROCMAP_QUERY say them.
inline constexpr unsigned kProtRead = core::kSegmentRead, kProtWrite = core::kSegmentWrite,
                          kProtExec = core::kSegmentExec;

// The object's layout is core::ObjectLayout, read by the same code as the
// library's (core/object_layout.hpp): segments, prot, relro, keep_mutable,
// dynamic, header.
struct ElfImage : core::ObjectLayout {
  std::uintptr_t bias = 0;  // the load bias the ranges were computed with
  // GNU_PROPERTY_MEMORY_SEAL (ld -z memory-seal): the object asks the loader
  // to seal it (glibc 2.41+ would). Reported, not needed: everything is sealed.
  bool memory_seal_property = false;
};

enum class ImageError { kNone, kNoMapping, kNotFileBacked, kNoHeader, kBadHeader, kTooManySegments, kInconsistent };

// Reads the object whose dynamic section is at `dynamic` and whose load bias
// is `bias` (a link_map's l_ld and l_addr). The ELF header is found in the
// mapping of the same file at offset 0, below the dynamic section, and is
// checked against the maps before any byte of it is trusted.
ImageError read_loaded_image(const MapsSnapshot& maps, std::uintptr_t bias, std::uintptr_t dynamic, ElfImage& out);

// The same from a known ELF header address (the runtime itself, the main
// program from AT_PHDR): the header must lie in a readable mapping.
ImageError read_image_at(const MapsSnapshot& maps, std::uintptr_t bias, std::uintptr_t ehdr, ElfImage& out);

// The same when the caller knows that [ehdr, readable_end) is readable
// memory (found without the maps: see sealer.cpp).
ImageError read_image_in(std::uintptr_t bias, std::uintptr_t ehdr, std::uintptr_t readable_end, ElfImage& out);

// The object from program headers already in memory (AT_PHDR, AT_PHNUM for
// the main program: ld.so reads them there too).
ImageError read_image_from_phdrs(std::uintptr_t bias, std::uintptr_t phdr, std::size_t phnum, ElfImage& out);

const char* describe(ImageError e);

}  // namespace sealkit::rt
