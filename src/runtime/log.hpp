// SEALKIT_LOG: one JSON line per process saying what the runtime sealed, what
// it left and why, and how long it took; and one line for a pass over objects
// loaded later whose look at protections found something (prot_guard.hpp).
// Never written in secure execution. The configuration's `log = syslog`
// sends the start-up line to the system log too (syslog.hpp), in every process.
#pragma once

#include <cstddef>

#include "runtime/process_info.hpp"
#include "runtime/sealer.hpp"

namespace sealkit::rt {

void report_startup(const ProcessInfo& info, const SealStats& stats, std::size_t dropped_objects);

// Nothing when `stats` has nothing to say (the usual pass). `log_path` is
// SEALKIT_LOG as ProcessInfo validated it ("" when not logging).
void report_later(const char* log_path, const ProtStats& stats);

// One line for an exec whose environment the preload object repaired under
// `sealkit run` (preload/exec_env.hpp): `call` (execve, posix_spawn, ...) of
// `program`, and the `n` variables it put back or changed.
void report_repaired_environment(const char* log_path, const char* call, const char* program,
                                 const char* const* names, std::size_t n);

}  // namespace sealkit::rt
