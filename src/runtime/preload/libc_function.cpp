// Written by hand: a symbol table read without the loader is what dlsym
// would do, and dlsym is the function this is for.
#include "runtime/preload/libc_function.hpp"

#include <dlfcn.h>
#include <link.h>

#include <cstdint>

#include "runtime/native_elf.hpp"
#include "runtime/preload/dynamic_info.hpp"

namespace sealkit::rt::preload {

namespace {

using NativeSym = ElfW(Sym);

// libc's tables as its dynamic section gives them, in its memory.
struct Tables {
  const NativeSym* symtab = nullptr;
  const char* strtab = nullptr;
  std::uint64_t strsz = 0;
  const std::uint32_t* gnu_hash = nullptr;
  const std::uint16_t* versym = nullptr;
  std::uintptr_t bias = 0;
  ReadableRanges readable;
};

// x86_64's ld.so relocates the address entries of a writable dynamic section
// in place; other ports leave link-time addresses (as dynamic_info.cpp).
std::uintptr_t address(const Tables& t, std::uintptr_t p) {
  return t.readable.room(p) != 0 ? p : p + t.bias;
}

// The string helpers by hand too: a sanitizer intercepts libc's.
bool same(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) ++a, ++b;
  return *a == *b;
}

const char* last_part(const char* path) {
  const char* last = path;
  for (const char* c = path; *c; ++c)
    if (*c == '/') last = c + 1;
  return last;
}

std::uint32_t gnu_hash_of(const char* name) {
  std::uint32_t h = 5381;
  for (const unsigned char* c = reinterpret_cast<const unsigned char*>(name); *c; ++c) h = h * 33 + *c;
  return h;
}

// libc's tables, from its link map: the first object of the base namespace
// loaded as libc.so.6 (the one every other object's libc symbols bind to).
// Its program headers follow its ELF header, which its first segment maps at
// its load address (as for every object the toolchain links with its first
// segment at 0; anything else is not taken for libc). Read from ld.so's list,
// not with dl_iterate_phdr: the first dlsym may come from a sanitizer's
// runtime before it has set up its own interceptor of dl_iterate_phdr, which
// this object's call would reach.
bool find_libc(Tables& t) {
  for (const link_map* l = _r_debug.r_map; l != nullptr; l = l->l_next) {
    if (l->l_addr == 0 || l->l_name == nullptr) continue;  // the program (not libc), or a nameless entry
    if (!same(last_part(l->l_name), "libc.so.6")) continue;  // the first one only: returns below
    const auto* eh = reinterpret_cast<const NativeEhdr*>(l->l_addr);
    if (eh->e_ident[EI_MAG0] != ELFMAG0 || eh->e_ident[EI_MAG1] != ELFMAG1 || eh->e_ident[EI_MAG2] != ELFMAG2 ||
        eh->e_ident[EI_MAG3] != ELFMAG3 || eh->e_ident[EI_CLASS] != kNativeElfClass ||
        eh->e_phentsize != sizeof(NativePhdr) || eh->e_phnum == 0 ||
        eh->e_phoff + eh->e_phnum * sizeof(NativePhdr) > 4096)  // in the header's page
      return false;
    const auto* ph = reinterpret_cast<const NativePhdr*>(l->l_addr + eh->e_phoff);
    for (unsigned i = 0; i < eh->e_phnum; ++i) {
      const std::uintptr_t begin = l->l_addr + ph[i].p_vaddr;
      if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_R) != 0 && ph[i].p_filesz != 0 &&
          t.readable.n < ReadableRanges::kMax)
        t.readable.r[t.readable.n++] = {begin, begin + ph[i].p_filesz};
    }
    // The header itself must lie in what the headers say is mapped.
    if (!t.readable.contains(l->l_addr, sizeof(NativeEhdr))) return false;
    t.bias = l->l_addr;
    const auto dynamic = reinterpret_cast<std::uintptr_t>(l->l_ld);
    const std::size_t n = t.readable.room(dynamic) / sizeof(NativeDyn);
    const auto* d = reinterpret_cast<const NativeDyn*>(dynamic);
    std::uintptr_t symtab = 0, strtab = 0, gnu_hash = 0, versym = 0;
    for (std::size_t i = 0; i < n && d[i].d_tag != DT_NULL; ++i) {
      switch (d[i].d_tag) {
        case DT_SYMTAB: symtab = d[i].d_un.d_ptr; break;
        case DT_STRTAB: strtab = d[i].d_un.d_ptr; break;
        case DT_STRSZ: t.strsz = d[i].d_un.d_val; break;
        case DT_GNU_HASH: gnu_hash = d[i].d_un.d_ptr; break;
        case DT_VERSYM: versym = d[i].d_un.d_ptr; break;
        default: break;
      }
    }
    if (symtab == 0 || strtab == 0 || gnu_hash == 0 || t.strsz == 0) return false;
    t.symtab = reinterpret_cast<const NativeSym*>(address(t, symtab));
    t.strtab = reinterpret_cast<const char*>(address(t, strtab));
    t.gnu_hash = reinterpret_cast<const std::uint32_t*>(address(t, gnu_hash));
    t.versym = versym ? reinterpret_cast<const std::uint16_t*>(address(t, versym)) : nullptr;
    return t.readable.contains(reinterpret_cast<std::uintptr_t>(t.strtab), t.strsz) &&
           t.readable.room(reinterpret_cast<std::uintptr_t>(t.gnu_hash)) >= 16;
  }
  return false;
}

bool readable(const Tables& t, const void* p, std::size_t len) {
  return t.readable.contains(reinterpret_cast<std::uintptr_t>(p), len);
}

}  // namespace

void* libc_function(const char* name) {
  Tables t;
  if (!find_libc(t)) return nullptr;
  // DT_GNU_HASH: nbuckets, symoffset, bloom words, bloom shift; the bloom
  // filter; the buckets; one chain word per symbol from symoffset on.
  const std::uint32_t nbuckets = t.gnu_hash[0], symoffset = t.gnu_hash[1], bloom_words = t.gnu_hash[2];
  if (nbuckets == 0) return nullptr;
  const auto* buckets = reinterpret_cast<const std::uint32_t*>(
      reinterpret_cast<const ElfW(Addr)*>(t.gnu_hash + 4) + bloom_words);
  if (!readable(t, buckets, nbuckets * sizeof(std::uint32_t))) return nullptr;
  const std::uint32_t* chain = buckets + nbuckets;
  const std::uint32_t h = gnu_hash_of(name);
  std::uint32_t i = buckets[h % nbuckets];
  if (i < symoffset) return nullptr;
  std::size_t name_len = 0;
  while (name[name_len] != '\0') ++name_len;
  for (;; ++i) {
    const std::uint32_t* link = chain + (i - symoffset);
    const NativeSym* sym = t.symtab + i;
    if (!readable(t, link, sizeof *link) || !readable(t, sym, sizeof *sym)) return nullptr;
    if ((*link | 1) == (h | 1) && sym->st_name + name_len < t.strsz &&
        same(t.strtab + sym->st_name, name) && sym->st_shndx != SHN_UNDEF &&
        sym->st_value != 0) {
      // The default version: not hidden (a compat version is, like dlsym@GLIBC_2.2.5).
      const bool hidden = t.versym != nullptr && readable(t, t.versym + i, 2) && (t.versym[i] & 0x8000) != 0;
      if (!hidden) return reinterpret_cast<void*>(t.bias + sym->st_value);
    }
    if ((*link & 1) != 0) return nullptr;  // the end of the chain
  }
}

}  // namespace sealkit::rt::preload
