// An object's mutable sections (core/mutable_sections.hpp), read from its
// file: the section table is not in memory.
#pragma once

#include <cstddef>

#include "runtime/elf_image.hpp"

namespace sealkit::rt {

// Adds the mutable sections of the object `img` describes to
// img.keep_mutable, kept sorted. `path` is where ld.so found the object
// (link_map l_name); "" means the main program, read through /proc/self/exe,
// which the kernel resolves to the very file it executed. Needs img.header.
// Returns how many ranges were added. On any failure (no header in memory,
// the file unreadable or not the same layout, a malformed table) none are,
// and the object is sealed whole: failing seals more, never less.
//
// Cost: open, one pread of the section table and close (about 3 us), and
// nothing for an object with no writable segment.
std::size_t add_mutable_sections(const char* path, ElfImage& img);

}  // namespace sealkit::rt
