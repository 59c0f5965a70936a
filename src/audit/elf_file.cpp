#include "audit/elf_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "core/mutable_sections.hpp"
#include "core/object_layout.hpp"
#include "core/range.hpp"

namespace sealkit::audit {

using namespace core;

namespace {

constexpr std::uint32_t kGnuPropertyMemorySeal = 3;  // binutils include/elf/common.h
constexpr std::uint64_t kPage = 4096;

std::string libelf_error(const char* what) {
  const char* m = elf_errmsg(-1);
  return std::string(what) + ": " + (m ? m : "unknown libelf error");
}

bool add_overflows(std::uint64_t a, std::uint64_t b, std::uint64_t& out) { return __builtin_add_overflow(a, b, &out); }

// The most of one PT_GNU_PROPERTY or PT_DYNAMIC segment read. Real ones are
// bytes to a few KiB; the size is the file's own word, and libelf copies what
// is asked for: a sparse file claiming gigabytes would otherwise cost root's
// `check` or `audit` that much memory.
constexpr std::size_t kMaxSegmentRead = std::size_t{1} << 20;

std::size_t capped(std::uint64_t filesz) { return static_cast<std::size_t>(std::min<std::uint64_t>(filesz, kMaxSegmentRead)); }

// NT_GNU_PROPERTY_TYPE_0 notes: a list of (type, size, data) padded to the
// ELF class's alignment. Any inconsistency ends the walk (the property is
// then reported absent, never guessed).
bool has_memory_seal_property(Elf* e, const GElf_Phdr& ph, bool elf64) {
  Elf_Data* d = elf_getdata_rawchunk(e, static_cast<int64_t>(ph.p_offset), capped(ph.p_filesz), ELF_T_NHDR);
  if (!d || !d->d_buf) return false;
  const auto* base = static_cast<const unsigned char*>(d->d_buf);
  std::size_t off = 0;
  GElf_Nhdr nh;
  std::size_t name_off, desc_off;
  while (off < d->d_size) {
    std::size_t next = gelf_getnote(d, off, &nh, &name_off, &desc_off);
    if (next == 0 || next <= off) break;
    if (nh.n_type == NT_GNU_PROPERTY_TYPE_0 && nh.n_namesz == 4 && std::memcmp(base + name_off, "GNU", 4) == 0) {
      const std::size_t align = elf64 ? 8 : 4;
      std::size_t p = 0;
      while (p + 8 <= nh.n_descsz) {
        std::uint32_t type, size;
        std::memcpy(&type, base + desc_off + p, 4);
        std::memcpy(&size, base + desc_off + p + 4, 4);
        if (type == kGnuPropertyMemorySeal) return true;
        std::size_t step = 8 + ((static_cast<std::size_t>(size) + align - 1) & ~(align - 1));
        if (size > nh.n_descsz || step > nh.n_descsz - p) break;
        p += step;
      }
    }
    off = next;
  }
  return false;
}

struct DynamicFlags {
  bool bind_now = false;
  bool textrel = false;
  bool pie_flag = false;
  bool soname = false;
};

DynamicFlags read_dynamic(Elf* e, const GElf_Phdr& ph) {
  DynamicFlags f;
  Elf_Data* d = elf_getdata_rawchunk(e, static_cast<int64_t>(ph.p_offset), capped(ph.p_filesz), ELF_T_DYN);
  if (!d) return f;
  const std::size_t entsize = gelf_fsize(e, ELF_T_DYN, 1, EV_CURRENT);
  if (entsize == 0) return f;
  const std::size_t n = d->d_size / entsize;
  for (std::size_t i = 0; i < n; ++i) {
    GElf_Dyn dyn;
    if (!gelf_getdyn(d, static_cast<int>(i), &dyn) || dyn.d_tag == DT_NULL) break;
    switch (dyn.d_tag) {
      case DT_BIND_NOW: f.bind_now = true; break;
      case DT_TEXTREL: f.textrel = true; break;
      case DT_SONAME: f.soname = true; break;
      case DT_FLAGS:
        if (dyn.d_un.d_val & DF_BIND_NOW) f.bind_now = true;
        if (dyn.d_un.d_val & DF_TEXTREL) f.textrel = true;
        break;
      case DT_FLAGS_1:
        if (dyn.d_un.d_val & DF_1_NOW) f.bind_now = true;
        if (dyn.d_un.d_val & DF_1_PIE) f.pie_flag = true;
        break;
      default: break;
    }
  }
  return f;
}

bool has_section(Elf* e, std::string_view wanted) {
  std::size_t shstrndx;
  if (elf_getshdrstrndx(e, &shstrndx) != 0) return false;
  for (Elf_Scn* s = elf_nextscn(e, nullptr); s; s = elf_nextscn(e, s)) {
    GElf_Shdr sh;
    if (!gelf_getshdr(s, &sh)) return false;
    const char* name = elf_strptr(e, shstrndx, sh.sh_name);
    if (name && wanted == name) return true;
  }
  return false;
}

// The sections the runtime leaves unsealed (core/mutable_sections.hpp), from
// the same program headers it trusts them by. Addresses are the file's
// (bias 0). A malformed section table yields none.
std::vector<ElfMutableSection> find_mutable_sections(Elf* e, const std::vector<ElfSegment>& segments) {
  std::vector<Range> loads;
  std::vector<bool> writable;
  Range relro;
  for (const ElfSegment& s : segments) {
    std::uint64_t end;
    if (s.memsz == 0 || add_overflows(s.vaddr, s.memsz, end) || add_overflows(end, kPage - 1, end)) continue;
    if (s.type == PT_LOAD) {
      loads.push_back({static_cast<std::uintptr_t>(s.vaddr & ~(kPage - 1)), static_cast<std::uintptr_t>(end & ~(kPage - 1))});
      writable.push_back((s.flags & PF_W) != 0);
    } else if (s.type == PT_GNU_RELRO) {
      relro = {static_cast<std::uintptr_t>(s.vaddr & ~(kPage - 1)),
               static_cast<std::uintptr_t>((s.vaddr + s.memsz) & ~(kPage - 1))};  // as ld.so rounds it
    }
  }
  std::vector<ElfMutableSection> out;
  std::size_t shstrndx;
  if (loads.empty() || elf_getshdrstrndx(e, &shstrndx) != 0) return out;
  for (Elf_Scn* scn = elf_nextscn(e, nullptr); scn; scn = elf_nextscn(e, scn)) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh)) return {};
    const SectionShape shape{sh.sh_flags, sh.sh_addr, sh.sh_size, sh.sh_addralign};
    if (!is_mutable_section(shape, kPage)) continue;
    const Range pages = clip_to_writable_data(mutable_pages(shape, 0, kPage), loads.data(), loads.size(),
                                              [&](std::size_t i) { return writable[i]; }, relro);
    if (pages.empty()) continue;
    const char* name = elf_strptr(e, shstrndx, sh.sh_name);
    out.push_back({name ? name : "", sh.sh_addr, sh.sh_size, pages.begin, pages.end});
  }
  return out;
}

