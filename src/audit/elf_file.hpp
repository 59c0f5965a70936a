// What an ELF file on disk says about how it can be sealed: the static
// readiness report behind `sealkit check` (a checksec for sealing).
//
// Files are hostile input: a malformed, truncated or crafted file gives an
// error string, never a crash (fuzz/fuzz_elf_file.cpp). Parsing is libelf's
// (elfutils, a Debian package); this file only interprets what it returns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sealkit::audit {

// One program header, as the file has it (not page-rounded).
struct ElfSegment {
  std::uint32_t type = 0;
  std::uint32_t flags = 0;
  std::uint64_t offset = 0;
  std::uint64_t vaddr = 0;
  std::uint64_t filesz = 0;
  std::uint64_t memsz = 0;
};

// A section kept unsealed by the rule of core/mutable_sections.hpp.
struct ElfMutableSection {
  std::string name;
  std::uint64_t vaddr = 0;
  std::uint64_t size = 0;
  std::uint64_t page_begin = 0, page_end = 0;  // the pages left unsealed, clipped to writable data
};

struct ElfFacts {
  enum class Kind { kExecutable, kPie, kSharedObject, kRelocatable, kOther };
  enum class Relro { kNone, kPartial, kFull };
  enum class ExecStack { kNo, kYes, kMissing };  // kMissing: no PT_GNU_STACK (the kernel's default applies)

  Kind kind = Kind::kOther;
  bool elf64 = false;
  bool has_interp = false;   // PT_INTERP: ld.so loads it, so `sealkit run` can seal it
  bool has_dynamic = false;  // PT_DYNAMIC
  Relro relro = Relro::kNone;
  bool bind_now = false;     // DT_BIND_NOW, DF_BIND_NOW or DF_1_NOW
  bool textrel = false;      // DT_TEXTREL or DF_TEXTREL
  ExecStack exec_stack = ExecStack::kMissing;
  std::size_t wx_segments = 0;          // PT_LOAD both writable and executable
  std::uint64_t wx_bytes = 0;           // their pages, which `sealkit run` leaves unsealed
  bool memory_seal_property = false;    // GNU_PROPERTY_MEMORY_SEAL (ld -z memory-seal)
  std::size_t mutable_segments = 0;     // PT_GNU_MUTABLE
  bool mutable_section = false;         // a .gnu.mutable section
  std::size_t load_segments = 0;        // PT_LOAD
  std::uint64_t load_span_bytes = 0;    // lowest PT_LOAD page to highest, what `sealkit run` seals
  std::uint64_t mutable_bytes = 0;      // of which left unsealed too (PT_GNU_MUTABLE and mutable sections, page-rounded)
  std::vector<ElfMutableSection> mutable_sections;  // page-aligned writable sections (core/mutable_sections.hpp)
  std::uint64_t unsealed_bytes = 0;     // what `sealkit run` leaves: mutable pages and W|X segments, counted once
  std::vector<ElfSegment> segments;     // every program header, in file order (`sealkit audit` maps them)
};

// Reads the file at `path`. nullopt with `error` set when it is not a
// readable ELF file or is malformed.
std::optional<ElfFacts> read_elf_file(const char* path, std::string& error);

// The same from an open file descriptor (not closed; its offset is not
// relied upon): lets a caller fstat() the very file it reads.
std::optional<ElfFacts> read_elf_fd(int fd, std::string& error);

// The same from bytes in memory (the fuzz target's entry point).
std::optional<ElfFacts> read_elf_bytes(const void* data, std::size_t size, std::string& error);

const char* to_string(ElfFacts::Kind k);
const char* to_string(ElfFacts::Relro r);
const char* to_string(ElfFacts::ExecStack s);

}  // namespace sealkit::audit
