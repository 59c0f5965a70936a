// A program built with GCC's or clang's -fsanitize=address (its runtime,
// libasan, a DT_NEEDED library) refuses to start when another object comes
// before libasan in the initial library list ("ASan runtime does not come
// first"): its interceptors must win the symbol lookup for malloc and the
// like. This object comes first (LD_PRELOAD, /etc/ld.so.preload) but
// interposes none of those functions, only dlopen, dlmopen, dlclose and the
// exec family, so that check does not apply to it. ASan asks the process for
// its defaults through this weak hook before it reads ASAN_OPTIONS (which
// still overrides): the check off, nothing else changed. A program that
// defines the hook itself keeps its own answer (it comes first in the lookup).
extern "C" __attribute__((visibility("default"))) const char* __asan_default_options() {
  return "verify_asan_link_order=0";
}
