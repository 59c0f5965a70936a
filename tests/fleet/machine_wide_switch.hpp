// Machine-wide sealing switched on and off for this test process and the
// programs it starts, never for the host: a private mount namespace
// (runtime/private_mounts.hpp) whose /etc is an overlay, where
// /etc/ld.so.preload names the build tree's preload object (on) or does not
// exist (off). A running program keeps the image it started with, so one
// started while off and audited while on is what a machine has after
// `sealkit enable`: dynamically linked, no preload object mapped.
#pragma once

#include <string>

namespace sealkit::test {

// Enters the namespace, machine-wide off. Root only; false with `why`.
bool enter_machine_wide_switch(std::string& why);

// Writes (on) or removes (off) this namespace's /etc/ld.so.preload, naming
// `preload_object` by its path. False with `why`.
bool set_machine_wide(bool on, const std::string& preload_object, std::string& why);

}  // namespace sealkit::test
