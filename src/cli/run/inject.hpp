// Which injected objects `sealkit run` names in LD_AUDIT and LD_PRELOAD, and
// how: through ld.so's $LIB when both ELF classes are installed, so that a
// 64-bit program and a 32-bit one it starts (or the other way round) each
// load the objects of their own class (docs/runtime.md, "32-bit programs").
#pragma once

#include <optional>
#include <string>

namespace sealkit::cli::run_inject {

struct Objects {
  std::string audit;    // for LD_AUDIT: the runtime
  std::string preload;  // for LD_PRELOAD: dlopen/dlmopen/dlclose wrappers
  bool both_classes = false;  // the names contain $LIB and serve 64-bit and 32-bit processes
};

// The objects next to this binary (<prefix>/<$LIB>/sealkit/, installed and in
// the build tree), or the runtime `runtime_override` names and the preload
// object beside it. nullopt with `why` filled when they are missing or their
// names cannot be passed to ld.so.
std::optional<Objects> find_objects(const std::string& runtime_override, std::string& why);

}  // namespace sealkit::cli::run_inject
