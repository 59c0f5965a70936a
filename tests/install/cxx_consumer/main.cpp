// A C++ consumer of the installed sealkit (find_package(sealkit)): fills a
// table in a WriteOnceArena, freezes it, and checks that the frozen table is
// sealed and cannot be made writable, unmapped or replaced. Exits 0 only when
// every check passed.
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include <sealkit/sealkit.hpp>

namespace {

int failures = 0;

void check(bool ok, const char* what) {
  if (!ok) {
    ++failures;
    std::fprintf(stderr, "cxx consumer: FAILED: %s (errno %d: %s)\n", what, errno, std::strerror(errno));
  }
}

struct Limits {
  int max_clients;
  int timeout_seconds;
};

int answer() { return 42; }

}  // namespace

int main(int, char** argv) {
  auto arena = sealkit::WriteOnceArena::create(4096);
  check(arena.has_value(), "WriteOnceArena::create");
  if (!arena) return 1;
  Limits* limits = arena->make<Limits>(Limits{64, 30});
  using Fn = int (*)();
  Fn* handlers = arena->make_array<Fn>(4);
  check(limits && handlers, "allocating in the arena");
  if (!limits || !handlers) return 1;
  handlers[0] = answer;

  check(arena->freeze().has_value(), "freeze()");
  check(arena->frozen(), "frozen() after freeze()");
  check(arena->make<int>(1) == nullptr, "no allocation after freeze()");

  auto sealed = sealkit::is_sealed(limits, sizeof *limits);
  check(sealed.has_value() && sealed.value(), "the frozen arena is sealed");

  const auto ps = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  void* page = reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(limits) & ~std::uintptr_t{ps - 1});
  check(::mprotect(page, ps, PROT_READ | PROT_WRITE) == -1 && errno == EPERM, "mprotect(RW) fails with EPERM");
  check(::munmap(page, ps) == -1 && errno == EPERM, "munmap fails with EPERM");
  check(::mmap(page, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED &&
            errno == EPERM,
        "mmap(MAP_FIXED) over it fails with EPERM");
  check(limits->max_clients == 64 && handlers[0]() == 42, "the frozen data is intact");

  // The control: an unsealed Mapping can be changed.
  auto plain = sealkit::Mapping::anonymous(4096, PROT_READ);
  check(plain.has_value() && !plain->sealed(), "an unsealed Mapping");
  if (plain) check(::mprotect(plain->data(), 4096, PROT_READ | PROT_WRITE) == 0, "control: mprotect succeeds");

  if (failures) return 1;
  std::printf("%s: sealkit %s, all checks passed\n", argv[0], sealkit_version());
  return 0;
}
