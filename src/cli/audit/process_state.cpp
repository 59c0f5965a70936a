#include "cli/audit/process_state.hpp"

#include "cli/audit/report.hpp"
#include "cli/machine/kernel_facts.hpp"
#include "cli/machine/preload_file.hpp"
#include "cli/machine/processes.hpp"
#include "cli/machine/runtime_config.hpp"

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
    case ProcessState::kSecureExec: return "secure_exec";
    case ProcessState::kNoMseal: return "no_mseal";
  }
  return "?";
}

bool read_machine_facts(MachineFacts& machine, std::shared_ptr<const rt::Config>& admin, std::string& error) {
  machine::PreloadFile preload;
  if (!machine::read_preload_file(machine::kPreloadFile, preload, error)) return false;
  machine.machine_wide_on = machine::names_sealkit(preload.text);
  machine::ConfigReport conf = machine::judge_runtime_config(rt::kSystemConfigPath);
  admin.reset();
  if (conf.trusted && !conf.too_large) admin = std::move(conf.parsed);
  machine.admin_config = admin.get();
  machine.kernel_seals = machine::mseal_seals().value != false;
  return true;
}

// The order is the answer's: what is sealed is sealed, however it got there
// (`sealkit run`, machine-wide, its own calls, a seccomp filter); a process
// that is not names the reason an operator acts on before the bare figure.
ProcessState process_state(const audit::ProcessAudit& p, const MachineFacts& machine) {
  const rt::Config* admin_config = machine.admin_config;
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
  if (!machine.kernel_seals && t.sealed_should_bytes == 0) return ProcessState::kNoMseal;
  if (machine.machine_wide_on && reach.missed()) return ProcessState::kPredatesEnabling;
  if (p.secure_exec && !reach.preloaded && t.sealed_should_bytes == 0) return ProcessState::kSecureExec;
  return t.sealed_should_bytes != 0 ? ProcessState::kPartlySealed : ProcessState::kUnsealed;
}

std::string state_reason(ProcessState s, const audit::ProcessAudit& p) {
  switch (s) {
    case ProcessState::kSealed: return "sealed";
    case ProcessState::kPartlySealed: {
      std::string classes;
      for (const char* c : unsealed_classes(p.by_class)) classes += (classes.empty() ? "" : ",") + std::string(c);
      return "partly sealed: " + (classes.empty() ? std::string("some pages") : classes) + " not sealed";
    }
    case ProcessState::kUnsealed:
      return "not sealed: nothing sealed it; start it under sealkit run, or switch machine-wide sealing on "
             "(sealkit enable)";
    case ProcessState::kPredatesEnabling: return "started before machine-wide sealing was switched on: restart it";
    case ProcessState::kStatic: return "statically linked: no ld.so runs in it; sealkit run -- PROGRAM seals it";
    case ProcessState::kExcluded: return "excluded by exclude-program in /etc/sealkit/runtime.conf";
    case ProcessState::kFiltered: return "its seccomp filter refuses mseal (FILTERS says how; docs/audit.md)";
    case ProcessState::kSecureExec:
      return "secure execution (set-user-ID, set-group-ID or file capabilities): ld.so drops sealkit run's "
             "LD_AUDIT and LD_PRELOAD; machine-wide sealing reaches it";
    case ProcessState::kNoMseal: return "this kernel has no mseal(2): Linux 6.10+, or sealkit run --backend seccomp";
  }
  return "?";
}

}  // namespace sealkit::cli::audit_report
