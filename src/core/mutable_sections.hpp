// Which sections of an ELF object stay unsealed because the program changes
// their protection itself. Header-only and allocation-free: the injected
// runtime (runtime/mutable_sections.cpp) and the file reader behind
// `sealkit check` and `sealkit audit` (audit/elf_file.cpp) share it.
//
// Programs write-protect parts of their own data after start-up: V8 makes
// its flags read-only once they are parsed (a page-aligned variable in
// .data), Chromium's protected_memory section goes read-only, read-write for
// a moment to change a value, and read-only again, in every process. To own
// whole pages for that, the data is aligned to a page, and that alignment is
// what the section table shows: the section holding it gets sh_addralign of
// a page or more. Sealed, those pages refuse the mprotect and the program
// dies (V8: "Failed to protect data memory"). mseal has no "may still lose
// permissions" state, as OpenBSD's immutable mappings once had, and the
// explicit marker (PT_GNU_MUTABLE, honoured from the program headers; OpenBSD's
// .openbsd.mutable) is not emitted by programs built for Linux.
//
// The rule: an allocated, writable, not executable, non-TLS, non-empty section aligned to at
// least a page is kept mutable, rounded out to pages, as PT_GNU_MUTABLE is.
// Without a symbol table (Debian strips them) the section is the smallest
// unit that shows where such data lies, so all of it stays unsealed; the rest
// of the object (text, read-only data, RELRO with its GOT and vtables, and
// every data section that is not page-aligned) is sealed. `sealkit check`
// names the sections an object keeps this way.
//
// The section table is not loaded into memory and is read from the file: it
// is trusted only as far as the program headers in memory allow. A kept
// section must lie inside a writable PT_LOAD segment and outside RELRO, so a
// forged, stale or mismatched table can leave no text, read-only data or
// RELRO unsealed (clip_to_writable_data).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/range.hpp"

namespace sealkit::core {

// SHF_WRITE, SHF_ALLOC, SHF_TLS (elf.h): spelled here so that this header
// needs no system header in the freestanding runtime's 32-bit build.
inline constexpr std::uint64_t kShfWrite = 0x1, kShfAlloc = 0x2, kShfExecinstr = 0x4, kShfTls = 0x400;

// Everything of a section header the rule looks at.
struct SectionShape {
  std::uint64_t flags = 0;
  std::uint64_t addr = 0;
  std::uint64_t size = 0;
  std::uint64_t addralign = 0;
};

// A TLS section's address is only its initialisation image's: each thread's
// copy lives elsewhere, and the image is never written. A writable and
// executable section is the W|X case, left unsealed by its segment's
// protection (docs/runtime.md, "Protections"), not by this rule.
constexpr bool is_mutable_section(const SectionShape& s, std::uint64_t page) {
  return (s.flags & (kShfAlloc | kShfWrite | kShfExecinstr | kShfTls)) == (kShfAlloc | kShfWrite) && s.size != 0 &&
         s.addralign >= page && s.addr % page == 0;
}

// The section's pages, [addr, addr + size) rounded out, moved by `bias`;
// empty when that wraps.
inline Range mutable_pages(const SectionShape& s, std::uintptr_t bias, std::uint64_t page) {
  std::uintptr_t begin, end;
  if (__builtin_add_overflow(bias, s.addr, &begin) || __builtin_add_overflow(begin, s.size, &end) ||
      __builtin_add_overflow(end, page - 1, &end))
    return {};
  const std::uintptr_t mask = ~static_cast<std::uintptr_t>(page - 1);
  return {begin & mask, end & mask};
}

// `r` cut to its part inside one writable segment and outside `relro`; empty
// when none of it is. `segments` are page-rounded; `writable(i)` says
// whether segment i is.
template <class IsWritable>
Range clip_to_writable_data(Range r, const Range* segments, std::size_t n, IsWritable&& writable, Range relro) {
  for (std::size_t i = 0; i < n; ++i) {
    if (!writable(i) || r.begin < segments[i].begin || r.begin >= segments[i].end) continue;
    Range out{r.begin, r.end < segments[i].end ? r.end : segments[i].end};
    if (!relro.empty() && out.begin < relro.end && relro.begin < out.end) {
      if (out.begin >= relro.begin) out.begin = relro.end;  // starts inside RELRO: keep what follows it
      else out.end = relro.begin;                           // RELRO inside or after: keep what precedes it
    }
    return out.begin < out.end ? out : Range{};
  }
  return {};
}

// Reads a section table of `shnum` headers of type Shdr (Elf64_Shdr or
// Elf32_Shdr) at file offset `shoff` through read_at(offset, buf, bytes),
// which returns whether it read all of them, a few at a time on the stack,
// and calls found(shape) for each mutable section. false when a read fails:
// the caller then keeps nothing.
template <class Shdr, class ReadAt, class Found>
bool for_each_mutable_section(std::uint64_t shoff, std::size_t shnum, std::uint64_t page, ReadAt&& read_at,
                              Found&& found) {
  // 4 KiB of Elf64_Shdr on the stack (the runtime runs on the program's
  // threads): one read for most objects (libc has 66 sections, Chromium 38).
  constexpr std::size_t kChunk = 64;
  Shdr sh[kChunk];
  for (std::size_t first = 0; first < shnum; first += kChunk) {
    const std::size_t n = shnum - first < kChunk ? shnum - first : kChunk;
    if (!read_at(shoff + first * sizeof(Shdr), sh, n * sizeof(Shdr))) return false;
    for (std::size_t i = 0; i < n; ++i) {
      const SectionShape shape{sh[i].sh_flags, sh[i].sh_addr, sh[i].sh_size, sh[i].sh_addralign};
      if (is_mutable_section(shape, page)) found(shape);
    }
  }
  return true;
}

}  // namespace sealkit::core
