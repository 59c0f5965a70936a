#include "lib/backend_choice.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "backend/kernel.hpp"
#include "backend/seccomp/sealer.hpp"

namespace sealkit::lib {

std::atomic<int> g_backend_choice{static_cast<int>(Backend::kUnchosen)};

namespace {

// Asked afresh (not kernel::available()'s cache): the choice itself is made once.
bool kernel_has_mseal() noexcept { return backend::kernel::exists(); }

Backend automatic() noexcept {
  if (kernel_has_mseal()) return Backend::kKernel;
  if (backend::seccomp::unusable_reason() == nullptr) return Backend::kSeccomp;
  return Backend::kNone;
}

Backend decide() noexcept {
  const int saved = errno;
  // secure_getenv: in a setuid program the environment belongs to the caller.
  const char* want = ::secure_getenv("SEALKIT_BACKEND");
  Backend b;
  if (want == nullptr || *want == '\0' || std::strcmp(want, "auto") == 0) {
    b = automatic();
  } else if (std::strcmp(want, "kernel") == 0) {
    b = kernel_has_mseal() ? Backend::kKernel : Backend::kNone;
  } else if (std::strcmp(want, "seccomp") == 0) {
    b = backend::seccomp::unusable_reason() == nullptr ? Backend::kSeccomp : Backend::kNone;
  } else {
    std::fprintf(stderr, "sealkit: SEALKIT_BACKEND=%s is not kernel, seccomp or auto; using auto\n", want);
    b = automatic();
  }
  errno = saved;
  return b;
}

}  // namespace

Backend choose_backend() noexcept {
  // Once: the first caller decides (and warns) under the lock, later ones see its choice.
  static std::mutex lock;
  std::lock_guard<std::mutex> guard(lock);
  int b = g_backend_choice.load(std::memory_order_relaxed);
  if (b == static_cast<int>(Backend::kUnchosen)) {
    b = static_cast<int>(decide());
    g_backend_choice.store(b, std::memory_order_relaxed);
  }
  return static_cast<Backend>(b);
}

void forget_backend_choice_for_tests() noexcept {
  g_backend_choice.store(static_cast<int>(Backend::kUnchosen), std::memory_order_relaxed);
}

const char* backend_name(Backend b) noexcept {
  switch (b) {
    case Backend::kKernel: return "kernel";
    case Backend::kSeccomp: return "seccomp";
    case Backend::kUnchosen:
    case Backend::kNone: break;
  }
  return "none";
}

}  // namespace sealkit::lib
