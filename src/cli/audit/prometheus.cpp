// `sealkit audit --format prometheus`: the text exposition format, for
// node_exporter's textfile collector. Machine totals always; per-process
// series only when asked (a pid label makes a new series per process start).
#include <cmath>
#include <iterator>
#include <cstdio>
#include <string>

#include "cli/audit/report.hpp"
#include "cli/escape.hpp"
#include "sealkit/sealkit.h"

namespace sealkit::cli::audit_report {

namespace {

// Label values are UTF-8 and escape backslash, double quote and newline (exposition format); the
// comm is carried as it is, as in the JSON, for the collector rather than for a terminal.
std::string label_value(std::string_view raw) {
  std::string s;
  for (char c : valid_utf8(raw)) {
    if (c == '\\') s += "\\\\";
    else if (c == '"') s += "\\\"";
    else if (c == '\n') s += "\\n";
    else s += c;
  }
  return s;
}

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string number(std::uint64_t v) { return std::to_string(v); }

void header(std::ostream& out, const char* name, const char* help) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " gauge\n";
}

double ratio_or_nan(std::optional<double> r) { return r ? *r : std::nan(""); }

// One gauge family with a `class` label, from one ClassTotals counter.
void per_class(std::ostream& out, const MachineAudit& m, const char* name, const char* help,
               std::uint64_t audit::ClassTotals::*field) {
  header(out, name, help);
  for (std::size_t c = 0; c < audit::kVmaClassCount; ++c)
    out << name << "{class=\"" << audit::to_string(static_cast<audit::VmaClass>(c)) << "\"} "
        << number(m.by_class[c].*field) << '\n';
}

}  // namespace

