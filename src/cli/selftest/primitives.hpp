// The attack primitives of the selftest matrix, one small function each.
// Each runs in a selftest child on a Target and reports what the kernel said.
#pragma once

#include "cli/selftest/child.hpp"
#include "cli/selftest/matrix.hpp"

namespace sealkit::cli::selftest {

PrimitiveFn primitive_fn(Primitive p);

}  // namespace sealkit::cli::selftest
