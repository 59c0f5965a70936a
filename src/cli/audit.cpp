// `sealkit audit [PID...] [--all]`: what is sealed in live processes, what
// should be and is not, per process and for the machine (docs/audit.md).
#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/audit/report.hpp"
#include "cli/command.hpp"
#include "cli/machine/preload_file.hpp"
#include "cli/machine/runtime_config.hpp"
#include "cli/output.hpp"
#include "cli/safe_write.hpp"
#include "cli/validators.hpp"
#include "audit/seccomp_filters.hpp"
#include "audit/process_audit.hpp"

namespace sealkit::cli {

namespace {

struct AuditOptions {
  std::vector<long> pids;
  bool all = false;
  bool json = false;
  std::string format = "table";
  bool format_given = false;  // --format on the command line, not the default
  std::string output;
  std::string sort = "pid";
  double require = -1;  // < 0: not asked
  bool by_class = false;
  bool vmas = false;
  bool per_process = false;
  bool no_filters = false;
  std::uint64_t filter_budget = std::uint64_t{1} << 26;
  std::uint64_t filter_run_budget = std::uint64_t{1} << 30;
  unsigned stop_timeout_ms = 50;
  unsigned answer_timeout_ms = 100;
  unsigned wait_budget_ms = 1000;
};

// Every process (thread group) /proc lists now, in pid order.
std::vector<pid_t> all_pids() {
  std::vector<pid_t> out;
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir("/proc"), ::closedir);
  if (!d) throw std::runtime_error(std::string("cannot list /proc: ") + std::strerror(errno) + "; is /proc mounted?");
  while (const dirent* e = ::readdir(d.get())) {
    char* end = nullptr;
    long v = std::strtol(e->d_name, &end, 10);
    if (end != e->d_name && *end == '\0' && v > 0) out.push_back(static_cast<pid_t>(v));
  }
  std::sort(out.begin(), out.end());
  return out;
}

int run_audit(const AuditOptions& o) {
  if (o.all == !o.pids.empty()) {
    print_error(o.all ? "give PIDs or --all, not both" : "give the PIDs to audit, or --all for every process");
    return kExitError;
  }
  std::string format = o.format;
  if (o.json) {
    if (o.format_given && format != "json") {
      print_error("--json and --format " + format + " disagree; give one of them");
      return kExitError;
    }
    format = "json";
  }

  audit_report::MachineAudit m;
  // What each process's state depends on (cli/audit/process_state.hpp): whether machine-wide sealing is on,
  // read as `sealkit status` reads it; the exclusions the runtime takes from the machine's file (a trusted
  // one only); whether this kernel seals.
  {
    audit_report::MachineFacts facts;
    std::string error;
    if (!audit_report::read_machine_facts(facts, m.admin_config, error)) {
      print_error(error);
      return kExitError;
    }
    m.machine_wide_enabled = facts.machine_wide_on;
    m.kernel_seals = facts.kernel_seals;
  }

  std::vector<pid_t> pids;
  if (o.all) {
    pids = all_pids();
  } else {
    // Each process once, in the order given: a PID named twice is one process.
    for (long p : o.pids) {
      if (std::find(pids.begin(), pids.end(), static_cast<pid_t>(p)) == pids.end()) pids.push_back(static_cast<pid_t>(p));
    }
  }

  m.keep_vmas = o.vmas;
  m.started_unix_seconds =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const auto t0 = std::chrono::steady_clock::now();
  audit::ElfLayoutCache cache;
  audit::AuditOptions ao;
  ao.filters = !o.no_filters;
  if (ao.filters) ao.filters_unreadable = audit::why_filters_unreadable();
  ao.filter_budget = o.filter_budget;
  std::uint64_t filter_run_budget = o.filter_run_budget;
  ao.filter_run_budget = &filter_run_budget;
  ao.stop_timeout = std::chrono::milliseconds(o.stop_timeout_ms);
  ao.answer_timeout = std::chrono::milliseconds(o.answer_timeout_ms);
  audit::WaitBudget waits{std::chrono::milliseconds(o.wait_budget_ms)};
  ao.waits = &waits;
  m.processes.reserve(pids.size());
  for (pid_t pid : pids) m.add(audit::audit_process(pid, cache, ao));
  // Targets that did not stop in time are still attached: detach them as
  // they stop, for one more --stop-timeout if the budget has it; what is left
  // the kernel detaches when this process exits, and lets run.
  if (ao.filters) {
    const auto t_wait = audit::WaitBudget::Clock::now();
    audit::finish_pending_detaches(waits.grant(ao.stop_timeout));
    waits.spend(audit::WaitBudget::Clock::now() - t_wait);
  }
  m.duration_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  audit_report::RenderOptions ro;
  ro.by_class = o.by_class;
  ro.vmas = o.vmas;
  ro.per_process = o.per_process;
  ro.only_ok = o.all;
  ro.sort = o.sort == "user"       ? audit_report::SortBy::kUser
            : o.sort == "exe"      ? audit_report::SortBy::kExe
            : o.sort == "coverage" ? audit_report::SortBy::kCoverage
            : o.sort == "state"    ? audit_report::SortBy::kState
                                   : audit_report::SortBy::kPid;
  auto render = [&](std::ostream& out) {
    if (format == "json") audit_report::write_json(out, m, ro);
    else if (format == "prometheus") audit_report::write_prometheus(out, m, ro);
    else audit_report::write_table(out, m, ro);
  };
  if (o.output.empty()) {
    render(std::cout);
    std::cout.flush();
  } else {
    std::ostringstream text;
    render(text);
    // node_exporter's textfile collector may read at any moment: replaced whole (cli/safe_write.hpp).
    std::string error;
    if (!write_file_safely(o.output, text.str(), error)) {
      print_error("--output: " + error);
      return kExitError;
    }
  }

  if (o.require < 0) return kExitOk;
  auto coverage = audit_report::percent(m.total.coverage_bytes());
  if (!coverage) {
    std::fprintf(stderr, "sealkit: audit: nothing that should be sealed was audited; --require %g is not met\n",
                 o.require);
    return kExitFinding;
  }
  if (*coverage < o.require) {
    std::fprintf(stderr, "sealkit: audit: coverage %.2f%% is below the required %g%%\n", *coverage, o.require);
    return kExitFinding;
  }
  return kExitOk;
}

}  // namespace

