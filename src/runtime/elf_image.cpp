#include "runtime/elf_image.hpp"

#include <elf.h>

#include "core/page.hpp"

namespace sealkit::rt {

namespace {

constexpr std::uint32_t kPtGnuMutable = 0x6474f555;  // binutils/glibc: a range to keep unsealed
constexpr std::size_t kPage = 4096;                    // x86_64 and the aarch64 kernels we seal on use 4K

// Insertion sort: at most kMaxRanges entries.
void sort_ranges(core::Range* r, std::size_t n) {
  for (std::size_t i = 1; i < n; ++i) {
    core::Range x = r[i];
    std::size_t j = i;
    for (; j > 0 && r[j - 1].begin > x.begin; --j) r[j] = r[j - 1];
    r[j] = x;
  }
}

bool add_range(core::Range* arr, std::size_t& n, std::uintptr_t bias, std::uint64_t vaddr, std::uint64_t memsz) {
  std::uintptr_t start;
  if (__builtin_add_overflow(bias, vaddr, &start)) return false;
  auto span = core::page_span(start, memsz, kPage);
  if (!span) return false;
  if (n == ElfImage::kMaxRanges) return false;
  arr[n++] = {span->start, span->end};
  return true;
}

// Segments, mutable ranges and the dynamic section from program headers.
ImageError image_from_phdrs(std::uintptr_t bias, const Elf64_Phdr* ph, std::size_t phnum, ElfImage& out) {
  out.nseg = out.nmut = 0;
  out.dynamic = 0;
  for (std::size_t i = 0; i < phnum; ++i) {
    if (ph[i].p_type == PT_LOAD && ph[i].p_memsz != 0) {
      if (!add_range(out.segments, out.nseg, bias, ph[i].p_vaddr, ph[i].p_memsz)) return ImageError::kTooManySegments;
    } else if (ph[i].p_type == kPtGnuMutable && ph[i].p_memsz != 0) {
      if (!add_range(out.keep_mutable, out.nmut, bias, ph[i].p_vaddr, ph[i].p_memsz)) return ImageError::kTooManySegments;
    } else if (ph[i].p_type == PT_DYNAMIC) {
      out.dynamic = bias + ph[i].p_vaddr;  // wraps like ld.so's own l_ld computation; only compared
    }
  }
  if (out.nseg == 0) return ImageError::kBadHeader;
  sort_ranges(out.segments, out.nseg);
  sort_ranges(out.keep_mutable, out.nmut);
  return ImageError::kNone;
}

}  // namespace

ImageError read_image_in(std::uintptr_t bias, std::uintptr_t ehdr_addr, std::uintptr_t readable_end, ElfImage& out) {
  if (readable_end <= ehdr_addr) return ImageError::kNoHeader;
  const std::uintptr_t room = readable_end - ehdr_addr;
  if (room < sizeof(Elf64_Ehdr)) return ImageError::kBadHeader;
  const auto* eh = reinterpret_cast<const Elf64_Ehdr*>(ehdr_addr);
  if (eh->e_ident[EI_MAG0] != ELFMAG0 || eh->e_ident[EI_MAG1] != ELFMAG1 || eh->e_ident[EI_MAG2] != ELFMAG2 ||
      eh->e_ident[EI_MAG3] != ELFMAG3 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
      eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 || eh->e_phnum == PN_XNUM)
    return ImageError::kBadHeader;
  const std::uint64_t ph_bytes = std::uint64_t{eh->e_phnum} * sizeof(Elf64_Phdr);
  if (eh->e_phoff > room || ph_bytes > room - eh->e_phoff) return ImageError::kBadHeader;
  const auto* ph = reinterpret_cast<const Elf64_Phdr*>(ehdr_addr + eh->e_phoff);
  const ImageError e = image_from_phdrs(bias, ph, eh->e_phnum, out);
  if (e != ImageError::kNone) return e;
  // The header must lie in the object's own first segment: otherwise the bias
  // and the header disagree, and sealing would hit the wrong memory.
  if (!out.segments[0].contains(ehdr_addr)) return ImageError::kInconsistent;
  return ImageError::kNone;
}

ImageError read_image_from_phdrs(std::uintptr_t bias, std::uintptr_t phdr, std::size_t phnum, ElfImage& out) {
  if (phdr == 0 || phnum == 0 || phnum >= PN_XNUM || phdr % alignof(Elf64_Phdr) != 0) return ImageError::kBadHeader;
  return image_from_phdrs(bias, reinterpret_cast<const Elf64_Phdr*>(phdr), phnum, out);
}

ImageError read_image_at(const MapsSnapshot& maps, std::uintptr_t bias, std::uintptr_t ehdr_addr, ElfImage& out) {
  const core::MapsEntry* m = maps.find(ehdr_addr);
  if (!m) return ImageError::kNoMapping;
  if (!m->read) return ImageError::kNoHeader;
  return read_image_in(bias, ehdr_addr, m->range.end, out);
}

ImageError read_loaded_image(const MapsSnapshot& maps, std::uintptr_t bias, std::uintptr_t dynamic, ElfImage& out) {
  const core::MapsEntry* dyn = maps.find(dynamic);
  if (!dyn) return ImageError::kNoMapping;
  if (dyn->inode == 0) return ImageError::kNotFileBacked;
  // The nearest mapping at or below the dynamic section that maps the same
  // file from offset 0 holds the ELF header (the first PT_LOAD starts there).
  const core::MapsEntry* head = nullptr;
  for (const core::MapsEntry* e = dyn;; --e) {
    if (e->inode == dyn->inode && e->dev_major == dyn->dev_major && e->dev_minor == dyn->dev_minor &&
        e->offset == 0) {
      head = e;
      break;
    }
    if (e == maps.begin()) break;
  }
  if (!head) return ImageError::kNoHeader;
  return read_image_at(maps, bias, head->range.begin, out);
}

const char* describe(ImageError e) {
  switch (e) {
    case ImageError::kNone: return "ok";
    case ImageError::kNoMapping: return "its address is not mapped";
    case ImageError::kNotFileBacked: return "not backed by a file";
    case ImageError::kNoHeader: return "no readable ELF header in memory";
    case ImageError::kBadHeader: return "malformed ELF header";
    case ImageError::kTooManySegments: return "too many segments";
    case ImageError::kInconsistent: return "header and load address disagree";
  }
  return "unknown";
}

}  // namespace sealkit::rt
