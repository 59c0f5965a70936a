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

// Where an object's program headers are found; read_image reads them all
// the same way, whatever the source.
class ImageSource {
 public:
  // Program headers already in memory: ld.so's copy (dl_iterate_phdr,
  // dlinfo RTLD_DI_PHDR), or the main program's AT_PHDR and AT_PHNUM, which
  // ld.so reads too.
  static ImageSource phdrs(std::uintptr_t bias, std::uintptr_t phdr, std::size_t phnum) {
    return ImageSource(Kind::kPhdrs, nullptr, bias, phdr, phnum);
  }
  // An ELF header at `ehdr` in memory the caller knows is readable up to
  // `readable_end` (found without the maps: see sealer.cpp).
  static ImageSource header(std::uintptr_t bias, std::uintptr_t ehdr, std::uintptr_t readable_end) {
    return ImageSource(Kind::kHeader, nullptr, bias, ehdr, readable_end);
  }
  // An ELF header at `ehdr` (the runtime itself): the maps say how far it is
  // readable.
  static ImageSource header_in(const MapsSnapshot& maps, std::uintptr_t bias, std::uintptr_t ehdr) {
    return ImageSource(Kind::kHeaderInMaps, &maps, bias, ehdr, 0);
  }
  // A loaded object by its link_map's l_addr and l_ld: its ELF header is in
  // the mapping of the same file at offset 0 below its dynamic section, and
  // is checked against the maps before any byte of it is trusted.
  static ImageSource loaded(const MapsSnapshot& maps, std::uintptr_t bias, std::uintptr_t dynamic) {
    return ImageSource(Kind::kLoaded, &maps, bias, dynamic, 0);
  }

 private:
  enum class Kind { kPhdrs, kHeader, kHeaderInMaps, kLoaded };
  ImageSource(Kind kind, const MapsSnapshot* maps, std::uintptr_t bias, std::uintptr_t at, std::uintptr_t extent)
      : kind_(kind), maps_(maps), bias_(bias), at_(at), extent_(extent) {}
  friend ImageError read_image(const ImageSource& src, ElfImage& out);

  Kind kind_;
  const MapsSnapshot* maps_;
  std::uintptr_t bias_;
  std::uintptr_t at_;      // the program headers, the ELF header, or the dynamic section
  std::uintptr_t extent_;  // phnum, or the end of the readable memory from the header
};

// The object's image from `src`: the one way an image is read.
ImageError read_image(const ImageSource& src, ElfImage& out);

const char* describe(ImageError e);

}  // namespace sealkit::rt
