#include "cli/selftest/classes.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli/selftest/elf.hpp"
#include "core/page.hpp"

namespace sealkit::cli::selftest {

namespace {

constexpr std::size_t kPages = 4;  // size of the plain (non-ELF) targets

unsigned char pattern_byte(std::size_t i, unsigned salt) { return static_cast<unsigned char>(i * 31 + salt); }

void fill(std::uintptr_t addr, std::size_t len, unsigned salt) {
  auto* p = reinterpret_cast<unsigned char*>(addr);
  for (std::size_t i = 0; i < len; ++i) p[i] = pattern_byte(i, salt);
}

int fail(Note& why, const char* what) {
  int e = errno ? errno : EINVAL;
  why.set("%s: %s", what, std::strerror(e));
  return e;
}

int map_anonymous(Target& t, int flags, int prot, Note& why) {
  t.len = kPages * core::page_size();
  void* m = mmap(nullptr, t.len, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return fail(why, "mmap");
  t.addr = reinterpret_cast<std::uintptr_t>(m);
  fill(t.addr, t.len, 7);
  if (prot != (PROT_READ | PROT_WRITE) && mprotect(m, t.len, prot) != 0) return fail(why, "mprotect");
  t.prot = prot;
  return 0;
}

// An unlinked regular file on /tmp holding the pattern. Opened read-write
// even for the read-only classes: then making the mapping writable is a
// question of the seal alone, not of the file's open mode.
int make_file(std::size_t len, Note& why) {
  int fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    char name[] = "/tmp/sealkit-selftest-XXXXXX";
    fd = mkostemp(name, O_CLOEXEC);
    if (fd < 0) return -fail(why, "creating a file in /tmp");
    unlink(name);
  }
  unsigned char buf[4096];
  for (std::size_t off = 0; off < len; off += sizeof buf) {
    for (std::size_t i = 0; i < sizeof buf; ++i) buf[i] = pattern_byte(off + i, 11);
    std::size_t n = len - off < sizeof buf ? len - off : sizeof buf;
    if (pwrite(fd, buf, n, static_cast<off_t>(off)) != static_cast<ssize_t>(n)) {
      int e = -fail(why, "writing the file");
      close(fd);
      return e;
    }
  }
  return fd;
}

int map_file(Target& t, int flags, int prot, Note& why) {
  t.len = kPages * core::page_size();
  int fd = make_file(t.len, why);
  if (fd < 0) return -fd;
  void* m = mmap(nullptr, t.len, prot, flags, fd, 0);
  if (m == MAP_FAILED) {
    int e = fail(why, "mmap of the file");
    close(fd);
    return e;
  }
  close(fd);
  t.addr = reinterpret_cast<std::uintptr_t>(m);
  t.prot = prot;
  // A written private file mapping holds copied-on-write pages that differ
  // from the file: discarding them is visible.
  if ((flags & MAP_PRIVATE) && (prot & PROT_WRITE)) fill(t.addr, t.len, 13);
  return 0;
}

int map_elf_part(MappingClass c, Target& t, Note& why) {
  ElfParts parts;
  if (int e = load_target_object(parts, why)) return e;
  core::Range r;
  switch (c) {
    case MappingClass::kElfText:
      r = parts.text;
      t.prot = PROT_READ | PROT_EXEC;
      break;
    case MappingClass::kElfRodata:
      r = parts.rodata;
      t.prot = PROT_READ;
      break;
    case MappingClass::kElfRelro:
      r = parts.relro;
      t.prot = PROT_READ;
      break;
    case MappingClass::kElfData:
      r = parts.data;
      t.prot = PROT_READ | PROT_WRITE;
      break;
    default:
      r = parts.bss;
      t.prot = PROT_READ | PROT_WRITE;
      break;
  }
  t.addr = r.begin;
  t.len = r.size();
  // Written data and bss pages differ from the file (or from zero pages):
  // discarding them is visible.
  if (t.prot & PROT_WRITE) fill(t.addr, t.len, 17);
  return 0;
}

// Pages added to the program break. The break is first rounded up to a
// page, so that the target is exactly the pages between two breaks.
int grow_heap(Target& t, Note& why) {
  const std::size_t ps = core::page_size();
  auto cur = reinterpret_cast<std::uintptr_t>(sbrk(0));
  auto aligned = core::page_up(cur, ps).value_or(cur);
  if (aligned != cur && sbrk(static_cast<intptr_t>(aligned - cur)) == reinterpret_cast<void*>(-1))
    return fail(why, "sbrk (page alignment)");
  t.len = kPages * ps;
  void* start = sbrk(static_cast<intptr_t>(t.len));
  if (start == reinterpret_cast<void*>(-1)) return fail(why, "sbrk");
  t.addr = reinterpret_cast<std::uintptr_t>(start);
  t.heap_floor = t.addr;
  t.prot = PROT_READ | PROT_WRITE;
  fill(t.addr, t.len, 19);
  return 0;
}

}  // namespace

int create_target(MappingClass c, Target& t, Note& why) {
  errno = 0;
  switch (c) {
    case MappingClass::kAnonPrivateRo:
      return map_anonymous(t, MAP_PRIVATE, PROT_READ, why);
    case MappingClass::kAnonPrivateRw:
      return map_anonymous(t, MAP_PRIVATE, PROT_READ | PROT_WRITE, why);
    case MappingClass::kAnonShared:
      return map_anonymous(t, MAP_SHARED, PROT_READ | PROT_WRITE, why);
    case MappingClass::kFilePrivateRo:
      return map_file(t, MAP_PRIVATE, PROT_READ, why);
    case MappingClass::kFilePrivateRw:
      return map_file(t, MAP_PRIVATE, PROT_READ | PROT_WRITE, why);
    case MappingClass::kFileSharedRo:
      return map_file(t, MAP_SHARED, PROT_READ, why);
    case MappingClass::kFileSharedRw:
      return map_file(t, MAP_SHARED, PROT_READ | PROT_WRITE, why);
    case MappingClass::kElfText:
    case MappingClass::kElfRodata:
    case MappingClass::kElfRelro:
    case MappingClass::kElfData:
    case MappingClass::kElfBss:
      return map_elf_part(c, t, why);
    case MappingClass::kHeap:
      return grow_heap(t, why);
  }
  why.set("unknown mapping class");
  return EINVAL;
}

}  // namespace sealkit::cli::selftest
