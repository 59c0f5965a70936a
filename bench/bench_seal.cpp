// What libsealkit adds on top of the kernel when it seals.
//
// Each pair runs exactly the same kernel work twice: once the way a program
// without sealkit would write it ("baseline": the raw system call), once
// through the C ABI ("sealkit"). Both halves live in this one binary so that
// bench/compare.py can run them interleaved, in random order, many times, and
// report the ratio of their medians. docs/benchmarks.md explains why each pair
// is fair and records the figures.
//
// Sealing is permanent: a sealed mapping can never be unmapped. Every loop
// that seals fresh memory therefore has a fixed iteration count and its
// memory is mapped before the timed loop, so the leak per run is bounded and
// known (kFreshPages pages of untouched address space, no RSS).
#include <benchmark/benchmark.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

#include "sealkit/sealkit.h"

namespace {

// __NR_mseal is 462 on every architecture; Debian 12's kernel headers (6.1)
// predate it, so a program without sealkit writes the number itself.
constexpr long kMsealSyscall = 462;

// Pages sealed (and leaked) by one run of a fresh-memory benchmark.
constexpr std::size_t kFreshPages = 16384;

std::size_t page_size() {
  static const std::size_t ps = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return ps;
}

long raw_mseal(void* addr, std::size_t len) { return ::syscall(kMsealSyscall, addr, len, 0UL); }

// One read-only page, sealed once and shared by both halves of the
// "resealed" pair, so both seal the very same VMA.
void* sealed_page() {
  static void* const page = []() -> void* {
    void* p = ::mmap(nullptr, page_size(), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED || raw_mseal(p, page_size()) != 0) return nullptr;
    return p;
  }();
  return page;
}

// kFreshPages read-only pages in one mapping, not yet sealed. Each iteration
// of a fresh-memory benchmark seals the next one. An inaccessible guard page
// on each side keeps the pool from merging with whatever the kernel placed
// next to it (such as the sealed pages of an earlier run), so every run does
// the same splits and merges.
class FreshPool {
 public:
  FreshPool() {
    const std::size_t ps = page_size();
    void* p = ::mmap(nullptr, (kFreshPages + 2) * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return;
    auto* pool = static_cast<std::byte*>(p) + ps;
    if (::mprotect(pool, kFreshPages * ps, PROT_READ) == 0) base_ = pool;
  }
  FreshPool(const FreshPool&) = delete;
  FreshPool& operator=(const FreshPool&) = delete;
  bool ok() const { return base_ != nullptr; }
  void* page(std::size_t i) const { return base_ + i * page_size(); }

 private:
  std::byte* base_ = nullptr;  // never unmapped: the sealed part cannot be, the rest is tiny
};

void report_failures(benchmark::State& state, std::size_t failures) {
  if (failures != 0) state.SkipWithError("a seal, map or unmap call failed");
}

// --- mseal on memory that is already sealed --------------------------------
// Sealing twice succeeds and walks the same kernel path every time (look up
// the VMAs, find them sealed), so the loop can run unbounded without leaking.

void resealed_baseline(benchmark::State& state) {
  void* p = sealed_page();
  if (p == nullptr) return state.SkipWithError("cannot map and seal a page");
  std::size_t failures = 0;
  for (auto _ : state) failures += raw_mseal(p, page_size()) != 0;
  report_failures(state, failures);
}

void resealed_sealkit(benchmark::State& state) {
  void* p = sealed_page();
  if (p == nullptr) return state.SkipWithError("cannot map and seal a page");
  std::size_t failures = 0;
  for (auto _ : state) failures += sealkit_mseal(p, page_size(), 0) != 0;
  report_failures(state, failures);
}

// The same raw loop under a second name: an A/A control. Its ratio to
// resealed_baseline shows what the method itself resolves (noise, code
// placement) on this machine.
void resealed_raw_again(benchmark::State& state) {
  void* p = sealed_page();
  if (p == nullptr) return state.SkipWithError("cannot map and seal a page");
  std::size_t failures = 0;
  for (auto _ : state) failures += raw_mseal(p, page_size()) != 0;
  report_failures(state, failures);
}

// --- mseal on fresh memory --------------------------------------------------
// The first seal of a page: the kernel splits it off the pool's VMA and merges
// it into the sealed VMA before it. Same pool shape, same order for both.

void fresh_baseline(benchmark::State& state) {
  FreshPool pool;
  if (!pool.ok()) return state.SkipWithError("cannot map the page pool");
  std::size_t i = 0, failures = 0;
  for (auto _ : state) failures += raw_mseal(pool.page(i++), page_size()) != 0;
  report_failures(state, failures);
}

void fresh_sealkit(benchmark::State& state) {
  FreshPool pool;
  if (!pool.ok()) return state.SkipWithError("cannot map the page pool");
  std::size_t i = 0, failures = 0;
  for (auto _ : state) failures += sealkit_mseal(pool.page(i++), page_size(), 0) != 0;
  report_failures(state, failures);
}

// --- a sealed mapping from scratch ------------------------------------------
// mmap one read-only anonymous page and seal it: each iteration leaks one
// page of address space (never touched). The new page lands next to the
// previous sealed one and the kernel merges them, so the VMA count does not
// grow while the benchmark runs.

void mmap_sealed_baseline(benchmark::State& state) {
  std::size_t failures = 0;
  for (auto _ : state) {
    void* p = ::mmap(nullptr, page_size(), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    failures += p == MAP_FAILED || raw_mseal(p, page_size()) != 0;
  }
  report_failures(state, failures);
}

void mmap_sealed_sealkit(benchmark::State& state) {
  std::size_t failures = 0;
  for (auto _ : state) {
    void* p = sealkit_mmap(nullptr, page_size(), PROT_READ | SEALKIT_PROT_SEAL, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    failures += p == MAP_FAILED;
  }
  report_failures(state, failures);
}

// --- mmap without sealing ---------------------------------------------------
// Not a figure of the issue: what sealkit_mmap costs a mapping that is not
// sealed (it still records the range for SEALKIT_MODE_V8). munmap keeps the
// loop bounded.

void mmap_unsealed_baseline(benchmark::State& state) {
  std::size_t failures = 0;
  for (auto _ : state) {
    void* p = ::mmap(nullptr, page_size(), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    failures += p == MAP_FAILED || ::munmap(p, page_size()) != 0;
  }
  report_failures(state, failures);
}

void mmap_unsealed_sealkit(benchmark::State& state) {
  std::size_t failures = 0;
  for (auto _ : state) {
    void* p = sealkit_mmap(nullptr, page_size(), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    failures += p == MAP_FAILED || ::munmap(p, page_size()) != 0;
  }
  report_failures(state, failures);
}

// --- How much a return after a system call costs ---------------------------
// Not a figure of the issue: it explains one. The raw call, and the same raw
// call made three function frames deeper (no tail calls), so three more
// user-space returns follow each system call. docs/benchmarks.md shows why
// sealkit_mseal keeps no frame of its own below the system call.

[[gnu::noinline]] long deeper1(void* p) {
  long r = raw_mseal(p, page_size());
  asm volatile("" : "+r"(r));  // the return value passes through here: no tail call
  return r;
}
[[gnu::noinline]] long deeper2(void* p) {
  long r = deeper1(p);
  asm volatile("" : "+r"(r));
  return r;
}
[[gnu::noinline]] long deeper3(void* p) {
  long r = deeper2(p);
  asm volatile("" : "+r"(r));
  return r;
}

void three_frames_deeper(benchmark::State& state) {
  void* p = sealed_page();
  if (p == nullptr) return state.SkipWithError("cannot map and seal a page");
  std::size_t failures = 0;
  for (auto _ : state) failures += deeper3(p) != 0;
  report_failures(state, failures);
}

void register_all() {
  // Names are "<pair>/<role>": bench/compare.py divides each pair's other
  // role by its "baseline".
  benchmark::RegisterBenchmark("mseal_resealed/baseline", resealed_baseline);
  benchmark::RegisterBenchmark("mseal_resealed/sealkit", resealed_sealkit);
  benchmark::RegisterBenchmark("aa_control/baseline", resealed_baseline);
  benchmark::RegisterBenchmark("aa_control/raw_again", resealed_raw_again);
  benchmark::RegisterBenchmark("return_depth/baseline", resealed_baseline);
  benchmark::RegisterBenchmark("return_depth/three_frames_deeper", three_frames_deeper);
  const auto fresh = static_cast<benchmark::IterationCount>(kFreshPages);
  benchmark::RegisterBenchmark("mseal_fresh/baseline", fresh_baseline)->Iterations(fresh);
  benchmark::RegisterBenchmark("mseal_fresh/sealkit", fresh_sealkit)->Iterations(fresh);
  benchmark::RegisterBenchmark("mmap_sealed/baseline", mmap_sealed_baseline)->Iterations(fresh);
  benchmark::RegisterBenchmark("mmap_sealed/sealkit", mmap_sealed_sealkit)->Iterations(fresh);
  benchmark::RegisterBenchmark("mmap_unsealed/baseline", mmap_unsealed_baseline);
  benchmark::RegisterBenchmark("mmap_unsealed/sealkit", mmap_unsealed_sealkit);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  register_all();
  benchmark::AddCustomContext("sealkit_version", sealkit_version());
  benchmark::AddCustomContext("sealkit_backend", sealkit_backend());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
