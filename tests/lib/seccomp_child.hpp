// What the library's seccomp-backend tests do in their forked children
// (filters cannot be removed, and the backend is chosen once per process).
#pragma once

#include <sys/mman.h>

#include <cstddef>

#include "lib/support.hpp"

namespace sealkit::test {

inline constexpr int kAnon = MAP_PRIVATE | MAP_ANONYMOUS;

// In a child: the backend is chosen afresh from SEALKIT_BACKEND = value (the
// parent's warm-up already chose once); nullptr unsets it.
void choose_again(const char* value);

// In a child: selects the seccomp backend before the library's first call;
// false (the test skipped, with the reason) when it is not available here.
bool use_seccomp(ChildReport& r);

// A fresh private anonymous mapping, or nullptr with a failure reported.
std::byte* fresh(ChildReport& r, std::size_t pages, int prot = PROT_READ);

inline bool fails_with(int rc, int err) { return rc == -1 && errno == err; }

// The calling thread's seccomp filters, as the kernel counts them
// (Seccomp_filters in /proc/thread-self/status); -1 when it does not say.
int filters_installed();

}  // namespace sealkit::test
