#include "cli/selftest/elf.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <dlfcn.h>
#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/page.hpp"

extern "C" const unsigned char sealkit_selftest_target_begin[];
extern "C" const unsigned char sealkit_selftest_target_end[];

namespace sealkit::cli::selftest {

namespace {

bool write_all(int fd, const unsigned char* p, std::size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

struct Search {
  std::uintptr_t text_symbol;    // an address inside the object's text
  std::uintptr_t rodata_symbol;  // inside its constant table
  bool found = false;
  ElfParts parts{};
};

bool contains(const core::Range& r, std::uintptr_t a) { return a >= r.begin && a < r.end; }

// Fills parts from the program headers of the object that holds
// text_symbol, rounding to pages the way ld.so maps and protects them.
int from_phdrs(dl_phdr_info* info, std::size_t, void* arg) {
  auto* s = static_cast<Search*>(arg);
  const std::size_t ps = core::page_size();
  auto segment = [&](const ElfW(Phdr) & ph, std::uint64_t size) {
    std::uintptr_t start = info->dlpi_addr + ph.p_vaddr;
    return core::Range{core::page_down(start, ps), core::page_up(start + size, ps).value_or(0)};
  };
  bool mine = false;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const auto& ph = info->dlpi_phdr[i];
    if (ph.p_type == PT_LOAD && contains(segment(ph, ph.p_memsz), s->text_symbol)) mine = true;
  }
  if (!mine) return 0;
  s->found = true;
  ElfParts& p = s->parts;
  const ElfW(Phdr)* rw = nullptr;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const auto& ph = info->dlpi_phdr[i];
    if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X)) {
      p.text = segment(ph, ph.p_memsz);
    } else if (ph.p_type == PT_LOAD && (ph.p_flags & PF_W)) {
      rw = &ph;
    } else if (ph.p_type == PT_LOAD && contains(segment(ph, ph.p_memsz), s->rodata_symbol)) {
      p.rodata = segment(ph, ph.p_memsz);
    } else if (ph.p_type == PT_GNU_RELRO) {
      // ld.so (_dl_protect_relro) rounds the end down: a partial last page
      // stays writable because it also holds data.
      std::uintptr_t start = info->dlpi_addr + ph.p_vaddr;
      p.relro = {core::page_down(start, ps), core::page_down(start + ph.p_memsz, ps)};
    }
  }
  if (rw != nullptr) {
    core::Range file_part = segment(*rw, rw->p_filesz);
    core::Range whole = segment(*rw, rw->p_memsz);
    std::uintptr_t data_start = contains(whole, p.relro.begin) ? p.relro.end : whole.begin;
    p.data = {data_start, file_part.end};
    p.bss = {file_part.end, whole.end};
  }
  return 1;
}

}  // namespace

int load_target_object(ElfParts& parts, Note& why) {
  const std::size_t size = static_cast<std::size_t>(sealkit_selftest_target_end - sealkit_selftest_target_begin);
  int fd = memfd_create("sealkit-selftest-target", MFD_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    why.set("memfd_create: %s", std::strerror(e));
    return e;
  }
  if (!write_all(fd, sealkit_selftest_target_begin, size)) {
    int e = errno ? errno : EIO;
    why.set("writing the embedded object to a memfd: %s", std::strerror(e));
    close(fd);
    return e;
  }
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  void* handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  close(fd);  // the loader's mappings keep the memfd alive
  if (handle == nullptr) {
    why.set("dlopen(%s): %s", path, dlerror());
    return ENOEXEC;
  }
  void* text_sym = dlsym(handle, "sealkit_target_text");
  void* rodata_sym = dlsym(handle, "sealkit_target_rodata");
  void* relro_sym = dlsym(handle, "sealkit_target_relro");
  void* data_sym = dlsym(handle, "sealkit_target_data");
  void* bss_sym = dlsym(handle, "sealkit_target_bss");
  if (!text_sym || !rodata_sym || !relro_sym || !data_sym || !bss_sym) {
    why.set("the embedded object lacks an expected symbol");
    return ENOENT;
  }
  Search s{reinterpret_cast<std::uintptr_t>(text_sym), reinterpret_cast<std::uintptr_t>(rodata_sym)};
  dl_iterate_phdr(from_phdrs, &s);
  if (!s.found) {
    why.set("dl_iterate_phdr does not list the loaded object");
    return ENOENT;
  }
  // Each part must be where its symbol is, and at least two pages long.
  const std::size_t two_pages = 2 * core::page_size();
  const ElfParts& p = s.parts;
  struct Check {
    const char* name;
    core::Range range;
    void* symbol;
  } checks[] = {{"text", p.text, text_sym},
                {"rodata", p.rodata, rodata_sym},
                {"RELRO", p.relro, relro_sym},
                {"data", p.data, data_sym},
                {"bss", p.bss, nullptr}};
  for (const Check& c : checks) {
    if (c.range.size() < two_pages || (c.symbol && !contains(c.range, reinterpret_cast<std::uintptr_t>(c.symbol)))) {
      why.set("the embedded object's %s part [%#lx, %#lx) is not as built (under two pages or misplaced)", c.name,
              static_cast<unsigned long>(c.range.begin), static_cast<unsigned long>(c.range.end));
      return ENOEXEC;
    }
  }
  // bss starts inside the data part's last page; its anonymous pages follow.
  if (reinterpret_cast<std::uintptr_t>(bss_sym) >= p.bss.end) {
    why.set("the embedded object's bss symbol lies past its anonymous pages");
    return ENOEXEC;
  }
  parts = p;
  return 0;
}

}  // namespace sealkit::cli::selftest
