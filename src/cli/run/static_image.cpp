#include "cli/run/static_image.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "audit/elf_file.hpp"
#include "core/object_layout.hpp"
#include "core/page.hpp"
#include "core/proc_maps.hpp"

namespace sealkit::cli::run_static {

namespace {

constexpr std::size_t kPage = 4096;
constexpr std::size_t kMaxPhnum = 256;
constexpr std::size_t kMaxNoteBytes = 4096;

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

bool read_exact(int fd, void* buf, std::size_t n, std::uint64_t off) {
  return ::pread(fd, buf, n, static_cast<off_t>(off)) == static_cast<ssize_t>(n);
}

unsigned prot_of(std::uint32_t p_flags) {
  return ((p_flags & PF_R) ? PROT_READ : 0u) | ((p_flags & PF_W) ? PROT_WRITE : 0u) |
         ((p_flags & PF_X) ? PROT_EXEC : 0u);
}

// [bias + vaddr, bias + vaddr + memsz) rounded out to pages; nullopt on wrap.
std::optional<core::Range> rounded_out(std::uintptr_t bias, std::uint64_t vaddr, std::uint64_t memsz) {
  std::uintptr_t begin;
  if (__builtin_add_overflow(bias, vaddr, &begin)) return std::nullopt;
  auto span = core::page_span(begin, memsz, kPage);
  if (!span) return std::nullopt;
  return core::Range{span->start, span->end};
}

// Whether a PT_NOTE holds NT_GNU_ABI_TAG with the name "GNU".
bool has_gnu_abi_tag(int fd, const Elf64_Phdr& ph) {
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(ph.p_filesz, kMaxNoteBytes));
  std::vector<unsigned char> buf(n);
  if (n == 0 || !read_exact(fd, buf.data(), n, ph.p_offset)) return false;
  const std::size_t align = ph.p_align == 8 ? 8 : 4;
  std::size_t at = 0;
  while (at + sizeof(Elf64_Nhdr) <= n) {
    Elf64_Nhdr nh;
    std::memcpy(&nh, buf.data() + at, sizeof nh);
    at += sizeof nh;
    const std::size_t name_len = (static_cast<std::size_t>(nh.n_namesz) + align - 1) / align * align;
    const std::size_t desc_len = (static_cast<std::size_t>(nh.n_descsz) + align - 1) / align * align;
    if (name_len > n - at || desc_len > n - at - name_len) return false;
    if (nh.n_type == NT_GNU_ABI_TAG && nh.n_namesz == 4 && std::memcmp(buf.data() + at, "GNU", 4) == 0) return true;
    at += name_len + desc_len;
  }
  return false;
}

struct Auxv {
  std::uint64_t phdr = 0, phnum = 0, entry = 0;
};

bool read_auxv(pid_t pid, Auxv& a, std::string& why) {
  const std::string path = "/proc/" + std::to_string(pid) + "/auxv";
  auto text = core::read_proc_file(path.c_str(), 64 * 1024);
  if (!text) {
    why = "cannot read " + path + ": " + std::strerror(errno);
    return false;
  }
  for (std::size_t i = 0; i + 16 <= text->size(); i += 16) {
    std::uint64_t type, value;
    std::memcpy(&type, text->data() + i, 8);
    std::memcpy(&value, text->data() + i + 8, 8);
    if (type == AT_NULL) break;
    if (type == AT_PHDR) a.phdr = value;
    if (type == AT_PHNUM) a.phnum = value;
    if (type == AT_ENTRY) a.entry = value;
  }
  if (a.phdr == 0 || a.phnum == 0 || a.entry == 0) {
    why = path + " lacks AT_PHDR, AT_PHNUM or AT_ENTRY";
    return false;
  }
  return true;
}

}  // namespace

