// sealkit_backend and sealkit_version.
#include "backend/kernel.hpp"
#include "sealkit/sealkit.h"
#include "sealkit_version.h"

extern "C" const char* sealkit_backend(void) { return sealkit::backend::kernel::available() ? "kernel" : "none"; }

extern "C" const char* sealkit_version(void) { return SEALKIT_VERSION_STRING; }
