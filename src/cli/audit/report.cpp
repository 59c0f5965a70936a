#include "cli/audit/report.hpp"

#include <algorithm>

namespace sealkit::cli::audit_report {

void MachineAudit::add(audit::ProcessAudit p) {
  ++by_status[static_cast<std::size_t>(p.status)];
  if (p.status == audit::AuditStatus::kOk) {
    total.add(p.total);
    for (std::size_t c = 0; c < audit::kVmaClassCount; ++c) by_class[c].add(p.by_class[c]);
    objects += p.objects.size();
    objects_unverified += p.objects_unverified;
    for (const audit::ObjectRecord& o : p.objects) objects_fully_sealed += o.fully_sealed();
    ++by_filter_status[static_cast<std::size_t>(p.filters.status)];
    filter_instructions_executed += p.filters.executed;
    filter_unknown_vmas += p.filters.unknown_vmas;
    filter_refuses_mseal += p.filters.refuses_mseal();
    filter_stopped_seconds_max = std::max(filter_stopped_seconds_max, p.filters.stopped_seconds);
    filter_stopped_seconds_total += p.filters.stopped_seconds;
    const ProcessState s = process_state(p, MachineFacts{machine_wide_enabled, admin_config.get(), kernel_seals});
    ++by_state[static_cast<std::size_t>(s)];
    states.push_back(s);
  } else {
    states.push_back(ProcessState::kUnsealed);  // not looked at: no state
  }
  if (!keep_vmas) {
    std::vector<audit::VmaRecord>().swap(p.vmas);  // 2000 processes hold ~100k of them
    std::vector<core::Range>().swap(p.should_seal_ranges);
  }
  processes.push_back(std::move(p));
}

std::optional<double> percent(std::optional<double> ratio) {
  if (!ratio) return std::nullopt;
  return *ratio * 100.0;
}

std::vector<const char*> unsealed_classes(const std::array<audit::ClassTotals, audit::kVmaClassCount>& by_class) {
  std::vector<const char*> out;
  for (std::size_t c = 0; c < audit::kVmaClassCount; ++c) {
    if (by_class[c].should_vmas > by_class[c].sealed_should_vmas)
      out.push_back(audit::to_string(static_cast<audit::VmaClass>(c)));
  }
  return out;
}

}  // namespace sealkit::cli::audit_report
