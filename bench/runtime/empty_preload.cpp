// The do-nothing LD_PRELOAD library: one exported function and no dependency,
// the cheapest object ld.so can be asked to load into a process.
extern "C" __attribute__((visibility("default"))) int sealkit_bench_empty_preload() { return 0; }
