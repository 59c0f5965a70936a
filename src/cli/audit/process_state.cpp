#include "cli/audit/process_state.hpp"

#include "cli/machine/processes.hpp"

namespace sealkit::cli::audit_report {

const char* to_string(ProcessState s) noexcept {
  switch (s) {
    case ProcessState::kSealed: return "sealed";
    case ProcessState::kPartlySealed: return "partly_sealed";
    case ProcessState::kUnsealed: return "unsealed";
    case ProcessState::kPredatesEnabling: return "predates_enabling";
    case ProcessState::kStatic: return "static";
    case ProcessState::kExcluded: return "excluded";
    case ProcessState::kFiltered: return "filtered";
  }
  return "?";
}

// The order is the answer's: what is sealed is sealed, however it got there
// (`sealkit run`, machine-wide, its own calls, a seccomp filter); a process
// that is not names the reason an operator acts on before the bare figure.
ProcessState process_state(const audit::ProcessAudit& p, bool machine_wide_on, const rt::Config* admin_config) {
  const audit::ClassTotals& t = p.total;
  if (t.should_bytes != 0 && t.sealed_should_bytes == t.should_bytes) return ProcessState::kSealed;

  machine::PreloadReach reach;
  for (const audit::VmaRecord& v : p.vmas) reach.see(v.path);
  // Excluded by the administrator: the runtime ran (its object is mapped)
  // and the machine's file names the executable. A user's own file under
  // `sealkit run` is not seen from here; such a process counts as unsealed.
  if (reach.preloaded && admin_config != nullptr && !p.exe.empty() && admin_config->program_excluded(p.exe))
    return ProcessState::kExcluded;
  if (!reach.linked_dynamically()) return ProcessState::kStatic;
  // Before "predates enabling": a restart would not seal it either.
  if (p.filters.refuses_mseal()) return ProcessState::kFiltered;
  if (machine_wide_on && reach.missed()) return ProcessState::kPredatesEnabling;
  return t.sealed_should_bytes != 0 ? ProcessState::kPartlySealed : ProcessState::kUnsealed;
}

}  // namespace sealkit::cli::audit_report
