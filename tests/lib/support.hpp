// Helpers shared by the library tests: scratch mappings, an independent
// reading of /proc/self/smaps, and running a body in a forked child.
//
// The smaps reader here is deliberately separate from src/core/proc_maps: the
// tests compare the library's answers against it, so a bug in the library's
// parser must not be able to hide a bug in the library.
#pragma once

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace sealkit::test {

std::size_t page() noexcept;

// Byte pointer arithmetic on mapping addresses.
inline std::byte* at(void* base, std::size_t pages) noexcept { return static_cast<std::byte*>(base) + pages * page(); }

// A fresh private anonymous mapping of `pages` pages (plain mmap, not the
// library), or nullptr with a test failure recorded. It is placed in a zone
// of the address space that nothing else uses, so that holes tests make in
// it stay holes and it never merges with a neighbour (support.cpp).
std::byte* map_pages(std::size_t pages, int prot = PROT_READ, int flags = MAP_PRIVATE | MAP_ANONYMOUS);

// An address range of `pages` pages in the test zone that is free (mapped,
// then unmapped), for tests that need a hole or a MAP_FIXED target.
std::byte* free_range(std::size_t pages);

// One entry of /proc/self/smaps, read by this file's own parser.
struct SmapsVma {
  std::uintptr_t start = 0;
  std::uintptr_t end = 0;
  std::string perms;  // "r--p" etc.
  std::string name;   // path or [heap], [anon:...], empty for anonymous
  std::vector<std::string> vmflags;

  bool has_flag(const std::string& f) const;
  bool sealed() const { return has_flag("sl"); }
  int prot() const;  // PROT_* from perms
};

// Every entry of /proc/self/smaps in address order.
std::vector<SmapsVma> read_smaps();
// The entry that holds `addr`, if any.
std::optional<SmapsVma> smaps_vma_at(const void* addr);
// The protection of the VMA that holds `addr` (PROT_*), -1 when unmapped.
int smaps_prot_at(const void* addr);
// The [start, end) length of the VMA that holds `addr`, 0 when unmapped.
std::size_t smaps_vma_size_at(const void* addr);
// The entries that overlap [addr, addr+len).
std::vector<SmapsVma> smaps_vmas_in(const void* addr, std::size_t len);

// What smaps says about every page of [addr, addr+len): all sealed, some page
// not sealed, or some page unmapped (a hole wins over "not sealed").
enum class SmapsSeal { kAllSealed, kNotAllSealed, kHole };
SmapsSeal smaps_seal_state(const void* addr, std::size_t len);
const char* to_string(SmapsSeal s);

// Whether every page of the range is mapped (mincore fails with ENOMEM on a
// hole). Allocates nothing, so it can look at a hole before anything fills it.
bool is_mapped(const void* addr, std::size_t len);

// Checks, with gtest assertions, that both the library (sealkit_is_sealed)
// and smaps say that [addr, addr+len) is sealed (or, with `sealed` false, that
// the range is mapped and not all sealed).
void expect_seal_state(const void* addr, std::size_t len, bool sealed, const char* where);
#define EXPECT_SEALED(addr, len) ::sealkit::test::expect_seal_state((addr), (len), true, #addr)
#define EXPECT_NOT_SEALED(addr, len) ::sealkit::test::expect_seal_state((addr), (len), false, #addr)

// ---- forked children ----

// Collects failed checks inside a forked child; they travel to the parent
// through a pipe. gtest assertions cannot be used in the child.
class ChildReport {
 public:
  explicit ChildReport(int fd) : fd_(fd) {}
  void fail(const std::string& msg);
  void skip(const std::string& reason);
  bool failed() const { return failed_; }
  bool skipped() const { return skipped_; }

 private:
  int fd_;
  bool failed_ = false;
  bool skipped_ = false;
};

#define CHILD_CHECK(report, cond) \
  ((cond) ? true : ((report).fail(std::string(__FILE__ ":") + std::to_string(__LINE__) + ": " #cond), false))
// A check that also reports errno, for system calls.
#define CHILD_CHECK_ERRNO(report, cond)                                                                   \
  ((cond) ? true                                                                                          \
          : ((report).fail(std::string(__FILE__ ":") + std::to_string(__LINE__) + ": " #cond " (errno " + \
                           std::to_string(errno) + ")"),                                                  \
             false))

struct ChildResult {
  bool exited = false;
  int exit_code = -1;
  int term_signal = 0;
  bool skipped = false;
  std::string messages;

  bool passed() const { return exited && exit_code == 0; }
  std::string describe() const;
};

// fork(); the child runs `body` and exits (0 when no check failed), the parent
// waits and collects what the child reported.
ChildResult run_in_child(const std::function<void(ChildReport&)>& body);

// Runs `body` in a child and turns its outcome into gtest results in the
// parent; a child that skipped skips the test with its reason.
// Variadic so that a lambda body's commas need no parentheses.
#define EXPECT_CHILD_PASSES(...)                                                             \
  do {                                                                                       \
    ::sealkit::test::ChildResult child_result_ = ::sealkit::test::run_in_child(__VA_ARGS__); \
    if (child_result_.skipped) {                                                             \
      GTEST_SKIP() << child_result_.messages;                                                \
    }                                                                                        \
    EXPECT_TRUE(child_result_.passed()) << child_result_.describe();                         \
  } while (0)

// In a child: the default action for `sig`, so that a fault really kills the
// process (a sanitizer runtime installs its own SIGSEGV handler).
void restore_default_signal(int sig);

// In a child (filters are forever): install a seccomp filter that makes
// system call `nr` fail with `err` - always when `arg` is negative, else only
// when the low 32 bits of argument `arg` have a bit of `mask` set. false when
// this architecture is not supported here (the caller skips).
bool deny_syscall(long nr, int err, int arg = -1, std::uint32_t mask = 0);
// mseal(2) fails with `err`: as on a kernel without it (ENOSYS), or to force
// a sealing failure.
bool deny_mseal_with(int err);
// mseal(2) kills the process (SIGSYS), as an allow-list written before mseal
// without an error number does.
bool kill_at_mseal();

// true (the default): every test of the binary is skipped on a kernel without
// mseal(2). The seccomp backend's tests clear it: they run on such kernels.
inline bool g_tests_need_kernel_mseal = true;

}  // namespace sealkit::test
