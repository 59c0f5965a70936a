// Which one state each audited process is in, for the fleet's view
// (`sealkit_audit_process_state{state}`, docs/audit.md "Process states"):
// sealed, sealed in part, not at all, missed by machine-wide sealing because
// it started before, out of the runtime's reach (static), kept from sealing
// by its seccomp filter, or left unsealed on purpose (excluded). Every
// process whose audit is `ok` is in exactly one.
#pragma once

#include <cstddef>
#include <cstdint>

#include "audit/process_audit.hpp"
#include "runtime/config.hpp"

namespace sealkit::cli::audit_report {

enum class ProcessState : std::uint8_t {
  kSealed,            // every byte the rule asks for is sealed
  kPartlySealed,      // some of them
  kUnsealed,          // dynamically linked, none of them sealed
  kPredatesEnabling,  // machine-wide on, dynamically linked, no libsealkit-preload.so mapped (sealkit status' list)
  kStatic,            // not dynamically linked: neither ld.so.preload nor `sealkit run` reaches it
  kExcluded,          // the runtime ran in it; the administrator's exclude-program names its executable
  kFiltered,          // its seccomp filters refuse mseal (an allow-list written before mseal: ENOSYS)
};
inline constexpr std::size_t kProcessStateCount = static_cast<std::size_t>(ProcessState::kFiltered) + 1;

// "sealed", "partly_sealed", "unsealed", "predates_enabling", "static", "excluded", "filtered": label values.
const char* to_string(ProcessState s) noexcept;

// The state of an audited process (status ok), from its VMA list: call it
// before the list is freed (MachineAudit::add does). `machine_wide_on`:
// /etc/ld.so.preload names sealkit's object. `admin_config`: the
// administrator's /etc/sealkit/runtime.conf as the runtime uses it (null:
// none, or one the runtime ignores).
ProcessState process_state(const audit::ProcessAudit& p, bool machine_wide_on, const rt::Config* admin_config);

}  // namespace sealkit::cli::audit_report
