// The libc function a wrapper of the preload object stands in front of.
#pragma once

#include <dlfcn.h>

#include <atomic>

namespace sealkit::rt::preload {

// The next definition of `name` after the preload object (libc's), looked up
// at the first call and kept in `slot`: racing threads only repeat the same
// dlsym. Null only if libc has no such function.
template <class F>
F next_function(std::atomic<F>& slot, const char* name) {
  F f = slot.load(std::memory_order_relaxed);
  if (f == nullptr) {
    f = reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
    slot.store(f, std::memory_order_relaxed);
  }
  return f;
}

}  // namespace sealkit::rt::preload
