// Which injected objects `sealkit run` names in LD_AUDIT and LD_PRELOAD, and
// how: when both ELF classes are installed, the audit module through ld.so's
// $LIB and the preload object by its 64-bit path, which the i386 audit module
// rewrites in a 32-bit process, so that a 64-bit program and a 32-bit one it
// starts (or the other way round) each load the objects of their own class
// (docs/runtime.md, "Machine-wide", on `sealkit run`).
#pragma once

#include <optional>
#include <string>

namespace sealkit::cli::run_inject {

struct Objects {
  std::string audit;    // for LD_AUDIT: the runtime
  std::string preload;  // for LD_PRELOAD: dlopen/dlmopen/dlclose wrappers
  bool both_classes = false;  // the audit name contains $LIB: they serve 64-bit and 32-bit processes
  // When not both_classes: why there are no 32-bit objects, and what to do.
  std::string why_64_bit_only;
};

// The objects next to this binary (<prefix>/<$LIB>/sealkit/, installed and in
// the build tree), or the runtime `runtime_override` names and the preload
// object beside it. nullopt with `why` filled when they are missing or their
// names cannot be passed to ld.so.
std::optional<Objects> find_objects(const std::string& runtime_override, std::string& why);

}  // namespace sealkit::cli::run_inject
