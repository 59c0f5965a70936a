// What `sealkit run` seals in a statically linked program (run/static_seal.hpp):
// the runtime's rule (core/seal_plan.hpp, docs/runtime.md "How it works") for
// the executable, with the protections of "Protections" checked rather than
// restored, plus [vdso], [vvar], [vvar_vclock] and [stack].
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "cli/run/static_image.hpp"
#include "core/range.hpp"

namespace sealkit::cli::run_static {

struct SealPlan {
  std::vector<core::Range> runs;     // to seal, each maximal, in address order
  std::size_t wx_refused = 0;        // parts writable and executable: never sealed
  std::size_t over_file = 0;         // parts with more protection than the file asks: left unsealed
  std::size_t system_mappings = 0;   // [vdso], [vvar], [vvar_vclock] VMAs among the runs
  bool stack = false;                // [stack] among the runs
  std::size_t maps_bad_lines = 0;
};

// `maps_text`: the tracee's /proc/PID/maps, read while it is stopped.
// `relro_protected`: its start-up made RELRO read-only itself (glibc), so that
// RELRO may be sealed with at most read permission; otherwise RELRO is
// sealed with what its PT_LOAD asks (musl's static start-up leaves it
// writable, and sealkit does not take a permission away that the program's
// own start-up leaves).
SealPlan plan_seal(const StaticImage& img, bool relro_protected, std::string_view maps_text);

}  // namespace sealkit::cli::run_static
