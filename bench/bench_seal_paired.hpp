// The paired (ABBA) form of the sealing pairs; see bench_seal_paired.cpp.
#pragma once

namespace sealkit::bench {

// Registers the "paired_*" benchmarks with Google Benchmark.
void register_paired();

}  // namespace sealkit::bench
