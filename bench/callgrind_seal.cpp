// A fixed workload for valgrind --tool=callgrind (bench/callgrind.py): the
// same number of mseal calls on the same page, raw and through libsealkit,
// and the same number of sealed one-page mappings made with mmap + mseal and
// with sealkit_mmap(PROT_READ | SEALKIT_PROT_SEAL).
// Instruction counts do not depend on what else the machine is doing, so they
// show the library's own cost where timings are too noisy to.
//
// Valgrind 3.19 (Debian 12) does not know mseal (syscall 462): it would
// answer ENOSYS without entering the kernel, and both loops would measure
// their error paths. So this program defines syscall() itself, and the
// dynamic linker binds libsealkit's call to it as well as the raw loop's:
// mseal "succeeds" in a stub of a few instructions, the same stub for both
// loops of a pair, and the difference between the loops is exactly the
// user-space code libsealkit adds on its success path. mmap is real (valgrind
// runs it; only the instructions of its libc wrapper are counted). With
// --real-kernel, mseal goes to the kernel too, and the program checks that
// its page really got sealed.
#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "sealkit/sealkit.h"

namespace {
constexpr long kMsealSyscall = 462;
bool g_real_kernel = false;
}  // namespace

// The interposed syscall(2). Anything but a stubbed mseal goes on to libc's
// own syscall() with all six argument registers, as libc's would pass them.
extern "C" long syscall(long number, ...) {
  if (number == kMsealSyscall && !g_real_kernel) return 0;
  using Syscall = long (*)(long, ...);
  static const auto next = reinterpret_cast<Syscall>(::dlsym(RTLD_NEXT, "syscall"));
  if (next == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  va_list ap;
  va_start(ap, number);
  long args[6];
  for (long& a : args) a = va_arg(ap, long);  // the register save area holds all six
  va_end(ap);
  return next(number, args[0], args[1], args[2], args[3], args[4], args[5]);
}

// extern "C" and noinline so that callgrind_annotate shows each loop under a
// plain, stable name with its inclusive count.
extern "C" __attribute__((noinline)) long callgrind_raw_mseal_loop(void* page, std::size_t len, long calls) {
  long failures = 0;
  for (long i = 0; i < calls; ++i) failures += ::syscall(kMsealSyscall, page, len, 0UL) != 0;
  return failures;
}

extern "C" __attribute__((noinline)) long callgrind_sealkit_mseal_loop(void* page, std::size_t len, long calls) {
  long failures = 0;
  for (long i = 0; i < calls; ++i) failures += sealkit_mseal(page, len, 0) != 0;
  return failures;
}

extern "C" __attribute__((noinline)) long callgrind_raw_mmap_sealed_loop(std::size_t len, long calls) {
  long failures = 0;
  for (long i = 0; i < calls; ++i) {
    void* p = ::mmap(nullptr, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    failures += p == MAP_FAILED || ::syscall(kMsealSyscall, p, len, 0UL) != 0;
  }
  return failures;
}

extern "C" __attribute__((noinline)) long callgrind_sealkit_mmap_sealed_loop(std::size_t len, long calls) {
  long failures = 0;
  for (long i = 0; i < calls; ++i)
    failures += sealkit_mmap(nullptr, len, PROT_READ | SEALKIT_PROT_SEAL, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED;
  return failures;
}

int main(int argc, char** argv) {
  int arg = 1;
  if (arg < argc && std::strcmp(argv[arg], "--real-kernel") == 0) {
    g_real_kernel = true;
    ++arg;
  }
  const long calls = arg < argc ? std::strtol(argv[arg], nullptr, 10) : 100000;
  if (calls <= 0) {
    std::fprintf(stderr, "usage: callgrind_seal [--real-kernel] [CALLS > 0]\n");
    return 2;
  }
  const auto ps = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  void* page = ::mmap(nullptr, ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return 1;
  // Warm both paths once (lazy binding of the PLT slots) before counting.
  callgrind_raw_mseal_loop(page, ps, 1);
  callgrind_sealkit_mseal_loop(page, ps, 1);
  callgrind_raw_mmap_sealed_loop(ps, 1);
  callgrind_sealkit_mmap_sealed_loop(ps, 1);
  long raw = callgrind_raw_mseal_loop(page, ps, calls);
  long lib = callgrind_sealkit_mseal_loop(page, ps, calls);
  // Mappings leak (sealed ones cannot be unmapped): a tenth as many.
  const long maps = calls / 10 > 0 ? calls / 10 : 1;
  raw += callgrind_raw_mmap_sealed_loop(ps, maps);
  lib += callgrind_sealkit_mmap_sealed_loop(ps, maps);
  // Sealed only when the real kernel was asked: mprotect then fails with EPERM.
  const bool sealed = ::mprotect(page, ps, PROT_READ) != 0 && errno == EPERM;
  std::printf("mseal_calls=%ld mmap_calls=%ld raw_failures=%ld sealkit_failures=%ld page_sealed=%s\n", calls, maps,
              raw, lib, sealed ? "yes" : "no");
  return 0;
}
