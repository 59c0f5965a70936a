#include "runtime/preload/object_symbols.hpp"

#include <link.h>

#include <atomic>
#include <cstdint>

#include "runtime/native_elf.hpp"
#include "runtime/preload/dynamic_info.hpp"

// This object's ELF header (the linker's name; its dynamic section is
// _DYNAMIC, which <link.h> declares).
extern "C" const sealkit::rt::NativeEhdr __ehdr_start __attribute__((visibility("hidden")));

namespace sealkit::rt::preload {

namespace {

using NativeSym = ElfW(Sym);

// An object's symbol tables as its dynamic section gives them, in its memory.
struct Tables {
  const NativeSym* symtab = nullptr;
  const char* strtab = nullptr;
  std::uint64_t strsz = 0;
  const std::uint32_t* gnu_hash = nullptr;
  const ElfW(Addr)* bloom = nullptr;      // inside gnu_hash, checked readable with the buckets
  const std::uint32_t* buckets = nullptr;
  const std::uint16_t* versym = nullptr;
  std::uintptr_t bias = 0;
  ReadableRanges readable;
  bool ok = false;
};

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

// x86_64's ld.so relocates the address entries of a writable dynamic section
// in place; other ports leave link-time addresses (as dynamic_info.cpp).
std::uintptr_t address(const Tables& t, std::uintptr_t p) { return t.readable.room(p) != 0 ? p : p + t.bias; }

// The tables of the object loaded at `bias` whose ELF header is at `eh` and
// dynamic section at `dynamic`. Its program headers must follow the header
// within its first page (as the toolchain lays out every object); only what
// they say is mapped is read.
Tables read_tables(std::uintptr_t bias, const NativeEhdr* eh, const NativeDyn* dynamic) {
  Tables t;
  if (eh->e_ident[EI_MAG0] != ELFMAG0 || eh->e_ident[EI_MAG1] != ELFMAG1 || eh->e_ident[EI_MAG2] != ELFMAG2 ||
      eh->e_ident[EI_MAG3] != ELFMAG3 || eh->e_ident[EI_CLASS] != kNativeElfClass ||
      eh->e_phentsize != sizeof(NativePhdr) || eh->e_phnum == 0 ||
      eh->e_phoff + eh->e_phnum * sizeof(NativePhdr) > 4096)  // in the header's page
    return t;
  const auto* ph = reinterpret_cast<const NativePhdr*>(reinterpret_cast<std::uintptr_t>(eh) + eh->e_phoff);
  for (unsigned i = 0; i < eh->e_phnum; ++i) {
    const std::uintptr_t begin = bias + ph[i].p_vaddr;
    if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_R) != 0 && ph[i].p_filesz != 0 &&
        t.readable.n < ReadableRanges::kMax)
      t.readable.r[t.readable.n++] = {begin, begin + ph[i].p_filesz};
  }
  t.bias = bias;
  const auto at = reinterpret_cast<std::uintptr_t>(dynamic);
  if (!t.readable.contains(reinterpret_cast<std::uintptr_t>(eh), sizeof *eh) || t.readable.room(at) == 0) return t;
  const std::size_t n = t.readable.room(at) / sizeof(NativeDyn);
  std::uintptr_t symtab = 0, strtab = 0, gnu_hash = 0, versym = 0;
  for (std::size_t i = 0; i < n && dynamic[i].d_tag != DT_NULL; ++i) {
    switch (dynamic[i].d_tag) {
      case DT_SYMTAB: symtab = dynamic[i].d_un.d_ptr; break;
      case DT_STRTAB: strtab = dynamic[i].d_un.d_ptr; break;
      case DT_STRSZ: t.strsz = dynamic[i].d_un.d_val; break;
      case DT_GNU_HASH: gnu_hash = dynamic[i].d_un.d_ptr; break;
      case DT_VERSYM: versym = dynamic[i].d_un.d_ptr; break;
      default: break;
    }
  }
  if (symtab == 0 || strtab == 0 || gnu_hash == 0 || t.strsz == 0) return t;
  t.symtab = reinterpret_cast<const NativeSym*>(address(t, symtab));
  t.strtab = reinterpret_cast<const char*>(address(t, strtab));
  t.gnu_hash = reinterpret_cast<const std::uint32_t*>(address(t, gnu_hash));
  t.versym = versym ? reinterpret_cast<const std::uint16_t*>(address(t, versym)) : nullptr;
  // DT_GNU_HASH: nbuckets, symoffset, bloom words, bloom shift; the bloom
  // filter; the buckets; one chain word per symbol from symoffset on.
  if (!t.readable.contains(reinterpret_cast<std::uintptr_t>(t.strtab), t.strsz) ||
      t.readable.room(reinterpret_cast<std::uintptr_t>(t.gnu_hash)) < 16 || t.gnu_hash[0] == 0 ||
      t.gnu_hash[2] == 0)
    return t;
  t.bloom = reinterpret_cast<const ElfW(Addr)*>(t.gnu_hash + 4);
  t.buckets = reinterpret_cast<const std::uint32_t*>(t.bloom + t.gnu_hash[2]);
  t.ok = t.readable.contains(reinterpret_cast<std::uintptr_t>(t.bloom),
                             reinterpret_cast<std::uintptr_t>(t.buckets + t.gnu_hash[0]) -
                                 reinterpret_cast<std::uintptr_t>(t.bloom));
  return t;
}

