#include "seal_workloads.hpp"

#include <sys/mman.h>
#include <unistd.h>

namespace sealkit::bench {

std::size_t page_size() {
  static const std::size_t ps = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return ps;
}

namespace {
[[gnu::noinline]] long deeper1(void* addr, std::size_t len) {
  long r = raw_mseal(addr, len);
  asm volatile("" : "+r"(r));  // the result passes through this frame: no tail call
  return r;
}
[[gnu::noinline]] long deeper2(void* addr, std::size_t len) {
  long r = deeper1(addr, len);
  asm volatile("" : "+r"(r));
  return r;
}
}  // namespace

long raw_mseal_three_frames_deeper(void* addr, std::size_t len) {
  long r = deeper2(addr, len);
  asm volatile("" : "+r"(r));
  return r;
}

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
