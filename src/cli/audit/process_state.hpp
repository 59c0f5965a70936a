// Which one state each audited process is in, for the fleet's view
// (`sealkit_audit_process_state{state}`, docs/audit.md "Process states"):
// sealed, sealed in part, not at all, missed by machine-wide sealing because
// it started before, out of the runtime's reach (static), kept from sealing
// by its seccomp filter, left unsealed on purpose (excluded), out of reach of
// `sealkit run` as a set-user-ID program, or on a kernel without mseal. Every
// process whose audit is `ok` is in exactly one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

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
  kSecureExec,        // AT_SECURE, no preload object: ld.so dropped `sealkit run`'s variables
  kNoMseal,           // this kernel has no mseal(2)
};
inline constexpr std::size_t kProcessStateCount = static_cast<std::size_t>(ProcessState::kNoMseal) + 1;

// "sealed", "partly_sealed", "unsealed", "predates_enabling", "static", "excluded", "filtered", "secure_exec",
// "no_mseal": label values.
const char* to_string(ProcessState s) noexcept;

// What the states depend on beyond the process itself.
struct MachineFacts {
  bool machine_wide_on = false;             // /etc/ld.so.preload names sealkit's object
  const rt::Config* admin_config = nullptr;  // /etc/sealkit/runtime.conf as the runtime uses it (null: none)
  bool kernel_seals = true;                  // mseal(2) works on this kernel
};

// Reads them as `sealkit status` does: /etc/ld.so.preload, the
// administrator's runtime configuration (a trusted one only: kept in
// `admin`, which `machine.admin_config` points into), whether mseal works.
// False with `error` when /etc/ld.so.preload cannot be read.
bool read_machine_facts(MachineFacts& machine, std::shared_ptr<const rt::Config>& admin, std::string& error);

// The state of an audited process (status ok), from its VMA list: call it
// before the list is freed (MachineAudit::add does).
ProcessState process_state(const audit::ProcessAudit& p, const MachineFacts& machine);

// The state in words for a person, and for a process that is not sealed,
// why and what to do: "started before machine-wide sealing was switched on:
// restart it".
std::string state_reason(ProcessState s, const audit::ProcessAudit& p);

}  // namespace sealkit::cli::audit_report
