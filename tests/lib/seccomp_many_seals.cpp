// A program that seals N separate pages one sealkit_mseal call at a time, run
// under the supervisor by seccomp_many_seals_test.cpp (SEALKIT_BACKEND=seccomp):
// each call is one registration. After each call it writes "seal I RCHAR" to
// OUT: I counts from 1, RCHAR is the kernel's count of bytes this process has
// read so far (/proc/self/io), the work the library does reading files such
// as its own maps. Then it checks that the seals hold (a sealed page refuses
// mprotect with EPERM, the unsealed page next to it does not) and writes "ok".
// Usage: seccomp_many_seals N OUT
// Exit 0 when everything behaved, 2 for bad arguments, 3 with a message on stderr otherwise.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "sealkit/sealkit.h"

namespace {

// rchar from /proc/self/io, or -1. Reading it adds the same few bytes each time.
long long bytes_read() {
  const int fd = ::open("/proc/self/io", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[512];
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  long long v = -1;
  return std::sscanf(buf, "rchar: %lld", &v) == 1 ? v : -1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  const long n = std::atol(argv[1]);
  FILE* out = std::fopen(argv[2], "we");
  if (n <= 0 || n > 100000 || out == nullptr) return 2;
  const long page = ::sysconf(_SC_PAGESIZE);
  // Every other page sealed, so that each seal is a range of its own.
  auto* region = static_cast<char*>(
      ::mmap(nullptr, static_cast<std::size_t>(2 * n * page), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (region == MAP_FAILED) return 3;
  for (long i = 0; i < n; ++i) {
    if (sealkit_mseal(region + 2 * i * page, static_cast<std::size_t>(page), 0) != 0) {
      std::fprintf(stderr, "seal %ld: %s\n", i + 1, std::strerror(errno));
      return 3;
    }
    std::fprintf(out, "seal %ld %lld\n", i + 1, bytes_read());
  }
  for (long i : {0L, n / 2, n - 1}) {
    if (::mprotect(region + 2 * i * page, static_cast<std::size_t>(page), PROT_READ | PROT_WRITE) == 0 ||
        errno != EPERM) {
      std::fprintf(stderr, "sealed page %ld: mprotect was not refused with EPERM\n", i + 1);
      return 3;
    }
    if (::mprotect(region + (2 * i + 1) * page, static_cast<std::size_t>(page), PROT_READ) != 0) {
      std::fprintf(stderr, "the unsealed page after seal %ld: mprotect: %s\n", i + 1, std::strerror(errno));
      return 3;
    }
  }
  std::fprintf(out, "ok\n");
  return std::fclose(out) == 0 ? 0 : 3;
}
