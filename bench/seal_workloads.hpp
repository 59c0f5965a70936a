// The memory and the raw calls that the sealing benchmarks (bench_seal.cpp,
// bench_seal_paired.cpp) share.
//
// Sealing is permanent: a sealed mapping can never be unmapped. Every loop
// that seals fresh memory therefore has a fixed iteration count and maps its
// memory before the timed loop, so the leak per run is bounded and known
// (untouched address space, no RSS).
#pragma once

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstddef>

namespace sealkit::bench {

// Pages sealed (and leaked) by one run of a fresh-memory benchmark.
inline constexpr std::size_t kFreshPages = 16384;

std::size_t page_size();

// mseal(2) the way a program without sealkit calls it: syscall(462, ...)
// written at the call site. (__NR_mseal is 462 on every architecture; Debian
// 12's kernel headers predate it.) 0, or -1 with errno. Inline, so that the
// baseline has no frame of its own between its loop and libc's syscall().
inline long raw_mseal(void* addr, std::size_t len) { return ::syscall(462, addr, len, 0UL); }

// raw_mseal called through three more function frames (no tail calls), so
// that three more user-space returns follow the system call.
long raw_mseal_three_frames_deeper(void* addr, std::size_t len);

// One read-only page, sealed once, shared by every "resealed" benchmark so
// that all of them seal the very same VMA again. nullptr when mseal fails.
void* sealed_page();

// kFreshPages read-only pages in one mapping, not yet sealed. Each iteration
// of a fresh-memory benchmark seals the next one. An inaccessible guard page
// on each side keeps the pool from merging with whatever the kernel placed
// next to it (such as the sealed pages of an earlier run), so every run does
// the same splits and merges.
class FreshPool {
 public:
  FreshPool();
  FreshPool(const FreshPool&) = delete;
  FreshPool& operator=(const FreshPool&) = delete;
  bool ok() const { return base_ != nullptr; }
  void* page(std::size_t i) const;

 private:
  std::byte* base_ = nullptr;  // never unmapped: the sealed part cannot be
};

// Marks the run as failed when any call in it failed.
void report_failures(benchmark::State& state, std::size_t failures);

}  // namespace sealkit::bench
