// A fixed workload for valgrind --tool=callgrind (bench/callgrind.py): the
// same number of mseal calls on the same page, raw and through libsealkit.
// Instruction counts do not depend on what else the machine is doing, so they
// show the library's own cost where timings are too noisy to.
//
// Valgrind 3.19 (Debian 12) does not know mseal (syscall 462) and answers
// ENOSYS without entering the kernel: both loops then take the error path,
// which costs the wrapper the same few instructions as success.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "sealkit/sealkit.h"

namespace {
constexpr long kMsealSyscall = 462;
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

int main(int argc, char** argv) {
  const long calls = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 100000;
  if (calls <= 0) {
    std::fprintf(stderr, "usage: callgrind_mseal [CALLS > 0]\n");
    return 2;
  }
  const auto ps = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  void* page = ::mmap(nullptr, ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return 1;
  // Warm both paths once (lazy binding of the PLT slots) before counting.
  callgrind_raw_mseal_loop(page, ps, 1);
  callgrind_sealkit_mseal_loop(page, ps, 1);
  long raw = callgrind_raw_mseal_loop(page, ps, calls);
  long lib = callgrind_sealkit_mseal_loop(page, ps, calls);
  std::printf("calls=%ld raw_failures=%ld sealkit_failures=%ld\n", calls, raw, lib);
  return 0;
}
