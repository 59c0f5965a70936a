// What libsealkit adds on top of the kernel when it seals.
//
// Each pair runs exactly the same kernel work twice: once the way a program
// without sealkit would write it ("baseline": the raw system call), once
// through the C ABI ("sealkit"). Both halves live in this one binary so that
// bench/compare.py can run them interleaved, in random order, many times, and
// report the ratio of their medians. docs/benchmarks.md explains why each pair
// is fair and records the figures.
//
// bench_seal_paired.cpp measures the same pairs a second way, both halves
// alternating inside one loop.
#include <benchmark/benchmark.h>
#include <sys/mman.h>

#include <cstddef>

#include "bench_seal_paired.hpp"
#include "seal_workloads.hpp"
#include "sealkit/sealkit.h"

namespace {

using namespace sealkit::bench;

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
// Not a limited figure (bench/compare.py LIMITS): what sealkit_mmap costs a mapping that is not
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
// Not a limited figure: it explains one. The raw call, and the same raw
// call made three function frames deeper (no tail calls), so three more
// user-space returns follow each system call. docs/benchmarks.md shows why
// sealkit_mseal keeps no frame of its own below the system call.

void three_frames_deeper(benchmark::State& state) {
  void* p = sealed_page();
  if (p == nullptr) return state.SkipWithError("cannot map and seal a page");
  std::size_t failures = 0;
  for (auto _ : state) failures += raw_mseal_three_frames_deeper(p, page_size()) != 0;
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
  sealkit::bench::register_paired();
  benchmark::AddCustomContext("sealkit_version", sealkit_version());
  benchmark::AddCustomContext("sealkit_backend", sealkit_backend());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
