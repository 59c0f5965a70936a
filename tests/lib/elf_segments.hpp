// The PT_LOAD segments of the loaded ELF objects, read with dl_iterate_phdr
// by the tests themselves (not through src/core), to check what the library
// did to them.
#pragma once

#include <link.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sealkit::test {

struct ElfSegment {
  std::uintptr_t start;  // page-aligned
  std::uintptr_t end;    // page-aligned, past the last byte of p_memsz
  std::uint32_t type;    // PT_LOAD or PT_GNU_RELRO
  std::uint32_t flags;   // PF_R | PF_W | PF_X
};

struct ElfObject {
  std::string name;  // "" for the main program
  std::vector<ElfSegment> loads;
  std::vector<ElfSegment> relro;
};

// Every object dl_iterate_phdr lists, with its PT_LOAD and PT_GNU_RELRO.
std::vector<ElfObject> elf_objects();

// The first object whose name contains `needle` ("" matches the main program
// only); nullptr when there is none.
const ElfObject* find_object(const std::vector<ElfObject>& objs, const std::string& needle);
// The result points into `objs`: a temporary list would leave it dangling.
const ElfObject* find_object(std::vector<ElfObject>&& objs, const std::string& needle) = delete;

}  // namespace sealkit::test