Runner add_audit(CLI::App& app) {
  auto* sub = app.add_subcommand("audit", "Show what is sealed in live processes, and what should be and is not");
  auto o = std::make_shared<AuditOptions>();
  sub->add_option("PID", o->pids, "Process ids to audit (a PID given twice is audited once)")->check(process_id());
  sub->add_flag("--all", o->all, "Audit every process on the machine");
  sub->add_flag("--json", o->json, "Same as --format json");
  auto* format = sub->add_option("--format", o->format,
                                 "table (default), json or prometheus (node_exporter textfile collector)")
                     ->type_name("FORMAT")
                     ->check(one_of({"table", "json", "prometheus"}));
  sub->add_option("--output", o->output,
                  "Write to FILE instead of standard output: a new file renamed over FILE, in a directory only root "
                  "or you can change (docs/cli.md, \"Files sealkit writes\")")
      ->type_name("FILE")
      ->check(file_name());
  sub->add_option("--require", o->require, "Exit 1 when machine coverage of bytes is below PERCENT")
      ->type_name("PERCENT")
      ->check(decimal_number(0, 100, "percent"));
  sub->add_option("--sort", o->sort,
                  "The table's order: pid (default), user, exe, coverage (the least sealed first) or state")
      ->type_name("KEY")
      ->check(one_of({"pid", "user", "exe", "coverage", "state"}));
  sub->add_flag("--by-class", o->by_class, "Add the totals by class of mapping (table), per process too (JSON)");
  sub->add_flag("--vmas", o->vmas, "JSON: list every VMA and object of each process");
  sub->add_flag("--per-process", o->per_process, "Prometheus: add per-process series (labels pid and comm)");
  sub->add_flag("--no-filters", o->no_filters,
                "Do not read seccomp filters. By default (as root) each process with filters is ptrace-stopped "
                "for some microseconds to read them, and memory they refuse to change counts as sealed");
  sub->add_option("--filter-budget", o->filter_budget,
                  "BPF instructions evaluated per process; past it, VMAs are 'unknown' (default 67108864)")
      ->type_name("N")
      ->check(whole_number(1, std::uint64_t{1} << 40, "instructions"));
  sub->add_option("--filter-run-budget", o->filter_run_budget,
                  "BPF instructions evaluated in the whole run; once spent, the VMAs of further processes with "
                  "filters are 'unknown' (default 1073741824)")
      ->type_name("N")
      ->check(whole_number(1, std::uint64_t{1} << 44, "instructions"));
  sub->add_option("--stop-timeout", o->stop_timeout_ms,
                  "Milliseconds to wait for one process to stop so that its filters can be read; one that does "
                  "not (a vfork parent, uninterruptible sleep) is skipped as 'busy' (default 50)")
      ->type_name("MS")
      ->check(whole_number(1, 10000, "milliseconds"));
  sub->add_option("--answer-timeout", o->answer_timeout_ms,
                  "Milliseconds to wait for the exec supervisor of a process under `sealkit run --backend "
                  "seccomp` to say what it enforces; one that does not answer is not asked again in the run "
                  "(default 100)")
      ->type_name("MS")
      ->check(whole_number(1, 10000, "milliseconds"));
  sub->add_option("--wait-budget", o->wait_budget_ms,
                  "Milliseconds the whole run may spend waiting for processes to stop and supervisors to answer; "
                  "once spent, processes with filters are skipped as 'timeout' (default 1000)")
      ->type_name("MS")
      ->check(whole_number(0, 600000, "milliseconds"));
  sub->footer("Exit status: 0 done, 1 coverage below --require, 2 bad usage or an error. "
              "What counts as should-be-sealed: docs/audit.md. As root, a process with seccomp filters is "
              "ptrace-stopped for microseconds while they are read, and memory they refuse to change counts as "
              "sealed (sealed_by filter); --no-filters leaves every process untouched. Waiting on processes is "
              "bounded per process (--stop-timeout), per supervisor (--answer-timeout) and per run (--wait-budget): a process whose filters were "
              "not read in time is skipped as busy or timeout.");
  return [o, format] {
    o->format_given = format->count() != 0;
    return run_audit(*o);
  };
}

}  // namespace sealkit::cli
