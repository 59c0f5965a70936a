// The do-nothing LD_AUDIT module the runtime is compared with: only
// la_version, linked like the runtime (no libc, no libstdc++), so that the
// pair differs only in what the runtime does, not in what ld.so loads.
extern "C" __attribute__((visibility("default"))) unsigned int la_version(unsigned int version) {
  return version;
}