std::optional<ElfFacts> analyse(Elf* e, std::string& error) {
  if (elf_kind(e) == ELF_K_AR) {
    error = "an ar archive (static library), not an ELF file";
    return std::nullopt;
  }
  if (elf_kind(e) != ELF_K_ELF) {
    error = "not an ELF file";
    return std::nullopt;
  }
  GElf_Ehdr eh;
  if (!gelf_getehdr(e, &eh)) {
    error = libelf_error("malformed ELF header");
    return std::nullopt;
  }
  ElfFacts f;
  f.elf64 = gelf_getclass(e) == ELFCLASS64;
  std::size_t phnum = 0;
  if (elf_getphdrnum(e, &phnum) != 0) {
    error = libelf_error("malformed program header count");
    return std::nullopt;
  }
  bool relro = false;
  DynamicFlags dyn;
  RangeSet kept;  // the pages kept mutable: PT_GNU_MUTABLE and mutable sections
  RangeSet left;  // those and W|X segments: all that `sealkit run` leaves unsealed
  std::uint64_t lo = UINT64_MAX, hi = 0;
  for (std::size_t i = 0; i < phnum; ++i) {
    GElf_Phdr ph;
    if (!gelf_getphdr(e, static_cast<int>(i), &ph)) {
      error = libelf_error("malformed program header");
      return std::nullopt;
    }
    f.segments.push_back({ph.p_type, ph.p_flags, ph.p_offset, ph.p_vaddr, ph.p_filesz, ph.p_memsz});
    std::uint64_t end;
    switch (ph.p_type) {
      case PT_LOAD:
        ++f.load_segments;
        if ((ph.p_flags & PF_W) && (ph.p_flags & PF_X)) ++f.wx_segments;
        if (ph.p_memsz == 0) break;
        if (add_overflows(ph.p_vaddr, ph.p_memsz, end) || add_overflows(end, kPage - 1, end)) {
          error = "a PT_LOAD segment wraps around the address space";
          return std::nullopt;
        }
        lo = std::min(lo, ph.p_vaddr & ~(kPage - 1));
        hi = std::max(hi, end & ~(kPage - 1));
        if ((ph.p_flags & PF_W) && (ph.p_flags & PF_X)) {
          f.wx_bytes += (end & ~(kPage - 1)) - (ph.p_vaddr & ~(kPage - 1));
          left.insert({static_cast<std::uintptr_t>(ph.p_vaddr & ~(kPage - 1)), static_cast<std::uintptr_t>(end & ~(kPage - 1))});
        }
        break;
      case PT_INTERP: f.has_interp = true; break;
      case PT_DYNAMIC:
        f.has_dynamic = true;
        dyn = read_dynamic(e, ph);
        break;
      case PT_GNU_RELRO: relro = true; break;
      case PT_GNU_STACK: f.exec_stack = (ph.p_flags & PF_X) ? ElfFacts::ExecStack::kYes : ElfFacts::ExecStack::kNo; break;
      case PT_GNU_PROPERTY:
        if (has_memory_seal_property(e, ph, f.elf64)) f.memory_seal_property = true;
        break;
      case core::kPtGnuMutable:
        ++f.mutable_segments;
        if (!add_overflows(ph.p_vaddr, ph.p_memsz, end) && !add_overflows(end, kPage - 1, end))
          kept.insert({static_cast<std::uintptr_t>(ph.p_vaddr & ~(kPage - 1)), static_cast<std::uintptr_t>(end & ~(kPage - 1))});
        break;
      default: break;
    }
  }
  if (hi > lo) f.load_span_bytes = hi - lo;
  f.bind_now = dyn.bind_now;
  f.textrel = dyn.textrel;
  f.relro = !relro ? ElfFacts::Relro::kNone : (f.bind_now ? ElfFacts::Relro::kFull : ElfFacts::Relro::kPartial);
  f.mutable_section = has_section(e, ".gnu.mutable");
  f.mutable_sections = find_mutable_sections(e, f.segments);
  for (const ElfMutableSection& m : f.mutable_sections)
    kept.insert({static_cast<std::uintptr_t>(m.page_begin), static_cast<std::uintptr_t>(m.page_end)});
  for (const Range& r : kept.ranges()) {
    f.mutable_bytes += r.size();
    left.insert(r);
  }
  for (const Range& r : left.ranges()) f.unsealed_bytes += r.size();
  switch (eh.e_type) {
    case ET_EXEC: f.kind = ElfFacts::Kind::kExecutable; break;
    case ET_REL: f.kind = ElfFacts::Kind::kRelocatable; break;
    case ET_DYN:
      // DF_1_PIE is what binutils and readelf go by; an older PIE without it
      // still has an interpreter and no soname.
      f.kind = (dyn.pie_flag || (f.has_interp && !dyn.soname)) ? ElfFacts::Kind::kPie : ElfFacts::Kind::kSharedObject;
      break;
    default: f.kind = ElfFacts::Kind::kOther; break;
  }
  return f;
}

