// `sealkit selftest`: the conformance and attack matrix. Every primitive that
// can change a mapping is tried on every mapping class, sealed and unsealed,
// each run in its own forked child; the result of each cell is compared with
// the kernel's documented sealing rules (selftest/matrix.cpp).
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/command.hpp"
#include "cli/output.hpp"
#include "cli/selftest/cells.hpp"
#include "cli/selftest/findings.hpp"
#include "cli/selftest/matrix.hpp"
#include "cli/selftest/report.hpp"
#include "cli/validators.hpp"
#include "sealkit/sealkit.h"

namespace sealkit::cli {

namespace {

struct SelftestOptions {
  bool json = false;
  std::string only;   // a primitive name, or "" for all
  std::string klass;  // a mapping class name, or "" for all
};

int run_selftest(const SelftestOptions& opt) {
  using namespace selftest;
  std::string why;
  if (!kernel_can_seal(why)) {
    print_error("this kernel cannot seal memory, so there is nothing to test (mseal(2) needs Linux 6.10+ on 64-bit; "
                "SEALKIT_BACKEND=seccomp uses seccomp filters where they work; library backend: " +
                std::string(sealkit_backend()) + "): " + why);
    return kExitError;
  }
  SelftestRun run;
  for (const auto& p : primitives()) {
    if (!opt.only.empty() && p.name != opt.only) continue;
    for (const auto& c : classes()) {
      if (!opt.klass.empty() && c.name != opt.klass) continue;
      run.cells.push_back(run_cell(p.id, c.id));
    }
  }
  run.not_covered = probe_not_covered();
  run.io_uring = probe_io_uring();
  if (opt.json) print_json(report_json(run));
  else print_report(run);
  return run.all_as_expected() ? kExitOk : kExitFinding;
}

std::vector<std::string> names_of(auto table) {
  std::vector<std::string> v;
  for (const auto& e : table) v.emplace_back(e.name);
  return v;
}

}  // namespace

Runner add_selftest(CLI::App& app) {
  auto* sub = app.add_subcommand("selftest", "Run the sealing conformance and attack matrix");
  auto opt = std::make_shared<SelftestOptions>();
  sub->add_flag("--json", opt->json, "Print every cell and finding as JSON");
  sub->add_option("--only", opt->only, "Run only this primitive")
      ->type_name("PRIMITIVE")
      ->check(one_of(names_of(selftest::primitives())));
  sub->add_option("--class", opt->klass, "Run only this mapping class")
      ->type_name("CLASS")
      ->check(one_of(names_of(selftest::classes())));
  sub->footer(
      "Each primitive (mprotect, munmap, mremap, mmap MAP_FIXED, madvise, process_madvise, shmat, brk) is tried on\n"
      "each mapping class, sealed and unsealed, each in its own child process. Also tests what mseal does not cover\n"
      "(/proc/self/mem, ptrace, userfaultfd) and whether io_uring's IORING_OP_MADVISE honours seals.\n"
      "Exit status: 0 every cell as documented, 1 a cell is not, 2 bad usage or the kernel cannot seal.");
  return [opt] { return run_selftest(*opt); };
}

}  // namespace sealkit::cli
