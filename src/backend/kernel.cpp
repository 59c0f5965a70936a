#include "backend/kernel.hpp"

#include <cerrno>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "backend/ask_in_child.hpp"
#include "backend/kernel_abi.hpp"
#include "core/page.hpp"

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

namespace sealkit::backend::kernel {

int check_mapped(std::uintptr_t start, std::uintptr_t end) noexcept {
  const int saved = errno;
  const int e = ::msync(reinterpret_cast<void*>(start), end - start, MS_ASYNC) == 0 ? 0 : errno;
  errno = saved;
  return e;
}

bool exists() noexcept {
  // Under a filter, mseal itself may kill the process (an allow-list written
  // before mseal, without an error number): a child asks first.
  if (under_seccomp_filter()) return ask_in_child([] { return mseal(0, 0, 0) == 0 ? 0 : 1; }) == 0;
  const int saved = errno;
  const bool r = mseal(0, 0, 0) == 0;
  errno = saved;
  return r;
}

bool available() noexcept {
  static const bool ok = exists();
  return ok;
}

namespace {

VmaState raw_probe(std::uintptr_t start, std::size_t len) noexcept {
  int saved = errno;
  void* p = ::mremap(reinterpret_cast<void*>(start), len, len, 0);
  VmaState st;
  if (p != MAP_FAILED) st = VmaState::kUnsealed;
  else if (errno == EPERM) st = VmaState::kSealed;
  else if (errno == EFAULT) st = VmaState::kUnmapped;
  else st = VmaState::kUnsealed;  // e.g. EINVAL from a hugetlb VMA: the seal check came first and passed
  errno = saved;
  return st;
}

bool calibrate() noexcept {
  if (!available()) return true;  // nothing can be sealed: "unsealed" is always right
  const std::size_t ps = core::page_size();
  int saved = errno;
  void* m = ::mmap(nullptr, 2 * ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) {
    errno = saved;
    return false;
  }
  auto base = reinterpret_cast<std::uintptr_t>(m);
  (void)::prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, base, ps, "sealkit-probe");
  bool ok = false;
  if (mseal(base, ps, 0) == 0) {
    ok = raw_probe(base, ps) == VmaState::kSealed && raw_probe(base + ps, ps) == VmaState::kUnsealed;
    // munmap is all-or-nothing over sealed pages: remove only the unsealed
    // one. The sealed page stays for the life of the process, by design.
    ::munmap(reinterpret_cast<void*>(base + ps), ps);
  } else {
    ::munmap(m, 2 * ps);
  }
  errno = saved;
  return ok;
}

}  // namespace

VmaState probe_page_unverified(std::uintptr_t page) noexcept { return raw_probe(page, core::page_size()); }

VmaState probe_unverified(std::uintptr_t start, std::size_t len) noexcept { return raw_probe(start, len); }

bool probe_reliable() noexcept {
  static const bool ok = calibrate();
  return ok;
}

VmaState probe_vma(std::uintptr_t page) noexcept {
  if (!probe_reliable()) return VmaState::kUnknown;
  return raw_probe(page, core::page_size());
}

}  // namespace sealkit::backend::kernel
