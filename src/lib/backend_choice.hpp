// Which backend seals in this process: chosen once (SEALKIT_BACKEND, then what
// the kernel offers), cached, thread-safe. docs/seccomp.md, "The library's backend".
#pragma once

#include <atomic>

namespace sealkit::lib {

enum class Backend : int { kUnchosen = 0, kNone, kKernel, kSeccomp };

// The cached choice; kUnchosen until the first call of chosen_backend().
extern std::atomic<int> g_backend_choice;

// Makes (once) and returns the choice. Out of line: it runs once per process.
Backend choose_backend() noexcept;

// One relaxed load on every call after the first, so the kernel path stays a
// load, a compare and the system call.
inline Backend chosen_backend() noexcept {
  const int b = g_backend_choice.load(std::memory_order_relaxed);
  if (b != static_cast<int>(Backend::kUnchosen)) [[likely]] return static_cast<Backend>(b);
  return choose_backend();
}

// The seal path's test: true once the kernel backend is chosen. Not yet chosen
// counts as false, so the out-of-line path makes the choice (one compare less
// on every seal).
inline bool kernel_backend_chosen() noexcept {
  return g_backend_choice.load(std::memory_order_relaxed) == static_cast<int>(Backend::kKernel);
}

const char* backend_name(Backend b) noexcept;

// Tests only, in a forked child: the next call chooses again (reads
// SEALKIT_BACKEND again, may warn again).
void forget_backend_choice_for_tests() noexcept;

}  // namespace sealkit::lib
