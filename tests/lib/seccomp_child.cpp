#include "lib/seccomp_child.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "lib/backend_choice.hpp"
#include "sealkit/sealkit.h"

namespace sealkit::test {

void choose_again(const char* value) {
  if (value) ::setenv("SEALKIT_BACKEND", value, 1);
  else ::unsetenv("SEALKIT_BACKEND");
  lib::forget_backend_choice_for_tests();
}

bool use_seccomp(ChildReport& r) {
  choose_again("seccomp");
  if (std::strcmp(sealkit_backend(), "seccomp") != 0) {
    r.skip(std::string("the seccomp backend is not available here: sealkit_backend() is ") + sealkit_backend());
    return false;
  }
  return true;
}

std::byte* fresh(ChildReport& r, std::size_t pages, int prot) {
  void* p = ::mmap(nullptr, pages * page(), prot, kAnon, -1, 0);
  CHILD_CHECK_ERRNO(r, p != MAP_FAILED);
  return p == MAP_FAILED ? nullptr : static_cast<std::byte*>(p);
}

int filters_installed() {
  std::ifstream in("/proc/thread-self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Seccomp_filters:", 0) == 0) return std::atoi(line.c_str() + 16);
  }
  return -1;
}

}  // namespace sealkit::test
