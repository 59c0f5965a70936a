#include "backend/seccomp/mm_sharers.hpp"

// Raw system calls only (core/raw_syscall.hpp), no libc and no errno: the
// runtime links this file too.
#include <linux/errno.h>
#include <linux/fcntl.h>
#include <linux/kcmp.h>
#include <linux/mman.h>
#include <linux/prctl.h>

#include <cstddef>
#include <cstdint>

#include "core/raw_syscall.hpp"

namespace sealkit::backend::seccomp {

#if defined(__x86_64__)

namespace {

namespace raw = core::raw;

constexpr long kPage = 4096;       // the filter is x86_64's only; statm counts these pages
constexpr long kMarkPages = 1021;  // the size test's reservation: a size nobody maps by chance
constexpr long kThreadSelf = -1;   // proc_path's names for /proc/self and /proc/thread-self
constexpr long kSelf = 0;
constexpr int kSizeTestAttempts = 3;

struct Scratch {
  char dirents[4096];
  char text[4096];  // a /proc/PID/status is about 1.5 KiB
  char path[48];
};

long as_long(const void* p) noexcept { return reinterpret_cast<long>(p); }

char* put(char* out, const char* s) noexcept {
  while (*s) *out++ = *s++;
  return out;
}

char* put_number(char* out, long v) noexcept {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  while (n > 0) *out++ = digits[--n];
  return out;
}

// "/proc/<pid>/<leaf>", or /proc/self/..., /proc/thread-self/...
void proc_path(char* out, long pid, const char* leaf) noexcept {
  out = put(out, "/proc/");
  if (pid == kSelf) out = put(out, "self");
  else if (pid == kThreadSelf) out = put(out, "thread-self");
  else out = put_number(out, pid);
  *out++ = '/';
  *put(out, leaf) = '\0';
}

// The decimal number at s (advanced past it), or -1 when there is none.
long number(const char*& s) noexcept {
  if (*s < '0' || *s > '9') return -1;
  long v = 0;
  for (; *s >= '0' && *s <= '9'; ++s) {
    if (v > (1L << 50)) return -1;  // no pid, count or size in pages is this large
    v = v * 10 + (*s - '0');
  }
  return v;
}

// Reads a small /proc file whole into buf, NUL-terminated: its length, or -errno.
long read_file(const char* path, char* buf, std::size_t size) noexcept {
  const long fd = raw::call(__NR_openat, AT_FDCWD, as_long(path), O_RDONLY | O_CLOEXEC);
  if (raw::failed(fd)) return fd;
  std::size_t total = 0;
  long r = 0;
  while (total + 1 < size) {
    r = raw::call(__NR_read, fd, as_long(buf + total), static_cast<long>(size - 1 - total));
    if (r == -EINTR) continue;
    if (r <= 0) break;
    total += static_cast<std::size_t>(r);
  }
  raw::call(__NR_close, fd);
  if (raw::failed(r)) return r;
  buf[total] = '\0';
  return static_cast<long>(total);
}

// The number after `key` at the start of a line of text, or -1.
long field(const char* text, const char* key) noexcept {
  for (const char* line = text; *line;) {
    const char* k = key;
    const char* t = line;
    while (*k && *t == *k) ++k, ++t;
    if (*k == '\0') {
      while (*t == ' ' || *t == '\t') ++t;
      return number(t);
    }
    while (*line && *line != '\n') ++line;
    if (*line) ++line;
  }
  return -1;
}

// The process's total size in pages (statm's first field, which anyone may
// read), or -errno.
long total_pages(long pid, Scratch& s) noexcept {
  proc_path(s.path, pid, "statm");
  const long r = read_file(s.path, s.text, sizeof s.text);
  if (r < 0) return r;
  const char* p = s.text;
  const long v = number(p);
  return v < 0 ? -EINVAL : v;
}

// Seccomp_filters of a process (or of this thread), or -1 when not said.
long filters_of(long pid, Scratch& s) noexcept {
  proc_path(s.path, pid, "status");
  if (read_file(s.path, s.text, sizeof s.text) < 0) return -1;
  return field(s.text, "Seccomp_filters:");
}

enum class Same { kYes, kNo, kUnknown };

// The kernel's own comparison. It needs ptrace read access to pid: without it
// (another user's process, a non-dumpable address space) the answer is EPERM.
Same by_kcmp(long self, long pid) noexcept {
  const long r = raw::call6(__NR_kcmp, self, pid, KCMP_VM, 0, 0, 0);
  if (r == 0) return Same::kYes;
  if (r > 0 || r == -ESRCH) return Same::kNo;  // another address space, or gone
  return Same::kUnknown;
}

// Whether pid's size moves by exactly a reservation made here (PROT_NONE,
// MAP_NORESERVE: no memory, only address space). A process that maps or
// unmaps something of its own at that moment is asked again.
//
// First the cheap half: a sharer's statm is this address space's own size.
// When ours stays the same across the reading of pid's and pid's differs, pid
// is no sharer, however busy it is mapping and unmapping memory of its own (a
// compiler, a sanitizer's process: asking those again and again would end in
// "unknown", which refuses the seal).
Same by_size(long pid, Scratch& s) noexcept {
  for (int attempt = 0; attempt < kSizeTestAttempts; ++attempt) {
    const long own_before = total_pages(kSelf, s);
    const long before = total_pages(pid, s);
    if (before == -ENOENT || before == -ESRCH) return Same::kNo;  // gone
    if (before < 0) return Same::kUnknown;
    if (own_before > 0 && total_pages(kSelf, s) == own_before && before != own_before) return Same::kNo;
    const long mark = raw::call6(__NR_mmap, 0, kMarkPages * kPage, PROT_NONE,
                                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw::failed(mark)) return Same::kUnknown;
    const long after = total_pages(pid, s);
    raw::call(__NR_munmap, mark, kMarkPages * kPage);
    if (after == -ENOENT || after == -ESRCH) return Same::kNo;
    if (after < 0) return Same::kUnknown;
    if (after - before == kMarkPages) return Same::kYes;
    if (after == before) return Same::kNo;
  }
  return Same::kUnknown;
}

// Whether /proc numbers processes as this process's PID namespace does (it
// may be another namespace's mount): /proc/self names this process.
bool proc_is_ours(long self, Scratch& s) noexcept {
  const long n = raw::call(__NR_readlinkat, AT_FDCWD, as_long("/proc/self"), as_long(s.path),
                           static_cast<long>(sizeof s.path - 1));
  if (n <= 0) return false;
  s.path[n] = '\0';
  const char* p = s.path;
  return number(p) == self && *p == '\0';
}

struct Dirent64 {
  std::uint64_t ino;
  std::int64_t off;
  std::uint16_t reclen;
  std::uint8_t type;
  char name[1];
};

SharerScan scan(bool unbound_only, Scratch& s) noexcept {
  const long self = raw::call(__NR_getpid);
  if (!proc_is_ours(self, s)) return SharerScan{SharerVerdict::kUnknown, 0};
  // kcmp may be missing (CONFIG_KCMP) or refused by a container's filter
  // (Docker's default profile allows it only with CAP_SYS_PTRACE): then the
  // size test asks every process.
  const bool kcmp_works = by_kcmp(self, self) == Same::kYes;
  // A sharer refuses kcmp when this address space is not dumpable (the
  // address space decides, not the credentials). Otherwise a refusal means
  // other credentials, which a sharer has only if the program changed them
  // after the clone and made itself dumpable again: not asked further.
  const bool refusal_may_hide_one = !kcmp_works || raw::call(__NR_prctl, PR_GET_DUMPABLE) != 1;
  const long own_filters = unbound_only ? filters_of(kThreadSelf, s) : -1;

  const long dir = raw::call(__NR_openat, AT_FDCWD, as_long("/proc"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (raw::failed(dir)) return SharerScan{SharerVerdict::kUnknown, 0};
  SharerScan out;
  for (bool done = false; !done;) {
    const long got = raw::call(__NR_getdents64, dir, as_long(s.dirents), sizeof s.dirents);
    if (got <= 0) {
      if (raw::failed(got)) out = SharerScan{SharerVerdict::kUnknown, 0};
      break;
    }
    for (long at = 0; at < got && !done;) {
      const auto* d = reinterpret_cast<const Dirent64*>(s.dirents + at);
      at += d->reclen;
      const char* name = d->name;
      const long pid = number(name);
      if (pid <= 0 || *name != '\0' || pid == self) continue;
      Same same = kcmp_works ? by_kcmp(self, pid) : Same::kUnknown;
      if (same == Same::kUnknown) same = refusal_may_hide_one ? by_size(pid, s) : Same::kNo;
      if (same == Same::kNo) continue;
      if (same == Same::kYes && unbound_only && own_filters >= 0 && filters_of(pid, s) >= own_filters) continue;
      out = SharerScan{same == Same::kYes ? SharerVerdict::kFound : SharerVerdict::kUnknown, pid};
      done = true;
    }
  }
  raw::call(__NR_close, dir);
  return out;
}

}  // namespace

SharerScan find_address_space_sharer(bool unbound_only) noexcept {
  const long mem = raw::call6(__NR_mmap, 0, sizeof(Scratch), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw::failed(mem)) return SharerScan{SharerVerdict::kUnknown, 0};
  const SharerScan out = scan(unbound_only, *reinterpret_cast<Scratch*>(mem));
  raw::call(__NR_munmap, mem, sizeof(Scratch));
  return out;
}

#else

// The filter is generated for x86_64 only (docs/seccomp.md): nothing installs
// one elsewhere, and nothing here is asked.
SharerScan find_address_space_sharer(bool) noexcept { return SharerScan{SharerVerdict::kUnknown, 0}; }

#endif

}  // namespace sealkit::backend::seccomp
