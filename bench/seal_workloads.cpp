#include "seal_workloads.hpp"

#include <sys/mman.h>
#include <unistd.h>

namespace sealkit::bench {

namespace {
constexpr long kMsealSyscall = 462;
}

std::size_t page_size() {
  static const std::size_t ps = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return ps;
}

long raw_mseal(void* addr, std::size_t len) { return ::syscall(kMsealSyscall, addr, len, 0UL); }

void* sealed_page() {
  static void* const page = []() -> void* {
    void* p = ::mmap(nullptr, page_size(), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED || raw_mseal(p, page_size()) != 0) return nullptr;
    return p;
  }();
  return page;
}

FreshPool::FreshPool() {
  const std::size_t ps = page_size();
  void* p = ::mmap(nullptr, (kFreshPages + 2) * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return;
  auto* pool = static_cast<std::byte*>(p) + ps;
  if (::mprotect(pool, kFreshPages * ps, PROT_READ) == 0) base_ = pool;
}

void* FreshPool::page(std::size_t i) const { return base_ + i * page_size(); }

void report_failures(benchmark::State& state, std::size_t failures) {
  if (failures != 0) state.SkipWithError("a seal, map or unmap call failed");
}

}  // namespace sealkit::bench