bool libelf_ready() {
  static const bool ok = elf_version(EV_CURRENT) != EV_NONE;
  return ok;
}

}  // namespace

std::optional<ElfFacts> read_elf_bytes(const void* data, std::size_t size, std::string& error) {
  if (!libelf_ready()) {
    error = "libelf is unusable";
    return std::nullopt;
  }
  // libelf takes a non-const image but, opened for reading, does not write it.
  Elf* e = elf_memory(static_cast<char*>(const_cast<void*>(data)), size);
  if (!e) {
    error = libelf_error("cannot read");
    return std::nullopt;
  }
  auto r = analyse(e, error);
  elf_end(e);
  return r;
}

std::optional<ElfFacts> read_elf_fd(int fd, std::string& error) {
  if (!libelf_ready()) {
    error = "libelf is unusable";
    return std::nullopt;
  }
  // ELF_C_READ (not _MMAP): a file truncated while mapped would raise SIGBUS.
  Elf* e = elf_begin(fd, ELF_C_READ, nullptr);
  if (!e) {
    error = libelf_error("cannot read");
    return std::nullopt;
  }
  auto r = analyse(e, error);
  elf_end(e);
  return r;
}

std::optional<ElfFacts> read_elf_file(const char* path, std::string& error) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  // A FIFO, socket or device is no ELF file, whatever libelf would make of it.
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    error = "not a regular file";
    ::close(fd);
    return std::nullopt;
  }
  auto r = read_elf_fd(fd, error);
  ::close(fd);
  return r;
}

const char* to_string(ElfFacts::Kind k) {
  switch (k) {
    case ElfFacts::Kind::kExecutable: return "exec";
    case ElfFacts::Kind::kPie: return "pie";
    case ElfFacts::Kind::kSharedObject: return "shared";
    case ElfFacts::Kind::kRelocatable: return "object";
    case ElfFacts::Kind::kOther: return "other";
  }
  return "other";
}

const char* to_string(ElfFacts::Relro r) {
  switch (r) {
    case ElfFacts::Relro::kNone: return "none";
    case ElfFacts::Relro::kPartial: return "partial";
    case ElfFacts::Relro::kFull: return "full";
  }
  return "none";
}

const char* to_string(ElfFacts::ExecStack s) {
  switch (s) {
    case ElfFacts::ExecStack::kNo: return "no";
    case ElfFacts::ExecStack::kYes: return "yes";
    case ElfFacts::ExecStack::kMissing: return "default";
  }
  return "default";
}

}  // namespace sealkit::audit