void write_prometheus(std::ostream& out, const MachineAudit& m, const RenderOptions& o) {
  header(out, "sealkit_build_info", "The sealkit that wrote these metrics: always 1, its version as a label.");
  out << "sealkit_build_info{version=\"" << label_value(sealkit_version()) << "\"} 1\n";
  header(out, "sealkit_machine_wide_enabled",
         "1 when /etc/ld.so.preload names libsealkit-preload.so (machine-wide sealing on, as sealkit status says), "
         "else 0.");
  out << "sealkit_machine_wide_enabled " << (m.machine_wide_enabled ? 1 : 0) << '\n';
  header(out, "sealkit_audit_process_state",
         "Audited processes by state (sealed, partly_sealed, unsealed, predates_enabling, static, excluded); "
         "each one in exactly one.");
  for (std::size_t s = 0; s < kProcessStateCount; ++s)
    out << "sealkit_audit_process_state{state=\"" << to_string(static_cast<ProcessState>(s)) << "\"} "
        << m.by_state[s] << '\n';
  header(out, "sealkit_audit_coverage_bytes_ratio",
         "Sealed share of the bytes that should be sealed, over all audited processes (NaN: none should be).");
  out << "sealkit_audit_coverage_bytes_ratio " << number(ratio_or_nan(m.total.coverage_bytes())) << '\n';
  header(out, "sealkit_audit_coverage_vmas_ratio", "Sealed share of the VMAs that should be sealed.");
  out << "sealkit_audit_coverage_vmas_ratio " << number(ratio_or_nan(m.total.coverage_vmas())) << '\n';

  using T = audit::ClassTotals;
  per_class(out, m, "sealkit_audit_vmas", "VMAs of audited processes, by class.", &T::vmas);
  per_class(out, m, "sealkit_audit_bytes", "Bytes of audited processes' VMAs, by class.", &T::bytes);
  per_class(out, m, "sealkit_audit_should_seal_vmas", "VMAs that should be sealed, by class.", &T::should_vmas);
  per_class(out, m, "sealkit_audit_should_seal_bytes", "Bytes that should be sealed, by class.", &T::should_bytes);
  per_class(out, m, "sealkit_audit_should_seal_sealed_vmas", "VMAs that should be sealed and are, by class.",
            &T::sealed_should_vmas);
  per_class(out, m, "sealkit_audit_should_seal_sealed_bytes", "Bytes that should be sealed and are, by class.",
            &T::sealed_should_bytes);
  per_class(out, m, "sealkit_audit_sealed_vmas", "Sealed VMAs, asked for by the rule or not, by class.",
            &T::sealed_vmas);
  per_class(out, m, "sealkit_audit_sealed_bytes", "Sealed bytes, asked for by the rule or not, by class.",
            &T::sealed_bytes);

  per_class(out, m, "sealkit_audit_filter_sealed_vmas",
            "VMAs sealed by a seccomp filter rather than mseal (counted in sealkit_audit_sealed_vmas too), by class.",
            &T::filter_sealed_vmas);
  per_class(out, m, "sealkit_audit_filter_sealed_bytes", "Bytes sealed by a seccomp filter, by class.",
            &T::filter_sealed_bytes);
  per_class(out, m, "sealkit_audit_partial_vmas",
            "VMAs a seccomp filter seals in part only (not in sealkit_audit_sealed_vmas), by class.", &T::partial_vmas);
  per_class(out, m, "sealkit_audit_partial_bytes",
            "Sealed bytes inside VMAs sealed in part (counted in the sealed byte totals), by class.", &T::partial_bytes);
  per_class(out, m, "sealkit_audit_supervised_vmas",
            "VMAs whose calls a seccomp filter hands to a supervisor (USER_NOTIF): not counted as sealed, by class.",
            &T::supervised_vmas);
  per_class(out, m, "sealkit_audit_supervised_bytes", "Bytes handed to a supervisor, not counted as sealed, by class.",
            &T::supervised_bytes);
  header(out, "sealkit_audit_filter_processes",
         "Audited processes by what their seccomp filters gave (read, none, unknown, not_checked).");
  for (std::size_t s = 0; s < kFilterStatusCount; ++s)
    out << "sealkit_audit_filter_processes{status=\"" << audit::to_string(static_cast<audit::FilterSummary::Status>(s))
        << "\"} " << m.by_filter_status[s] << '\n';
  header(out, "sealkit_audit_filter_refuses_mseal_processes",
         "Audited processes whose seccomp filters answer mseal with anything but allow: nothing can seal them.");
  out << "sealkit_audit_filter_refuses_mseal_processes " << m.filter_refuses_mseal << '\n';
  header(out, "sealkit_audit_filter_unknown_vmas", "VMAs left unknown: the filter evaluation budget ran out.");
  out << "sealkit_audit_filter_unknown_vmas " << m.filter_unknown_vmas << '\n';
  header(out, "sealkit_audit_processes", "Processes looked at, by outcome (ok: audited; the others are skipped).");
  for (std::size_t s = 0; s < kStatusCount; ++s)
    out << "sealkit_audit_processes{status=\"" << audit::to_string(static_cast<audit::AuditStatus>(s)) << "\"} "
        << m.by_status[s] << '\n';
  header(out, "sealkit_audit_objects", "ELF objects mapped in audited processes.");
  out << "sealkit_audit_objects " << m.objects << '\n';
  header(out, "sealkit_audit_objects_fully_sealed", "ELF objects whose every should-be-sealed VMA is sealed.");
  out << "sealkit_audit_objects_fully_sealed " << m.objects_fully_sealed << '\n';
  header(out, "sealkit_audit_objects_unverified", "ELF objects classified from smaps alone (headers unreadable).");
  out << "sealkit_audit_objects_unverified " << m.objects_unverified << '\n';
  header(out, "sealkit_audit_last_run_timestamp_seconds", "When this audit started, Unix time.");
  out << "sealkit_audit_last_run_timestamp_seconds " << number(m.started_unix_seconds) << '\n';
  header(out, "sealkit_audit_duration_seconds", "How long this audit took.");
  out << "sealkit_audit_duration_seconds " << number(m.duration_seconds) << '\n';

  if (!o.per_process) return;
  struct Family {
    const char* name;
    const char* help;
  };
  const Family fams[] = {
      {"sealkit_audit_process_coverage_bytes_ratio", "Per process: sealed share of should-be-sealed bytes."},
      {"sealkit_audit_process_should_seal_bytes", "Per process: bytes that should be sealed."},
      {"sealkit_audit_process_should_seal_sealed_bytes", "Per process: bytes that should be sealed and are."},
      {"sealkit_audit_process_filter_sealed_bytes", "Per process: bytes sealed by its seccomp filters."},
      {"sealkit_audit_process_supervised_bytes", "Per process: bytes its filters hand to a supervisor."}};
  for (std::size_t f = 0; f < std::size(fams); ++f) {
    header(out, fams[f].name, fams[f].help);
    for (const audit::ProcessAudit& p : m.processes) {
      if (p.status != audit::AuditStatus::kOk) continue;
      out << fams[f].name << "{pid=\"" << p.pid << "\",comm=\"" << label_value(p.comm) << "\"} ";
      if (f == 0) out << number(ratio_or_nan(p.total.coverage_bytes()));
      else if (f == 1) out << number(p.total.should_bytes);
      else if (f == 2) out << number(p.total.sealed_should_bytes);
      else if (f == 3) out << number(p.total.filter_sealed_bytes);
      else out << number(p.total.supervised_bytes);
      out << '\n';
    }
  }
}

}  // namespace sealkit::cli::audit_report
