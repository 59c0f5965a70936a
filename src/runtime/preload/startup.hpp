// The preload object's start-up pass, for machine-wide deployment through
// /etc/ld.so.preload, where no audit module can be named (ld.so reads no
// LD_AUDIT from a file). It seals what the audit module would have sealed,
// with the same code (sealer.hpp), but later: from the preload object's
// constructor, which ld.so runs after the constructors of the libraries the
// program needs. That is the documented limit of this mode (docs/runtime.md).
#pragma once

#include <cstddef>

#include "runtime/config.hpp"
#include "runtime/process_info.hpp"

namespace sealkit::rt::preload {

// True when the audit module (`sealkit run`) already did the start-up pass:
// it seals the preload object with the rest, before any constructor, so the
// preload object's own first page tells; on a kernel without mseal, LD_AUDIT
// naming it does.
bool audit_module_ran(const ProcessInfo& info);

// True when the SIGSYS handler in place is the runtime's (the audit module
// installs it first thing on the seccomp backend, seccomp/polyfill.hpp).
bool runtime_handles_sigsys();

// Seals every object of the base namespace, the system mappings and the
// stack, and writes the SEALKIT_LOG line (injected_as "preload"). Returns the
// number of objects in the namespace's list (this one included), which is
// what count_startup_objects (later_objects.hpp) would say.
std::size_t seal_startup_objects(const ProcessInfo& info, const Config& config, Config::Load load);

// The SEALKIT_LOG line of a program that exclude-program leaves alone
// ("program_excluded":true, nothing sealed), as the audit module writes it.
// `objects` counts the namespace's list, as seal_startup_objects returns it.
void report_excluded_program(const ProcessInfo& info, const Config& config, Config::Load load, std::size_t objects);

}  // namespace sealkit::rt::preload
