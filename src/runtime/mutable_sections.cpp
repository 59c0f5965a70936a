#include "runtime/mutable_sections.hpp"

#include "core/mutable_sections.hpp"
#include "runtime/native_elf.hpp"
#include "runtime/sys.hpp"

namespace sealkit::rt {

namespace {

using sys::kPage;  // the segments' pages (elf_image.cpp)

// Closes the descriptor on every path out.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) sys::close(fd);
  }
};

// The caller has checked that there is room.
void add_sorted(ElfImage& img, core::Range r) {
  std::size_t i = img.nmut++;
  for (; i > 0 && img.keep_mutable[i - 1].begin > r.begin; --i) img.keep_mutable[i] = img.keep_mutable[i - 1];
  img.keep_mutable[i] = r;
}

}  // namespace

std::size_t add_mutable_sections(const char* path, ElfImage& img) {
  if (img.header == 0 || path == nullptr) return 0;
  const auto* eh = reinterpret_cast<const NativeEhdr*>(img.header);
  if (eh->e_ident[EI_MAG0] != ELFMAG0 || eh->e_ident[EI_MAG1] != ELFMAG1 || eh->e_ident[EI_MAG2] != ELFMAG2 ||
      eh->e_ident[EI_MAG3] != ELFMAG3 || eh->e_ident[EI_CLASS] != kNativeElfClass)
    return 0;
  // e_shnum 0 is "none" or, past 0xff00 sections, "see section 0": no
  // loaded object has that many, and such an object is sealed whole.
  const std::size_t shnum = eh->e_shnum;
  if (eh->e_shoff == 0 || shnum == 0 || eh->e_shentsize != sizeof(NativeShdr)) return 0;

  auto writable = [&img](std::size_t i) { return (img.prot[i] & kProtWrite) != 0; };
  bool any_writable = false;
  for (std::size_t i = 0; i < img.nseg; ++i) any_writable |= writable(i);
  if (!any_writable) return 0;  // no section could be kept: no file to open

  // O_NONBLOCK: a FIFO put in a file's place cannot hang the process.
  Fd f{sys::open_read_nonblock(path[0] == '\0' ? "/proc/self/exe" : path)};
  if (f.fd < 0) return 0;

  core::Range found[ElfImage::kMaxRanges];
  std::size_t nfound = 0;
  bool full = false;
  auto read_at = [&f](std::uint64_t offset, void* buf, std::size_t bytes) {
    return sys::pread(f.fd, buf, bytes, offset) == static_cast<long>(bytes);
  };
  const bool read = core::for_each_mutable_section<NativeShdr>(
      eh->e_shoff, shnum, kPage, read_at, [&](const core::SectionShape& shape) {
        const core::Range pages = core::clip_to_writable_data(core::mutable_pages(shape, img.bias, kPage),
                                                              img.segments, img.nseg, writable, img.relro);
        if (pages.empty()) return;
        if (nfound == ElfImage::kMaxRanges) full = true;
        else found[nfound++] = pages;
      });
  if (!read || full) return 0;
  if (nfound > ElfImage::kMaxRanges - img.nmut) return 0;
  for (std::size_t i = 0; i < nfound; ++i) add_sorted(img, found[i]);
  return nfound;
}

}  // namespace sealkit::rt
