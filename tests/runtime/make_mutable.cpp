// Build-time tool: copies an ELF executable and turns one of its PT_NOTE
// program headers into a PT_GNU_MUTABLE segment covering the section
// sealkit_mutable, as `ld -z mutable`-era toolchains would emit it.
// (Notes are not needed to run a program; ld.so ignores both types.)
//
//   make_mutable IN OUT
#include <elf.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

constexpr std::uint32_t kPtGnuMutable = 0x6474f555;

int fail(const std::string& why) {
  std::fprintf(stderr, "make_mutable: %s\n", why.c_str());
  return 1;
}

template <class T>
bool at(const std::vector<char>& f, std::uint64_t off, T& out) {
  if (off > f.size() || sizeof(T) > f.size() - off) return false;
  std::memcpy(&out, f.data() + off, sizeof(T));
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return fail("usage: make_mutable IN OUT");
  std::ifstream in(argv[1], std::ios::binary);
  std::vector<char> f((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Elf64_Ehdr eh;
  if (!at(f, 0, eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64)
    return fail(std::string(argv[1]) + ": not a 64-bit ELF file");
  Elf64_Shdr strtab;
  if (!at(f, eh.e_shoff + std::uint64_t{eh.e_shstrndx} * sizeof(Elf64_Shdr), strtab)) return fail("no section names");
  Elf64_Shdr target{};
  bool found = false;
  for (unsigned i = 0; i < eh.e_shnum && !found; ++i) {
    Elf64_Shdr sh;
    if (!at(f, eh.e_shoff + std::uint64_t{i} * sizeof sh, sh)) return fail("truncated section headers");
    const std::uint64_t name = strtab.sh_offset + sh.sh_name;
    if (name < f.size() && std::strncmp(f.data() + name, "sealkit_mutable", f.size() - name) == 0) {
      target = sh;
      found = true;
    }
  }
  if (!found) return fail("no section sealkit_mutable");
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    const std::uint64_t off = eh.e_phoff + std::uint64_t{i} * sizeof(Elf64_Phdr);
    Elf64_Phdr ph;
    if (!at(f, off, ph)) return fail("truncated program headers");
    if (ph.p_type != PT_NOTE) continue;
    ph.p_type = kPtGnuMutable;
    ph.p_flags = PF_R | PF_W;
    ph.p_offset = target.sh_offset;
    ph.p_vaddr = ph.p_paddr = target.sh_addr;
    ph.p_filesz = ph.p_memsz = target.sh_size;
    ph.p_align = 1;
    std::memcpy(f.data() + off, &ph, sizeof ph);
    std::ofstream out(argv[2], std::ios::binary | std::ios::trunc);
    out.write(f.data(), static_cast<std::streamsize>(f.size()));
    return out ? 0 : fail(std::string("cannot write ") + argv[2]);
  }
  return fail("no PT_NOTE program header to turn into PT_GNU_MUTABLE");
}
