// The sealing pairs of bench_seal.cpp measured a second way, for a noisy
// machine: baseline and sealkit alternate inside one timed loop, in blocks,
// in the order A B B A (which cancels a load that rises or falls steadily
// during an iteration). Both halves of an iteration see the same machine
// within a few tens of microseconds, so a neighbour's burst hurts both alike.
//
// Each run reports counters: baseline_ns and sealkit_ns (per call) and ratio
// (sealkit time / baseline time within the run). bench/compare.py prints the
// median over the repetitions of each.
#include "bench_seal_paired.hpp"

#include <benchmark/benchmark.h>
#include <sys/mman.h>

#include <chrono>
#include <cstddef>

#include "seal_workloads.hpp"
#include "sealkit/sealkit.h"

namespace sealkit::bench {

namespace {

// Calls per block. Large enough that reading the clock (~20 ns) is lost in
// the noise, small enough that a block lasts tens of microseconds.
constexpr std::size_t kBlock = 32;

// Blocks of sealed mappings are larger: every sealkit block lands between two
// baseline blocks in the address space, so it adds one separate range to
// sealkit's SEALKIT_MODE_V8 registry, and sealed ranges are never removed.
// With 512-call blocks that registry stays small (16 ranges per run); the
// "small_blocks" variant (32 calls) shows what a registry of thousands of
// ranges costs (docs/benchmarks.md).
constexpr std::size_t kMapBlock = 512;

using Clock = std::chrono::steady_clock;

// Runs the ABBA loop with `block` calls per block. `baseline` and
// `candidate` each make one call and return true on failure.
template <class Baseline, class Candidate>
void run_paired(benchmark::State& state, std::size_t block, Baseline baseline, Candidate candidate) {
  Clock::duration base_time{}, cand_time{};
  std::size_t failures = 0;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < block; ++i) failures += baseline();
    const auto t1 = Clock::now();
    for (std::size_t i = 0; i < 2 * block; ++i) failures += candidate();  // B B
    const auto t3 = Clock::now();
    for (std::size_t i = 0; i < block; ++i) failures += baseline();
    const auto t4 = Clock::now();
    base_time += (t1 - t0) + (t4 - t3);
    cand_time += (t3 - t1);
  }
  report_failures(state, failures);
  const double calls = 2.0 * static_cast<double>(block) * static_cast<double>(state.iterations());
  const double base_ns = std::chrono::duration<double, std::nano>(base_time).count();
  const double cand_ns = std::chrono::duration<double, std::nano>(cand_time).count();
  state.counters["baseline_ns"] = base_ns / calls;
  state.counters["sealkit_ns"] = cand_ns / calls;
  state.counters["ratio"] = base_ns > 0 ? cand_ns / base_ns : 0;
}

void paired_aa_control(benchmark::State& state) {
  void* p = sealed_page();
  if (p == nullptr) return state.SkipWithError("cannot map and seal a page");
  auto raw = [p] { return raw_mseal(p, page_size()) != 0; };
  run_paired(state, kBlock, raw, raw);
}

void paired_mseal_resealed(benchmark::State& state) {
  void* p = sealed_page();
  if (p == nullptr) return state.SkipWithError("cannot map and seal a page");
  run_paired(
      state, kBlock, [p] { return raw_mseal(p, page_size()) != 0; },
      [p] { return sealkit_mseal(p, page_size(), 0) != 0; });
}

void paired_return_depth(benchmark::State& state) {
  void* p = sealed_page();
  if (p == nullptr) return state.SkipWithError("cannot map and seal a page");
  run_paired(
      state, kBlock, [p] { return raw_mseal(p, page_size()) != 0; },
      [p] { return raw_mseal_three_frames_deeper(p, page_size()) != 0; });
}

// One pool per half, sealed page by page in the same order.
void paired_mseal_fresh(benchmark::State& state) {
  FreshPool base_pool, cand_pool;
  if (!base_pool.ok() || !cand_pool.ok()) return state.SkipWithError("cannot map the page pools");
  std::size_t b = 0, c = 0;
  run_paired(
      state, kBlock, [&] { return raw_mseal(base_pool.page(b++), page_size()) != 0; },
      [&] { return sealkit_mseal(cand_pool.page(c++), page_size(), 0) != 0; });
}

// `state.range(0)` calls per block.
void paired_mmap_sealed(benchmark::State& state) {
  run_paired(
      state, static_cast<std::size_t>(state.range(0)),
      [] {
        void* p = ::mmap(nullptr, page_size(), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return p == MAP_FAILED || raw_mseal(p, page_size()) != 0;
      },
      [] {
        return sealkit_mmap(nullptr, page_size(), PROT_READ | SEALKIT_PROT_SEAL, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                            0) == MAP_FAILED;
      });
}

}  // namespace

void register_paired() {
  // Each iteration makes 2 * block calls of each half: the fresh-memory
  // runs stop when each half has sealed kFreshPages pages.
  auto iterations = [](std::size_t block) { return static_cast<benchmark::IterationCount>(kFreshPages / (2 * block)); };
  benchmark::RegisterBenchmark("paired_aa_control", paired_aa_control);
  benchmark::RegisterBenchmark("paired_mseal_resealed", paired_mseal_resealed);
  benchmark::RegisterBenchmark("paired_return_depth", paired_return_depth);
  benchmark::RegisterBenchmark("paired_mseal_fresh", paired_mseal_fresh)->Iterations(iterations(kBlock));
  benchmark::RegisterBenchmark("paired_mmap_sealed", paired_mmap_sealed)
      ->Arg(kMapBlock)
      ->Iterations(iterations(kMapBlock));
  benchmark::RegisterBenchmark("paired_mmap_sealed_small_blocks", paired_mmap_sealed)
      ->Arg(kBlock)
      ->Iterations(iterations(kBlock));
}

}  // namespace sealkit::bench
