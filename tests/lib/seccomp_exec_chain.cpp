// The image of the exec-chain stress test (docs/seccomp-exec.md, "How it is
// tested"), run under the supervisor by seccomp_exec_test.cpp with
// SEALKIT_BACKEND=seccomp. Every generation:
//   1. seals, through libsealkit, a page of its own text, its RELRO, an
//      anonymous read-only page, and a "slot" page at one of two fixed
//      addresses (generation parity), so that every next image meets the
//      previous one's seal at a known address, ASLR or not;
//   2. attacks its own seals: mprotect, munmap, MAP_FIXED, mremap, discard
//      madvise must all fail with EPERM;
//   3. does what the previous image's seals must no longer stop: MAP_FIXED and
//      munmap over the previous slot page, and over every previous range that
//      is unmapped here (with ASLR off the text and RELRO are at the same
//      addresses: then they are this image's own seals, and refused);
//   4. execs itself (its ld.so has just done the same on the same addresses).
// Usage: chain GEN LAST [PREV_RANGES]   (ranges as hex start-end, comma-separated)
//        chain norandom GEN LAST         the same without ASLR (personality ADDR_NO_RANDOMIZE, as setarch -R)
//        chain fork                      seal; a forked child must be refused too,
//                                        and a forked child's exec must not be
//        chain probe RANGES              a fresh image: MAP_FIXED over RANGES must work
//        chain thread                    seal; a second thread is refused and may unmap its own page;
//                                        a page it seals is refused to the main thread
//        chain clonevm                   a process sharing this one's memory (CLONE_VM, as vfork
//                                        makes) seals a page: this process is refused on it at once
//        chain survivor FILE LAST        seal, fork a child that outlives a chain of LAST+1
//                                        images; it must still be refused ("ok" in FILE)
//        chain wait READY_FD GO_FD       seal, say so, wait; then the supervisor is
//                                        gone: attacks and unsealed calls get ENOSYS
// Exit 0 when everything behaved, 3 with a message on stderr otherwise.
#include <elf.h>
#include <link.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "sealkit/sealkit.h"

namespace {

constexpr std::uintptr_t kPage = 4096;
constexpr std::uintptr_t kSlotBase = 0x5e0000000000;  // far from where ld.so and mmap place anything
int g_gen = 0;

struct Span {
  std::uintptr_t start, end;
};

[[noreturn]] void fail(const char* what, int err) {
  std::fprintf(stderr, "chain generation %d: %s: %s\n", g_gen, what, std::strerror(err));
  std::exit(3);
}

void expect_errno(const char* what, long r, int want) {
  if (r == 0 || (r == -1 && errno != want)) fail(what, r == 0 ? 0 : errno);
}

Span page_down_up(std::uintptr_t a, std::uintptr_t b) { return {a & ~(kPage - 1), (b + kPage - 1) & ~(kPage - 1)}; }

// A page of the program's text and its RELRO (what ld.so mprotects at start).
void own_object(Span out[2]) {
  out[0] = out[1] = {0, 0};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) -> int {
        auto* spans = static_cast<Span*>(data);
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          const std::uintptr_t at = info->dlpi_addr + ph.p_vaddr;
          if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X)) spans[0] = page_down_up(at, at + kPage);
          if (ph.p_type == PT_GNU_RELRO) spans[1] = {at & ~(kPage - 1), (at + ph.p_memsz) & ~(kPage - 1)};
        }
        return 1;  // the first object is the program
      },
      out);
}

std::uintptr_t slot(int gen) { return kSlotBase + static_cast<std::uintptr_t>(gen % 2) * 0x10000; }

void seal(const char* what, Span s) {
  if (s.end <= s.start) return;
  if (sealkit_mseal(reinterpret_cast<void*>(s.start), s.end - s.start, 0) != 0) fail(what, errno);
}

