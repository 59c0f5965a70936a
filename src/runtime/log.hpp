// SEALKIT_LOG: one JSON line per process saying what the runtime sealed, what
// it left and why, and how long it took. Never written in secure execution.
#pragma once

#include <cstddef>

#include "runtime/process_info.hpp"
#include "runtime/sealer.hpp"

namespace sealkit::rt {

void report_startup(const ProcessInfo& info, const SealStats& stats, std::size_t dropped_objects);

}  // namespace sealkit::rt
