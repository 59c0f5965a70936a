// sealkit_backend and sealkit_version.
#include "lib/backend_choice.hpp"
#include "sealkit/sealkit.h"
#include "sealkit_version.h"

extern "C" const char* sealkit_backend(void) { return sealkit::lib::backend_name(sealkit::lib::chosen_backend()); }

extern "C" const char* sealkit_version(void) { return SEALKIT_VERSION_STRING; }