// libc: the first object of the base namespace loaded as libc.so.6 (the one
// every other object's libc symbols bind to), from ld.so's list.
Tables read_libc_tables() {
  for (const link_map* l = _r_debug.r_map; l != nullptr; l = l->l_next) {
    if (l->l_addr == 0 || l->l_name == nullptr) continue;  // the program (not libc), or a nameless entry
    if (!same(last_part(l->l_name), "libc.so.6")) continue;
    return read_tables(l->l_addr, reinterpret_cast<const NativeEhdr*>(l->l_addr), l->l_ld);
  }
  return Tables{};
}

std::uint32_t gnu_hash_of(const char* name) {
  std::uint32_t h = 5381;
  for (const unsigned char* c = reinterpret_cast<const unsigned char*>(name); *c; ++c) h = h * 33 + *c;
  return h;
}

bool readable(const Tables& t, const void* p, std::size_t len) {
  return t.readable.contains(reinterpret_cast<std::uintptr_t>(p), len);
}

// The defined, default-version symbol `name` (not hidden: a compat version
// is, like dlsym@GLIBC_2.2.5), by the GNU hash table: the bloom filter turns
// most names away at once; then the name's bucket and its chain, whose
// words' low bit ends it.
void* find(const Tables& t, const char* name) {
  if (!t.ok) return nullptr;
  const std::uint32_t nbuckets = t.gnu_hash[0], symoffset = t.gnu_hash[1], bloom_words = t.gnu_hash[2],
                      shift = t.gnu_hash[3];
  constexpr std::uint32_t kBits = sizeof(ElfW(Addr)) * 8;
  const std::uint32_t h = gnu_hash_of(name);
  const ElfW(Addr) word = t.bloom[(h / kBits) % bloom_words];
  const ElfW(Addr) mask = (ElfW(Addr){1} << (h % kBits)) | (ElfW(Addr){1} << ((h >> shift) % kBits));
  if ((word & mask) != mask) return nullptr;
  std::uint32_t i = t.buckets[h % nbuckets];
  if (i < symoffset) return nullptr;
  const std::uint32_t* chain = t.buckets + nbuckets;
  for (;; ++i) {
    const std::uint32_t* link = chain + (i - symoffset);
    const NativeSym* sym = t.symtab + i;
    if (!readable(t, link, sizeof *link) || !readable(t, sym, sizeof *sym)) return nullptr;
    if ((*link | 1) == (h | 1) && sym->st_name < t.strsz && sym->st_shndx != SHN_UNDEF && sym->st_value != 0 &&
        same(t.strtab + sym->st_name, name)) {
      const bool hidden = t.versym != nullptr && readable(t, t.versym + i, 2) && (t.versym[i] & 0x8000) != 0;
      if (!hidden) return reinterpret_cast<void*>(t.bias + sym->st_value);
    }
    if ((*link & 1) != 0) return nullptr;
  }
}

// Read once per process. A caller that finds another thread reading them
// reads its own copy rather than wait or share a half-written one.
struct Cached {
  Tables tables;
  std::atomic<int> state{0};  // 0 unread, 1 being read, 2 read
};

template <class Read>
__attribute__((noinline)) void* find_first_time(Cached& c, Read&& read_fn, const char* name) {
  int unread = 0;
  if (!c.state.compare_exchange_strong(unread, 1, std::memory_order_acq_rel)) {
    const Tables spare = read_fn();
    return find(spare, name);
  }
  c.tables = read_fn();
  c.state.store(2, std::memory_order_release);
  return find(c.tables, name);
}

template <class Read>
void* find_in(Cached& c, Read&& read_fn, const char* name) {
  if (c.state.load(std::memory_order_acquire) == 2) return find(c.tables, name);
  return find_first_time(c, read_fn, name);
}

constinit Cached g_libc, g_own;

Tables read_own_tables() {
  return read_tables(reinterpret_cast<std::uintptr_t>(&__ehdr_start), &__ehdr_start, _DYNAMIC);
}

}  // namespace

void* libc_function(const char* name) { return find_in(g_libc, read_libc_tables, name); }

void* own_function(const char* name) { return find_in(g_own, read_own_tables, name); }

}  // namespace sealkit::rt::preload