bool read_static_image(pid_t pid, StaticImage& img, std::string& why) {
  const std::string exe = "/proc/" + std::to_string(pid) + "/exe";
  Fd f{::open(exe.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) {
    why = "cannot open " + exe + ": " + std::strerror(errno);
    return false;
  }
  Elf64_Ehdr eh;
  if (!read_exact(f.fd, &eh, sizeof eh, 0) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64 ||
      (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) || eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
      eh.e_phnum > kMaxPhnum) {
    why = "the program is not a 64-bit x86-64 ELF executable sealkit can read";
    return false;
  }
  std::vector<Elf64_Phdr> ph(eh.e_phnum);
  if (!read_exact(f.fd, ph.data(), ph.size() * sizeof(Elf64_Phdr), eh.e_phoff)) {
    why = "cannot read the program headers of " + exe;
    return false;
  }
  Auxv aux;
  if (!read_auxv(pid, aux, why)) return false;
  if (aux.phnum != eh.e_phnum) {
    why = "AT_PHNUM differs from the file's e_phnum";
    return false;
  }
  img.bias = static_cast<std::uintptr_t>(aux.entry - eh.e_entry);
  if ((eh.e_type == ET_EXEC && img.bias != 0) || img.bias % kPage != 0) {
    why = "AT_ENTRY does not match the file's entry point";
    return false;
  }
  // The headers the kernel loaded from, in the new image: the file's, or the
  // file is not what was executed.
  std::vector<Elf64_Phdr> mem(ph.size());
  iovec local{mem.data(), mem.size() * sizeof(Elf64_Phdr)};
  iovec remote{reinterpret_cast<void*>(static_cast<std::uintptr_t>(aux.phdr)), local.iov_len};
  if (::process_vm_readv(pid, &local, 1, &remote, 1, 0) != static_cast<ssize_t>(local.iov_len) ||
      std::memcmp(mem.data(), ph.data(), local.iov_len) != 0) {
    why = "the program headers at AT_PHDR are not those of " + exe;
    return false;
  }

  for (const Elf64_Phdr& h : ph) {
    if (h.p_type == PT_LOAD && h.p_memsz != 0) {
      auto r = rounded_out(img.bias, h.p_vaddr, h.p_memsz);
      if (!r) {
        why = "a PT_LOAD segment wraps around the address space";
        return false;
      }
      img.segments.push_back(*r);
      img.prot.push_back(prot_of(h.p_flags));
    } else if (h.p_type == PT_GNU_RELRO && h.p_memsz != 0) {
      std::uintptr_t b, e;
      if (__builtin_add_overflow(img.bias, h.p_vaddr, &b) || __builtin_add_overflow(b, h.p_memsz, &e)) {
        why = "PT_GNU_RELRO wraps around the address space";
        return false;
      }
      img.relro = {core::page_down(b, kPage), core::page_down(e, kPage)};
    } else if (h.p_type == core::kPtGnuMutable && h.p_memsz != 0) {
      auto r = rounded_out(img.bias, h.p_vaddr, h.p_memsz);
      if (!r) {
        why = "PT_GNU_MUTABLE wraps around the address space";
        return false;
      }
      img.keep_mutable.push_back(*r);
    } else if (h.p_type == PT_NOTE && !img.glibc_start) {
      img.glibc_start = has_gnu_abi_tag(f.fd, h);
    }
  }
  if (img.segments.empty()) {
    why = "the program has no PT_LOAD segment";
    return false;
  }
  // Sorted together, so that the planner sees segments in address order.
  std::vector<std::size_t> order(img.segments.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return img.segments[a].begin < img.segments[b].begin; });
  std::vector<core::Range> segs;
  std::vector<unsigned> prots;
  for (std::size_t i : order) {
    segs.push_back(img.segments[i]);
    prots.push_back(img.prot[i]);
  }
  img.segments = std::move(segs);
  img.prot = std::move(prots);

  // Mutable sections (core/mutable_sections.hpp), from the same file.
  std::string error;
  auto facts = audit::read_elf_fd(f.fd, error);
  if (!facts) {
    why = exe + ": " + error;
    return false;
  }
  for (const audit::ElfMutableSection& m : facts->mutable_sections) {
    std::uintptr_t b, e;
    if (m.page_end <= m.page_begin || __builtin_add_overflow(img.bias, m.page_begin, &b) ||
        __builtin_add_overflow(img.bias, m.page_end, &e))
      continue;
    img.keep_mutable.push_back({b, e});
  }
  std::sort(img.keep_mutable.begin(), img.keep_mutable.end(),
            [](const core::Range& a, const core::Range& b) { return a.begin < b.begin; });
  return true;
}

}  // namespace sealkit::cli::run_static
