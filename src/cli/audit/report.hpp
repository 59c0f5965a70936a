// One run of `sealkit audit`: the processes looked at, machine totals, and
// the renderers (table, JSON, Prometheus text format) over it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/audit/process_state.hpp"
#include "audit/process_audit.hpp"

namespace sealkit::cli::audit_report {

inline constexpr std::size_t kStatusCount = static_cast<std::size_t>(audit::AuditStatus::kTimeout) + 1;
inline constexpr std::size_t kFilterStatusCount = static_cast<std::size_t>(audit::FilterSummary::Status::kUnknown) + 1;

struct MachineAudit {
  std::vector<audit::ProcessAudit> processes;  // in pid order, every status
  audit::ClassTotals total;                    // over processes with status ok
  std::array<audit::ClassTotals, audit::kVmaClassCount> by_class{};
  std::array<std::size_t, kStatusCount> by_status{};
  std::size_t objects = 0, objects_fully_sealed = 0, objects_unverified = 0;
  // Seccomp filters (docs/audit.md), over processes with status ok.
  std::array<std::size_t, kFilterStatusCount> by_filter_status{};
  std::uint64_t filter_instructions_executed = 0, filter_unknown_vmas = 0;
  std::size_t filter_refuses_mseal = 0;  // processes whose filters answer mseal with anything but ALLOW/LOG
  double filter_stopped_seconds_max = 0, filter_stopped_seconds_total = 0;
  // What the states depend on (set before add()), and the audited processes by state
  // (cli/audit/process_state.hpp). admin_config: the administrator's runtime configuration as the runtime uses
  // it, for the state excluded (null: none).
  bool machine_wide_enabled = false;
  std::shared_ptr<const rt::Config> admin_config;
  bool kernel_seals = true;
  std::array<std::size_t, kProcessStateCount> by_state{};
  std::vector<ProcessState> states;  // one per process, in order; meaningful for status ok
  double started_unix_seconds = 0;  // wall clock at the start of the scan
  double duration_seconds = 0;
  bool keep_vmas = false;  // keep each process's VMA list (JSON --vmas); else it is freed once counted

  void add(audit::ProcessAudit p);  // keeps p and adds it to the totals
  std::size_t skipped() const noexcept { return processes.size() - by_status[0]; }
};

// The order of the table's rows (--sort).
enum class SortBy : std::uint8_t { kPid, kUser, kExe, kCoverage, kState };

// Coverage in percent, nullopt when nothing should be sealed.
std::optional<double> percent(std::optional<double> ratio);

// Names of the classes with should-be-sealed VMAs left unsealed, in class order.
std::vector<const char*> unsealed_classes(const std::array<audit::ClassTotals, audit::kVmaClassCount>& by_class);

struct RenderOptions {
  bool by_class = false;     // table: the per-class totals as a second table; json: per-process classes too
  bool vmas = false;         // json: every VMA of every process
  bool per_process = false;  // prometheus: per-process series (pid, comm labels)
  bool only_ok = false;      // table: leave skipped processes out of the rows (they are counted below)
  SortBy sort = SortBy::kPid;  // table: the rows' order
};

void write_json(std::ostream& out, const MachineAudit& m, const RenderOptions& o);
void write_table(std::ostream& out, const MachineAudit& m, const RenderOptions& o);
void write_prometheus(std::ostream& out, const MachineAudit& m, const RenderOptions& o);

}  // namespace sealkit::cli::audit_report
