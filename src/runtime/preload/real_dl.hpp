// The libc functions the wrappers in interpose.cpp stand in front of.
#pragma once

#include <dlfcn.h>

namespace sealkit::rt::preload {

struct RealDl {
  void* (*dlopen)(const char*, int) = nullptr;
  void* (*dlmopen)(Lmid_t, const char*, int) = nullptr;
  int (*dlclose)(void*) = nullptr;
};

// Resolved once (dlsym RTLD_NEXT); never null after that.
const RealDl& real_dl();

}  // namespace sealkit::rt::preload
