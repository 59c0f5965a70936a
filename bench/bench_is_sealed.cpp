// sealkit_is_sealed in a process with 1000 VMAs, and, for reference, what
// reading /proc/self/smaps (the only place the kernel prints "sl") costs in
// the same process: the reason the library does not parse smaps for a small
// query. docs/benchmarks.md records the figures.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <string>

#include "core/page.hpp"
#include "core/proc_maps.hpp"
#include "sealkit/sealkit.h"
#include "vma_field.hpp"

namespace {

using sealkit::bench::VmaField;

constexpr std::size_t kFieldVmas = 1000;
constexpr std::size_t kSealedPage = 500;        // read-write page, sealed
constexpr std::size_t kUnsealedPage = 502;      // read-write page, left alone
constexpr std::size_t kSealedRunStart = 600;    // 16 neighbouring VMAs, all sealed
constexpr std::size_t kSealedRunPages = 16;

// Built in main() before any benchmark runs, so every run, in whatever order
// the runs are interleaved, sees the same process.
std::unique_ptr<VmaField> g_field;

void check_answers(benchmark::State& state, std::size_t wrong) {
  if (wrong != 0) state.SkipWithError("sealkit_is_sealed gave a wrong answer");
}

void query(benchmark::State& state, const void* addr, std::size_t len, int expected) {
  std::size_t wrong = 0;
  for (auto _ : state) wrong += sealkit_is_sealed(addr, len) != expected;
  check_answers(state, wrong);
}

void one_sealed_page(benchmark::State& state) { query(state, g_field->page(kSealedPage), 1, 1); }
void one_unsealed_page(benchmark::State& state) { query(state, g_field->page(kUnsealedPage), 1, 0); }
void sixteen_sealed_vmas(benchmark::State& state) {
  query(state, g_field->page(kSealedRunStart), kSealedRunPages * sealkit::core::page_size(), 1);
}

void read_file(benchmark::State& state, const char* path) {
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto text = sealkit::core::read_proc_file(path);
    if (!text) return state.SkipWithError("cannot read the /proc file");
    bytes = text->size();
    benchmark::DoNotOptimize(text->data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}

void read_smaps(benchmark::State& state) { read_file(state, "/proc/self/smaps"); }
void read_maps(benchmark::State& state) { read_file(state, "/proc/self/maps"); }

// What answering from smaps would cost: read it and parse up to the entry of
// the sealed page (the library's last-resort path).
void read_and_parse_smaps(benchmark::State& state) {
  const auto target = reinterpret_cast<std::uintptr_t>(g_field->page(kSealedPage));
  std::size_t wrong = 0;
  for (auto _ : state) {
    auto text = sealkit::core::read_proc_file("/proc/self/smaps");
    if (!text) return state.SkipWithError("cannot read /proc/self/smaps");
    bool sealed = false;
    sealkit::core::for_each_smaps_entry(*text, [&](const sealkit::core::SmapsEntry& e) {
      if (!e.map.range.contains(target)) return true;
      sealed = e.sealed;
      return false;
    });
    wrong += !sealed;
  }
  check_answers(state, wrong);
}

bool build_field() {
  g_field = std::make_unique<VmaField>(kFieldVmas);
  if (sealkit_mseal(g_field->page(kSealedPage), sealkit::core::page_size(), 0) != 0) return false;
  for (std::size_t i = 0; i < kSealedRunPages; ++i)
    if (sealkit_mseal(g_field->page(kSealedRunStart + i), sealkit::core::page_size(), 0) != 0) return false;
  // The first query verifies the kernel probe once (and leaves its one sealed
  // scratch page): do it here, outside any timing.
  return sealkit_is_sealed(g_field->page(kSealedPage), 1) == 1;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  try {
    if (!build_field()) {
      std::fprintf(stderr, "bench_is_sealed: cannot seal pages of the VMA field (does this kernel have mseal?)\n");
      return 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_is_sealed: %s\n", e.what());
    return 1;
  }
  benchmark::AddCustomContext("process_vmas", std::to_string(sealkit::bench::count_own_vmas()));
  benchmark::AddCustomContext("sealkit_version", sealkit_version());
  // Names are "<group>/<case>"; bench/compare.py reports them one by one.
  benchmark::RegisterBenchmark("is_sealed_1000_vmas/one_sealed_page", one_sealed_page);
  benchmark::RegisterBenchmark("is_sealed_1000_vmas/one_unsealed_page", one_unsealed_page);
  benchmark::RegisterBenchmark("is_sealed_1000_vmas/16_sealed_vmas", sixteen_sealed_vmas);
  benchmark::RegisterBenchmark("proc_1000_vmas/read_smaps", read_smaps);
  benchmark::RegisterBenchmark("proc_1000_vmas/read_and_parse_smaps", read_and_parse_smaps);
  benchmark::RegisterBenchmark("proc_1000_vmas/read_maps", read_maps);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
