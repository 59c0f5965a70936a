// `sealkit audit` for people: one row per process, then machine totals and
// what was skipped, and with --by-class the totals by class. The cells hold
// comms and reasons as they are: print_table escapes every cell.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "cli/audit/report.hpp"
#include "cli/format.hpp"
#include "cli/output.hpp"

namespace sealkit::cli::audit_report {

namespace {

using Rows = std::vector<std::vector<std::string>>;

// "-" when nothing should be sealed.
std::string percent_text(std::uint64_t part, std::uint64_t whole) { return whole ? percent_of(part, whole) : "-"; }

std::string join(const std::vector<const char*>& names) {
  if (names.empty()) return "-";
  std::string s;
  for (const char* n : names) s += (s.empty() ? "" : ",") + std::string(n);
  return s;
}

std::string of(std::uint64_t a, std::uint64_t b) { return std::to_string(a) + "/" + std::to_string(b); }

// The FILTERS cell: "-" not looked at, "none", "3 (5 VMAs sealed)", "unknown: why".
std::string filters_cell(const audit::FilterSummary& f) {
  using S = audit::FilterSummary::Status;
  switch (f.status) {
    case S::kNotChecked: return "-";
    case S::kNone: return "none";
    case S::kUnknown: return "unknown: " + f.reason;
    case S::kRead: break;
  }
  std::string s = std::to_string(f.filters) + " (" + std::to_string(f.sealed_vmas) + " VMAs sealed";
  if (f.partial_vmas) s += ", " + std::to_string(f.partial_vmas) + " in part";
  if (f.supervised_vmas) s += ", " + std::to_string(f.supervised_vmas) + " supervised";
  if (f.supervises_unmapped && f.supervisor == "answered")
    s += ", as supervisor " + std::to_string(f.supervisor_pid) + " answers";
  else if (f.supervises_unmapped)
    s += ": a supervisor decides, not counted as sealed (" + f.supervisor + ")";
  if (f.unknown_vmas) s += ", " + std::to_string(f.unknown_vmas) + " unknown";
  if (std::string(f.abi) == "i386") s += ", i386";
  if (f.refuses_unmapped) s += ", refuses unmapped memory too: a sandbox, not seals";
  if (f.refuses_mseal()) s += ", answer mseal " + audit::mseal_answer(f.mseal_ret);
  return s + ")";
}

// The rows' order: --sort, then pid.
std::vector<std::size_t> row_order(const MachineAudit& m, SortBy by) {
  std::vector<std::size_t> order(m.processes.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto coverage = [&](std::size_t i) {
    const audit::ClassTotals& t = m.processes[i].total;
    return t.should_bytes ? static_cast<double>(t.sealed_should_bytes) / static_cast<double>(t.should_bytes) : 2.0;
  };
  auto key_less = [&](std::size_t a, std::size_t b) {
    const audit::ProcessAudit& x = m.processes[a];
    const audit::ProcessAudit& y = m.processes[b];
    switch (by) {
      case SortBy::kPid: return false;
      case SortBy::kUser: return user_name(x.uid) < user_name(y.uid);
      case SortBy::kExe: return x.exe < y.exe;
      case SortBy::kCoverage: return coverage(a) < coverage(b);  // the least sealed first
      case SortBy::kState: return m.states[a] < m.states[b];
    }
    return false;
  };
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (key_less(a, b)) return true;
    if (key_less(b, a)) return false;
    return m.processes[a].pid < m.processes[b].pid;
  });
  return order;
}

// "30 sealed, 2 partly sealed, 10 not sealed (8 started before ..., 2 static)": processes first, so that one
// big sealed process cannot hide many small unsealed ones behind a byte figure.
std::string process_counts(const MachineAudit& m) {
  auto n = [&](ProcessState s) { return m.by_state[static_cast<std::size_t>(s)]; };
  std::string why;
  auto add = [&](ProcessState s, const char* words) {
    if (n(s)) why += (why.empty() ? "" : ", ") + std::to_string(n(s)) + " " + words;
  };
  add(ProcessState::kPredatesEnabling, "started before sealing was switched on");
  add(ProcessState::kStatic, "static");
  add(ProcessState::kExcluded, "excluded");
  add(ProcessState::kFiltered, "kept by a seccomp filter");
  add(ProcessState::kSecureExec, "in secure execution, out of sealkit run's reach");
  add(ProcessState::kNoMseal, "on a kernel without mseal");
  add(ProcessState::kUnsealed, "reached by nothing");
  std::size_t not_sealed = 0;
  for (std::size_t s = 0; s < kProcessStateCount; ++s) {
    const auto state = static_cast<ProcessState>(s);
    if (state != ProcessState::kSealed && state != ProcessState::kPartlySealed) not_sealed += m.by_state[s];
  }
  return count(m.by_status[0], "process", "processes") + " audited: " + std::to_string(n(ProcessState::kSealed)) +
         " sealed, " + std::to_string(n(ProcessState::kPartlySealed)) + " partly sealed, " +
         std::to_string(not_sealed) + " not sealed" + (why.empty() ? "" : " (" + why + ")");
}

}  // namespace

