#include "runtime/elf_image.hpp"

#include <elf.h>

#include "runtime/native_elf.hpp"

#include "core/page.hpp"
#include "runtime/sys.hpp"

namespace sealkit::rt {

namespace {

constexpr std::uint32_t kGnuPropertyMemorySeal = 3;  // binutils 2.44 / glibc 2.41
constexpr std::uint32_t kNtGnuPropertyType0 = 5;
using sys::kPage;

// Walks the NT_GNU_PROPERTY_TYPE_0 notes of [p, p + n) (8-byte aligned on
// 64-bit objects); any inconsistency ends the walk with "absent". ld.so has
// read the same bytes from memory already (x86's CET markings live there).
bool find_memory_seal_property(const unsigned char* p, std::uint64_t n) {
  std::uint64_t off = 0;
  while (n - off >= 12) {
    std::uint32_t namesz, descsz, type;
    __builtin_memcpy(&namesz, p + off, 4);
    __builtin_memcpy(&descsz, p + off + 4, 4);
    __builtin_memcpy(&type, p + off + 8, 4);
    const std::uint64_t desc = off + 12 + ((std::uint64_t{namesz} + 3) & ~std::uint64_t{3});
    if (desc > n || descsz > n - desc) return false;
    if (type == kNtGnuPropertyType0 && namesz == 4 && __builtin_memcmp(p + off + 12, "GNU", 4) == 0) {
      for (std::uint64_t q = 0; descsz - q >= 8 && q < descsz;) {
        std::uint32_t pr_type, pr_size;
        __builtin_memcpy(&pr_type, p + desc + q, 4);
        __builtin_memcpy(&pr_size, p + desc + q + 4, 4);
        if (pr_type == kGnuPropertyMemorySeal) return true;
        const std::uint64_t step = 8 + ((std::uint64_t{pr_size} + 7) & ~std::uint64_t{7});
        if (step > descsz - q) break;
        q += step;
      }
    }
    off = (desc + descsz + 7) & ~std::uint64_t{7};
  }
  return false;
}

// GNU_PROPERTY_MEMORY_SEAL from PT_GNU_PROPERTY, read in memory only when it
// lies inside a readable PT_LOAD segment's file bytes, and only once the
// header has been checked against the load address (the callers below).
bool memory_seal_property(std::uintptr_t bias, const NativePhdr* ph, std::size_t phnum) {
  const NativePhdr* property = nullptr;
  for (std::size_t i = 0; i < phnum && property == nullptr; ++i)
    if (ph[i].p_type == PT_GNU_PROPERTY) property = &ph[i];
  for (std::size_t i = 0; property != nullptr && i < phnum; ++i) {
    const NativePhdr& l = ph[i];
    if (l.p_type != PT_LOAD || (l.p_flags & PF_R) == 0 || property->p_vaddr < l.p_vaddr ||
        property->p_memsz > l.p_filesz || property->p_vaddr - l.p_vaddr > l.p_filesz - property->p_memsz)
      continue;
    return find_memory_seal_property(reinterpret_cast<const unsigned char*>(bias + property->p_vaddr),
                                     property->p_memsz);
  }
  return false;
}

// The layers of read_image, each reached only from the one above it:
//   loaded object -> its ELF header, found in the maps below its dynamic section
//   header in the maps -> how far the header's memory is readable
//   header in readable memory -> its program headers, checked
//   program headers -> the image (core/object_layout.hpp)

// Segments, mutable ranges and the dynamic section from program headers: the
// library's reading (core/object_layout.hpp).
ImageError layout_from_phdrs(std::uintptr_t bias, const NativePhdr* ph, std::size_t phnum, ElfImage& out) {
  out.bias = bias;
  out.memory_seal_property = false;
  switch (core::read_object_layout<NativeEhdr>(bias, ph, phnum, kPage, out)) {
    case core::LayoutError::kNone: return ImageError::kNone;
    case core::LayoutError::kNoLoad: return ImageError::kBadHeader;
    case core::LayoutError::kTooMany: return ImageError::kTooManySegments;
  }
  return ImageError::kBadHeader;
}

// The program headers of the ELF header at `ehdr_addr`, checked to lie in
// [ehdr_addr, readable_end).
ImageError phdrs_of_header(std::uintptr_t ehdr_addr, std::uintptr_t readable_end, const NativePhdr*& ph,
                           std::size_t& phnum) {
  if (readable_end <= ehdr_addr) return ImageError::kNoHeader;
  const std::uintptr_t room = readable_end - ehdr_addr;
  if (room < sizeof(NativeEhdr)) return ImageError::kBadHeader;
  const auto* eh = reinterpret_cast<const NativeEhdr*>(ehdr_addr);
  if (eh->e_ident[EI_MAG0] != ELFMAG0 || eh->e_ident[EI_MAG1] != ELFMAG1 || eh->e_ident[EI_MAG2] != ELFMAG2 ||
      eh->e_ident[EI_MAG3] != ELFMAG3 || eh->e_ident[EI_CLASS] != kNativeElfClass ||
      eh->e_phentsize != sizeof(NativePhdr) || eh->e_phnum == 0 || eh->e_phnum == PN_XNUM)
    return ImageError::kBadHeader;
  const std::uint64_t ph_bytes = std::uint64_t{eh->e_phnum} * sizeof(NativePhdr);
  if (eh->e_phoff > room || ph_bytes > room - eh->e_phoff) return ImageError::kBadHeader;
  ph = reinterpret_cast<const NativePhdr*>(ehdr_addr + eh->e_phoff);
  phnum = eh->e_phnum;
  return ImageError::kNone;
}

// How far the memory of the ELF header at `ehdr_addr` is readable, by the maps.
ImageError readable_end_of_header(const MapsSnapshot& maps, std::uintptr_t ehdr_addr, std::uintptr_t& end) {
  const core::MapsEntry* m = maps.find(ehdr_addr);
  if (!m) return ImageError::kNoMapping;
  if (!m->read) return ImageError::kNoHeader;
  end = m->range.end;
  return ImageError::kNone;
}

// The ELF header of the object whose dynamic section is at `dynamic`: the
// nearest mapping at or below it that maps the same file from offset 0 (the
// first PT_LOAD starts there).
ImageError header_below_dynamic(const MapsSnapshot& maps, std::uintptr_t dynamic, std::uintptr_t& ehdr_addr) {
  const core::MapsEntry* dyn = maps.find(dynamic);
  if (!dyn) return ImageError::kNoMapping;
  if (dyn->inode == 0) return ImageError::kNotFileBacked;
  for (const core::MapsEntry* e = dyn;; --e) {
    if (e->inode == dyn->inode && e->dev_major == dyn->dev_major && e->dev_minor == dyn->dev_minor &&
        e->offset == 0) {
      ehdr_addr = e->range.begin;
      return ImageError::kNone;
    }
    if (e == maps.begin()) break;
  }
  return ImageError::kNoHeader;
}

}  // namespace

ImageError read_image(const ImageSource& src, ElfImage& out) {
  const NativePhdr* ph = nullptr;
  std::size_t phnum = 0;
  std::uintptr_t ehdr_addr = 0;
  const bool with_header = src.kind_ != ImageSource::Kind::kPhdrs;
  if (!with_header) {
    if (src.at_ == 0 || src.extent_ == 0 || src.extent_ >= PN_XNUM || src.at_ % alignof(NativePhdr) != 0)
      return ImageError::kBadHeader;
    ph = reinterpret_cast<const NativePhdr*>(src.at_);
    phnum = src.extent_;
  } else {
    std::uintptr_t readable_end = src.extent_;
    ehdr_addr = src.at_;
    ImageError e = ImageError::kNone;
    if (src.kind_ == ImageSource::Kind::kLoaded) e = header_below_dynamic(*src.maps_, src.at_, ehdr_addr);
    if (e == ImageError::kNone && src.kind_ != ImageSource::Kind::kHeader)
      e = readable_end_of_header(*src.maps_, ehdr_addr, readable_end);
    if (e == ImageError::kNone) e = phdrs_of_header(ehdr_addr, readable_end, ph, phnum);
    if (e != ImageError::kNone) return e;
  }
  const ImageError e = layout_from_phdrs(src.bias_, ph, phnum, out);
  if (e != ImageError::kNone) return e;
  // A header must lie in the object's own first segment: otherwise the bias
  // and the header disagree, and sealing would hit the wrong memory.
  if (with_header && !out.segments[0].contains(ehdr_addr)) return ImageError::kInconsistent;
  out.memory_seal_property = memory_seal_property(src.bias_, ph, phnum);
  return ImageError::kNone;
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
