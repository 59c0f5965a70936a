// Creating the memory of each mapping class, inside a selftest child.
#pragma once

#include "cli/selftest/child.hpp"
#include "cli/selftest/matrix.hpp"

namespace sealkit::cli::selftest {

// Creates a mapping of class `c` in this process and describes it in `t`:
// at least two pages (so a shrinking mremap has something to cut), filled
// with a known pattern where the class is writable or file-backed. Returns 0,
// or an errno with `why` saying what failed.
int create_target(MappingClass c, Target& t, Note& why);

}  // namespace sealkit::cli::selftest
