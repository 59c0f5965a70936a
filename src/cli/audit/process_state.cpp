#include "cli/audit/process_state.hpp"

#include "cli/machine/processes.hpp"

namespace sealkit::cli::audit {

const char* to_string(ProcessState s) noexcept {
  switch (s) {
    case ProcessState::kSealed: return "sealed";
    case ProcessState::kPartlySealed: return "partly_sealed";
    case ProcessState::kUnsealed: return "unsealed";
    case ProcessState::kPredatesEnabling: return "predates_enabling";
    case ProcessState::kStatic: return "static";
    case ProcessState::kExcluded: return "excluded";
  }
  return "?";
}

// The order is the answer's: what is sealed is sealed, however it got there
// (`sealkit run`, machine-wide, its own calls, a seccomp filter); a process
// that is not names the reason an operator acts on before the bare figure.
ProcessState process_state(const core::ProcessAudit& p, bool machine_wide_on) {
  const core::ClassTotals& t = p.total;
  if (t.should_bytes != 0 && t.sealed_should_bytes == t.should_bytes) return ProcessState::kSealed;

  // kExcluded belongs here: the runtime ran in the process and its outcome,
  // read from the process, says it was told not to seal (runtime.conf,
  // SEALKIT_* settings). Before the reach: an excluded process maps the
  // preload object or was started by `sealkit run`.

  machine::PreloadReach reach;
  for (const core::VmaRecord& v : p.vmas) reach.see(v.path);
  if (!reach.linked_dynamically()) return ProcessState::kStatic;
  if (machine_wide_on && reach.missed()) return ProcessState::kPredatesEnabling;
  return t.sealed_should_bytes != 0 ? ProcessState::kPartlySealed : ProcessState::kUnsealed;
}

}  // namespace sealkit::cli::audit