std::vector<Span> seal_everything() {
  Span own[2];
  own_object(own);
  void* anon = mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (anon == MAP_FAILED) fail("mmap", errno);
  std::memset(anon, 0x5a, kPage);
  if (mprotect(anon, kPage, PROT_READ) != 0) fail("mprotect anon", errno);
  void* fixed = mmap(reinterpret_cast<void*>(slot(g_gen)), kPage, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (fixed == MAP_FAILED) fail("mmap slot page", errno);
  const auto a = reinterpret_cast<std::uintptr_t>(anon), f = reinterpret_cast<std::uintptr_t>(fixed);
  std::vector<Span> sealed = {own[0], own[1], {a, a + kPage}, {f, f + kPage}};
  seal("seal text", own[0]);
  seal("seal relro", own[1]);
  seal("seal anon", sealed[2]);
  seal("seal slot", sealed[3]);
  // The library's record says so too (registered, not filtered, under the supervisor).
  for (const Span& sp : sealed)
    if (sp.end > sp.start && sealkit_is_sealed(reinterpret_cast<void*>(sp.start), sp.end - sp.start) != 1)
      fail("sealkit_is_sealed after sealing", errno);
  return sealed;
}

void attack(const std::vector<Span>& s, int want) {
  auto* text = reinterpret_cast<void*>(s[0].start);
  auto* anon = reinterpret_cast<void*>(s[2].start);
  auto* fixed = reinterpret_cast<void*>(s[3].start);
  expect_errno("mprotect text", mprotect(text, kPage, PROT_READ | PROT_WRITE | PROT_EXEC), want);
  expect_errno("munmap anon", munmap(anon, kPage), want);
  expect_errno("MAP_FIXED over the slot",
               mmap(fixed, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED ? -1 : 0,
               want);
  expect_errno("madvise DONTNEED anon", madvise(anon, kPage, MADV_DONTNEED), want);
  expect_errno("mremap anon", mremap(anon, kPage, 2 * kPage, MREMAP_MAYMOVE) == MAP_FAILED ? -1 : 0, want);
  if (s[1].end > s[1].start) {
    auto* relro = reinterpret_cast<void*>(s[1].start);
    expect_errno("mprotect relro", mprotect(relro, kPage, PROT_READ | PROT_WRITE), want);
  }
}

bool overlaps(Span a, const std::vector<Span>& set) {
  for (Span b : set)
    if (a.start < b.end && b.start < a.end) return true;
  return false;
}

bool unmapped(Span s) {
  unsigned char v[64];
  for (std::uintptr_t p = s.start; p < s.end; p += kPage)
    if (mincore(reinterpret_cast<void*>(p), kPage, v) == 0 || errno != ENOMEM) return false;
  return true;
}

// Step 3: the previous image's seals must not stop this one.
int reuse_previous(const std::vector<Span>& previous, const std::vector<Span>& own) {
  int reused = 0;
  for (Span p : previous) {
    if (p.end <= p.start || p.end - p.start > 64 * kPage) continue;
    if (overlaps(p, own)) {
      // The same address sealed again by this image: refused, as it must be.
      expect_errno("mprotect of an address this image sealed again", mprotect(reinterpret_cast<void*>(p.start), kPage, PROT_READ | PROT_WRITE), EPERM);
      continue;
    }
    if (!unmapped(p)) continue;  // this image's own unsealed memory: not ours to clobber
    void* m = mmap(reinterpret_cast<void*>(p.start), p.end - p.start, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (m == MAP_FAILED) fail("MAP_FIXED over the previous image's sealed range", errno);
    if (mprotect(m, p.end - p.start, PROT_READ) != 0) fail("mprotect over the previous image's sealed range", errno);
    if (munmap(m, p.end - p.start) != 0) fail("munmap over the previous image's sealed range", errno);
    ++reused;
  }
  return reused;
}

std::string format(const std::vector<Span>& spans) {
  std::string out;
  char buf[64];
  for (Span s : spans) {
    std::snprintf(buf, sizeof buf, "%s%lx-%lx", out.empty() ? "" : ",", static_cast<unsigned long>(s.start),
                  static_cast<unsigned long>(s.end));
    out += buf;
  }
  return out.empty() ? "-" : out;
}

std::vector<Span> parse(const char* text) {
  std::vector<Span> out;
  while (text && *text && *text != '-') {
    char* end;
    Span s{};
    s.start = std::strtoul(text, &end, 16);
    if (*end != '-') break;
    s.end = std::strtoul(end + 1, &end, 16);
    out.push_back(s);
    if (*end != ',') break;
    text = end + 1;
  }
  return out;
}

int chain(int gen, int last, const char* previous_text) {
  g_gen = gen;
  const std::vector<Span> own = seal_everything();
  attack(own, EPERM);
  std::vector<Span> previous = parse(previous_text);
  if (gen > 0) previous.push_back({slot(gen - 1), slot(gen - 1) + kPage});
  reuse_previous(previous, own);
  if (gen >= last) {
    std::printf("chain ok: %d images\n", gen + 1);
    return 0;
  }
  const std::string next = std::to_string(gen + 1), last_s = std::to_string(last), mine = format(own);
  const char* argv[] = {"chain", next.c_str(), last_s.c_str(), mine.c_str(), nullptr};
  execv("/proc/self/exe", const_cast<char* const*>(argv));
  fail("execv", errno);
}

int fork_case() {
  const std::vector<Span> own = seal_everything();
  pid_t pid = fork();
  if (pid == 0) {
    attack(own, EPERM);  // same image: the parent's seals hold in the child
    std::_Exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("a forked child was not refused", 0);
  pid = fork();
  if (pid == 0) {
    const std::string ranges = format({own[2], own[3]});
    const char* argv[] = {"chain", "probe", ranges.c_str(), nullptr};
    execv("/proc/self/exe", const_cast<char* const*>(argv));
    std::_Exit(4);
  }
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("fork then exec still refused", 0);
  attack(own, EPERM);  // and the parent's own seals are untouched by its children
  std::printf("fork ok\n");
  return 0;
}

// The supervisor keeps what it learnt of each process and adds a
// registration to it; a registration by another process that shares this
// one's memory (CLONE_VM without CLONE_THREAD, as vfork makes) must reach this
// one's too, or it would go on answering this process from before the seal.
int child_seals(void* page) { return sealkit_mseal(page, kPage, 0) == 0 ? 0 : 1; }

int clonevm_case() {
  void* page = mmap(nullptr, kPage, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  void* mine = mmap(nullptr, kPage, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED || mine == MAP_FAILED) fail("mmap", errno);
  const auto m = reinterpret_cast<std::uintptr_t>(mine);
  seal("seal a page of its own first", {m, m + kPage});
  if (mprotect(page, kPage, PROT_READ) != 0) fail("mprotect before the seal", errno);  // the supervisor knows it now
  static char stack[256 * 1024];
  const pid_t pid = clone(child_seals, stack + sizeof stack, CLONE_VM | SIGCHLD, page);
  if (pid < 0) fail("clone", errno);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("the CLONE_VM child could not seal", 0);
  expect_errno("mprotect of the page the CLONE_VM child sealed", mprotect(page, kPage, PROT_READ | PROT_WRITE), EPERM);
  expect_errno("munmap of the page the CLONE_VM child sealed", munmap(page, kPage), EPERM);
  std::printf("clonevm ok\n");
  return 0;
}

// The supervisor drops the records of images that are gone (no process maps
// their token). This image seals, forks a child that outlives it, and execs a
// chain of LAST+1 images whose registrations make the supervisor collect
// several times over. The child waits until it is reparented (the chain has
// ended), then must still be refused on the seals it inherited: it maps the
// token, so its record is live and must never have been collected. It writes
// "ok" to RESULT_FILE only then.
int survivor_case(const char* result_file, const char* last) {
  const std::vector<Span> own = seal_everything();
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) fail("fork", errno);
  if (pid == 0) {
    while (getppid() == parent) usleep(10000);
    attack(own, EPERM);
    FILE* f = std::fopen(result_file, "w");
    if (f == nullptr) fail("opening the result file", errno);
    std::fputs("ok\n", f);
    std::fclose(f);
    std::_Exit(0);
  }
  const char* argv[] = {"chain", "0", last, nullptr};
  execv("/proc/self/exe", const_cast<char* const*>(argv));
  fail("execv", errno);
}

// From a second thread (its notifications carry its own task id; the
// supervisor answers them from its process's entry): the same answers. The
// thread then seals a page of its own, and the main thread, whose process the
// supervisor has seen before, must be refused on it at once.
int thread_case() {
  const std::vector<Span> own = seal_everything();
  int result = 0;
  void* theirs = mmap(nullptr, kPage, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (theirs == MAP_FAILED) fail("mmap", errno);
  std::thread t([&] {
    attack(own, EPERM);
    void* fresh = mmap(nullptr, kPage, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    result = fresh == MAP_FAILED ? errno : munmap(fresh, kPage) == 0 ? 0 : errno;
    if (result == 0 && sealkit_mseal(theirs, kPage, 0) != 0) result = errno;
  });
  t.join();
  if (result != 0) fail("munmap of an unsealed page, or a seal, from a thread", result);
  expect_errno("mprotect of the page the thread sealed", mprotect(theirs, kPage, PROT_READ | PROT_WRITE), EPERM);
  expect_errno("munmap of the page the thread sealed", munmap(theirs, kPage), EPERM);
  std::printf("thread ok\n");
  return 0;
}

int probe(const char* ranges) {
  g_gen = -1;
  std::vector<Span> spans = parse(ranges);
  if (reuse_previous(spans, {}) != static_cast<int>(spans.size())) fail("probe: a range was mapped here", 0);
  return 0;
}

// After the supervisor is gone every call the root filter sends it fails
// with ENOSYS, the allocator's own mmap/munmap included (a sanitizer's too):
// so from then on only raw system calls, no output but write(2), and _exit.
long raw(long nr, long a, long b, long c) {
  const long r = syscall(nr, a, b, c, 0L, 0L, 0L);
  return r == -1 ? -errno : r;
}

int wait_case(int ready_fd, int go_fd) {
  const std::vector<Span> own = seal_everything();
  char c = 'S';
  if (write(ready_fd, &c, 1) != 1) fail("write", errno);
  if (read(go_fd, &c, 1) != 1) fail("read", errno);
  const long text = static_cast<long>(own[0].start), anon = static_cast<long>(own[2].start);
  const long page = static_cast<long>(kPage);
  const long results[] = {
      raw(SYS_mprotect, text, page, PROT_READ | PROT_WRITE | PROT_EXEC),  // attacks: refused, ENOSYS
      raw(SYS_munmap, anon, page, 0),
      raw(SYS_madvise, anon, page, MADV_DONTNEED),
      // an unsealed hole (munmap of nothing): also ENOSYS, nobody answers
      raw(SYS_munmap, static_cast<long>(slot(1) + 0x100000), page, 0),
  };
  bool ok = true;
  for (long r : results) ok = ok && r == -ENOSYS;
  const char* msg = ok ? "wait ok\n" : "wait: a call was not answered ENOSYS without the supervisor\n";
  if (write(ok ? 1 : 2, msg, std::strlen(msg)) < 0) ok = false;
  _exit(ok ? 0 : 3);
}

}  // namespace

int main(int argc, char** argv) {
  if (std::strcmp(sealkit_backend(), "seccomp") != 0) {
    std::fprintf(stderr, "chain: backend %s, not seccomp (SEALKIT_BACKEND=seccomp)\n", sealkit_backend());
    return 3;
  }
  if (argc >= 3 && std::strcmp(argv[1], "norandom") == 0) {
    // What `setarch -R` does: no ASLR from the next exec on, for every image after it.
    if (personality(static_cast<unsigned long>(personality(0xffffffff)) | ADDR_NO_RANDOMIZE) < 0) fail("personality", errno);
    execv("/proc/self/exe", argv + 1);
    fail("execv", errno);
  }
  if (argc >= 2 && std::strcmp(argv[1], "fork") == 0) return fork_case();
  if (argc >= 2 && std::strcmp(argv[1], "thread") == 0) return thread_case();
  if (argc >= 2 && std::strcmp(argv[1], "clonevm") == 0) return clonevm_case();
  if (argc >= 4 && std::strcmp(argv[1], "survivor") == 0) return survivor_case(argv[2], argv[3]);
  if (argc >= 3 && std::strcmp(argv[1], "probe") == 0) return probe(argv[2]);
  if (argc >= 4 && std::strcmp(argv[1], "wait") == 0) return wait_case(std::atoi(argv[2]), std::atoi(argv[3]));
  if (argc >= 3) return chain(std::atoi(argv[1]), std::atoi(argv[2]), argc >= 4 ? argv[3] : nullptr);
  std::fprintf(stderr, "usage: chain GEN LAST [RANGES] | fork | probe RANGES | wait READY_FD GO_FD\n");
  return 2;
}