void write_table(std::ostream& out, const MachineAudit& m, const RenderOptions& o) {
  Rows rows{{"PID", "USER", "COMM", "EXE", "COVERAGE", "SEALED/SHOULD", "STATE", "FILTERS"}};
  for (std::size_t i : row_order(m, o.sort)) {
    const audit::ProcessAudit& p = m.processes[i];
    const std::string exe = p.exe.empty() ? "-" : p.exe;  // a kernel thread, or not readable
    if (p.status != audit::AuditStatus::kOk) {
      if (!o.only_ok)
        rows.push_back({std::to_string(p.pid), user_name(p.uid), p.comm, exe, audit::to_string(p.status), "", p.detail, ""});
      continue;
    }
    const audit::ClassTotals& t = p.total;
    rows.push_back({std::to_string(p.pid), user_name(p.uid), p.comm, exe, percent_text(t.sealed_should_bytes, t.should_bytes),
                    human_bytes(t.sealed_should_bytes) + "/" + human_bytes(t.should_bytes),
                    state_reason(m.states[i], p), filters_cell(p.filters)});
  }
  print_table(rows, out);

  out << "\nprocesses: " << process_counts(m) << "\n";
  if (::geteuid() != 0 && m.by_status[static_cast<std::size_t>(audit::AuditStatus::kDenied)] != 0)
    out << "not read: " << count(m.by_status[static_cast<std::size_t>(audit::AuditStatus::kDenied)], "process",
                                 "processes")
        << " of other users; their memory is root's to read: sudo sealkit audit\n";
  const audit::ClassTotals& t = m.total;
  out << "bytes: " << percent_text(t.sealed_should_bytes, t.should_bytes) << " of should-be-sealed bytes sealed ("
      << human_bytes(t.sealed_should_bytes) << " of " << human_bytes(t.should_bytes) << "), "
      << percent_text(t.sealed_should_vmas, t.should_vmas) << " of VMAs (" << t.sealed_should_vmas << " of "
      << t.should_vmas << "); " << count(m.objects, "ELF object") << " (" << m.objects_fully_sealed
      << " fully sealed, " << m.objects_unverified << " unverified)\n";
  out << "unsealed classes: " << join(unsealed_classes(m.by_class)) << "\n";
  auto f = [&](audit::FilterSummary::Status s) { return m.by_filter_status[static_cast<std::size_t>(s)]; };
  out << "seccomp filters: " << count(f(audit::FilterSummary::Status::kRead), "process", "processes") << " read ("
      << t.filter_sealed_vmas << " VMAs, " << human_bytes(t.filter_sealed_bytes)
      << " sealed by filters, counted as sealed above; " << t.partial_vmas << " VMAs sealed in part, "
      << human_bytes(t.partial_bytes) << " of them; " << t.supervised_vmas << " VMAs, "
      << human_bytes(t.supervised_bytes) << " left to a supervisor, not counted), "
      << f(audit::FilterSummary::Status::kUnknown) << " unknown, "
      << f(audit::FilterSummary::Status::kNone) << " without, " << f(audit::FilterSummary::Status::kNotChecked)
      << " not checked\n";
  if (m.filter_refuses_mseal != 0)
    out << "kept from mseal by their seccomp filters: " << count(m.filter_refuses_mseal, "process", "processes")
        << " (their FILTERS cell says the answer; docs/audit.md, \"Filters that refuse mseal\")\n";
  auto n = [&](audit::AuditStatus s) { return m.by_status[static_cast<std::size_t>(s)]; };
  out << "skipped: " << m.skipped() << " (" << n(audit::AuditStatus::kGone) << " gone, "
      << n(audit::AuditStatus::kDenied) << " denied, " << n(audit::AuditStatus::kKernelThread) << " kernel threads, "
      << n(audit::AuditStatus::kZombie) << " zombies, " << n(audit::AuditStatus::kTorn) << " torn, "
      << n(audit::AuditStatus::kBusy) << " busy, " << n(audit::AuditStatus::kTimeout) << " timeout)\n";

  if (!o.by_class) return;
  Rows classes{{"CLASS", "VMAS", "BYTES", "SEALED/SHOULD VMAS", "SEALED/SHOULD BYTES", "COVERAGE", "SEALED VMAS",
                 "IN PART", "SUPERVISED"}};
  for (std::size_t c = 0; c < audit::kVmaClassCount; ++c) {
    const audit::ClassTotals& k = m.by_class[c];
    if (!k.vmas) continue;
    const bool applies = k.should_vmas != 0;
    classes.push_back({audit::to_string(static_cast<audit::VmaClass>(c)), std::to_string(k.vmas), human_bytes(k.bytes),
                       applies ? of(k.sealed_should_vmas, k.should_vmas) : "n/a",
                       applies ? human_bytes(k.sealed_should_bytes) + "/" + human_bytes(k.should_bytes) : "n/a",
                       percent_text(k.sealed_should_bytes, k.should_bytes), std::to_string(k.sealed_vmas), std::to_string(k.partial_vmas),
                       std::to_string(k.supervised_vmas)});
  }
  out << '\n';
  print_table(classes, out);
}

}  // namespace sealkit::cli::audit_report
