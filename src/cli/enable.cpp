// `sealkit enable [--dry-run]`: machine-wide sealing on. Every check first,
// then the canaries under exactly the /etc/ld.so.preload it is about to write
// (cli/machine/canary.hpp), and only when all of them pass: ldconfig where the
// cache does not list the object, the set-user-ID bit on each class's preload
// object, a backup of the file (cli/machine/backup.hpp), and the file with the
// shipped line appended. A failed check changes nothing (docs/cli.md).
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/command.hpp"
#include "cli/escape.hpp"
#include "cli/machine/backup.hpp"
#include "cli/machine/canary.hpp"
#include "cli/machine/installation.hpp"
#include "cli/machine/kernel_facts.hpp"
#include "cli/machine/preload_file.hpp"
#include "cli/output.hpp"
#include "cli/safe_write.hpp"

namespace sealkit::cli {

namespace {

using namespace machine;

void show(const Check& c) {
  std::cout << (c.ok ? paint("  ok      ", Colour::kGreen) : paint("  FAILED  ", Colour::kRed)) << visible_text(c.what)
            << ": " << visible_text(c.detail) << "\n";
}

int failed(const std::string& why) {
  std::cout << "\nsealkit enable: " << visible_text(why)
            << "; nothing was changed. Fix what the FAILED lines say and run sealkit enable again.\n";
  return kExitFinding;
}

// What enable found and will change.
struct Plan {
  Installation inst;
  PreloadFile file;
  bool rebuild_cache = false;  // ld.so's cache does not list an object yet
  std::string after;           // the preload file with the line
  bool line_there = false;     // the file already says it
  std::vector<const ClassObject*> needs_bit;
};

// The kernel, the installation, each object, ld.so's cache, the preload file
// and the backup. An exit code when enable ends here.
std::optional<int> run_checks(Plan& p) {
  std::cout << "Checks:\n";
  std::vector<Check> checks;
  const KernelFact ms = mseal_seals();
  checks.push_back({ms.value == true, "kernel: mseal(2) seals memory",
                    ms.value == true ? ms.detail
                                     : ms.detail + "; this kernel cannot seal: machine-wide sealing needs Linux 6.10+ "
                                                   "with mseal (sealkit probe says more)"});
  show(checks.back());
  Installation& inst = p.inst;
  std::string error;
  if (!find_installation(inst, error)) {
    show({false, "the installed line", error});
    return failed("sealkit is not installed where enable can find it");
  }
  show({true, "the line to add", inst.name + " (" + inst.line_file + ")"});
  for (const ClassObject& c : inst.classes) {
    for (const Check& k : check_object(c)) {
      checks.push_back(k);
      show(k);
    }
  }
  if (!inst.without_32_bit.empty()) std::cout << "  n/a     32-bit class: " << inst.without_32_bit << "\n";

  // ld.so's cache: where a process outside secure execution finds the bare name.
  if (inst.bare) {
    std::vector<std::string> listed;
    if (!cache_entries(inst.classes, listed, error)) {
      checks.push_back({false, "ld.so's cache (ldconfig -p)", error + "; install glibc's ldconfig"});
      show(checks.back());
    } else {
      for (std::size_t i = 0; i < inst.classes.size(); ++i) {
        if (listed[i].empty()) p.rebuild_cache = true;
        show({true, "ld.so's cache, " + inst.classes[i].label,
              listed[i].empty() ? "does not list " + std::string(kPreloadObject) + " yet: ldconfig will be run"
                                : "libsealkit-preload.so => " + listed[i]});
      }
    }
  }

  if (!read_preload_file(kPreloadFile, p.file, error)) {
    checks.push_back({false, kPreloadFile, error});
    show(checks.back());
  }
  Backup backup;
  if (!read_backup(backup, error)) {
    checks.push_back({false, "the backup of an earlier enable", error + "; remove it if it is not needed"});
    show(checks.back());
  }
  for (const Check& c : checks) {
    if (!c.ok) return failed("a check failed");
  }
  return std::nullopt;
}

// The edit and the set-user-ID bits it needs. An exit code when enable ends here.
std::optional<int> plan_change(Plan& p, bool dry_run) {
  p.after = with_line(p.file.text, p.inst.line);
  p.line_there = p.file.exists && p.after == p.file.text;
  if (const std::vector<std::string> added = new_names(p.file.text, p.after, p.inst.name); !added.empty()) {
    std::string list;
    for (const std::string& n : added) list += (list.empty() ? "" : ", ") + n;
    show({false, kPreloadFile,
          "with the line appended, ld.so would also read " + list +
              " as objects to preload: glibc's ld.so does not see every comment (a '#' late in the file), and "
              "appending changes which; remove those comments, or end the file's lines with no comment"});
    return failed("the edit would change how ld.so reads the rest of the file");
  }
  if (p.inst.bare) {
    for (const ClassObject& c : p.inst.classes) {
      const auto m = object_mode(c);
      if (m && (m->mode & S_ISUID) == 0) p.needs_bit.push_back(&c);
    }
  }
  if (p.line_there && p.needs_bit.empty() && !p.rebuild_cache) {
    std::cout << "\nalready enabled: " << kPreloadFile << " names " << visible_text(p.inst.name)
              << ", and every object it reaches is ready; nothing was changed.\n";
    return kExitOk;
  }
  if (!p.needs_bit.empty()) {
    std::cout << "\nThe set-user-ID bit " << (dry_run ? "would be" : "will be") << " set on:\n";
    for (const ClassObject* c : p.needs_bit) std::cout << "  " << visible_text(c->object) << "\n";
    std::cout << "Why: set-user-ID, set-group-ID and file-capability programs start in secure execution, where ld.so\n"
                 "takes a preload object named without a '/' only from its trusted directories, and only a file with\n"
                 "this bit. The objects have no execute bit, so the bit makes no program anyone could start.\n";
  }
  return std::nullopt;
}

// The line tried on canaries in a private mount namespace. An exit code when enable ends here.
std::optional<int> try_on_canaries(const Plan& p) {
  std::cout << "\nCanaries (in a private mount namespace, under the new " << kPreloadFile << "):\n";
  CanaryPlan plan{p.after, p.rebuild_cache, {}, p.inst.classes.size() > 1};
  for (const ClassObject* c : p.needs_bit) plan.setuid_objects.push_back(c->object);
  std::vector<CanaryResult> results;
  std::string error;
  if (!run_canaries(plan, results, error)) {
    show({false, "canaries", error});
    return failed("the canaries could not run");
  }
  bool all_passed = true;
  for (const CanaryResult& r : results) {
    const std::string mark = r.outcome == Outcome::kPassed    ? paint("  ok      ", Colour::kGreen)
                             : r.outcome == Outcome::kSkipped ? paint("  skipped ", Colour::kYellow)
                                                              : paint("  FAILED  ", Colour::kRed);
    std::cout << mark << visible_text(r.name) << ": " << visible_text(r.detail) << "\n";
    all_passed = all_passed && r.outcome != Outcome::kFailed;
  }
  if (!all_passed) return failed("a canary was not sealed");
  return std::nullopt;
}

// ldconfig, the set-user-ID bits, then the line (with its backup); each step
// undone when a later one fails.
int apply(const Plan& p) {
  std::string error;
  if (p.rebuild_cache) {
    std::vector<std::string> listed;
    if (!run_ldconfig(error) || !cache_entries(p.inst.classes, listed, error)) {
      print_error("ldconfig: " + error + "; nothing else was changed");
      return kExitError;
    }
    for (std::size_t i = 0; i < listed.size(); ++i) {
      if (listed[i].empty()) {
        show({false, "ld.so's cache, " + p.inst.classes[i].label,
              "ldconfig ran, and still does not list " + p.inst.classes[i].object +
                  ": is its directory in /etc/ld.so.conf?"});
        return failed("ld.so's cache does not list the object");
      }
    }
    std::cout << "ran ldconfig: ld.so's cache did not list " << kPreloadObject << "\n";
  }
  std::vector<const ClassObject*> bit_set;
  auto undo_bits = [&] {
    std::string ignored;
    for (const ClassObject* c : bit_set) set_setuid_bit(*c, false, ignored);
  };
  for (const ClassObject* c : p.needs_bit) {
    if (!set_setuid_bit(*c, true, error)) {
      undo_bits();
      print_error(error + "; nothing else was changed");
      return kExitError;
    }
    bit_set.push_back(c);
    std::cout << "set the set-user-ID bit on " << visible_text(c->object) << "\n";
  }
  if (!p.line_there) {
    if (!write_backup(p.file.exists, p.file.text, error) || !write_file_safely(kPreloadFile, p.after, error, 0644)) {
      undo_bits();
      std::string ignored;
      remove_backup(ignored);
      print_error(error + "; the set-user-ID bits set above were cleared again, " + kPreloadFile + " is unchanged");
      return kExitError;
    }
    std::cout << "wrote " << kPreloadFile << " (the previous content is kept in " << kStateDir << ")\n";
  }
  std::cout << "\nenabled: every dynamically linked program started from now on is sealed. Processes already running\n"
               "are not: sealkit status lists them; restart them (or reboot).\n";
  return kExitOk;
}

int run_enable(bool dry_run) {
  if (::geteuid() != 0) {
    print_error(std::string("sealkit enable") + (dry_run ? " --dry-run" : "") +
                " must run as root: it tries the line in a private mount namespace and writes /etc/ld.so.preload; "
                "run it with sudo");
    return kExitError;
  }
  Plan p;
  if (auto done = run_checks(p)) return *done;
  if (auto done = plan_change(p, dry_run)) return *done;
  if (auto done = try_on_canaries(p)) return *done;
  if (!p.line_there) {
    std::cout << "\nThe change" << (dry_run ? " sealkit enable would make" : "") << ":\n"
              << describe_change(kPreloadFile, p.file.exists, p.file.text, true, p.after);
  }
  if (dry_run) {
    std::cout << "\ndry run: every check and canary passed; nothing was changed. Run sealkit enable to apply.\n";
    return kExitOk;
  }
  return apply(p);
}

}  // namespace

Runner add_enable(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "enable", "Turn machine-wide sealing on: check, try the line on canaries, then add it to /etc/ld.so.preload");
  auto dry_run = std::make_shared<bool>(false);
  sub->add_flag("--dry-run", *dry_run, "Run every check and canary and show the change, but change nothing");
  sub->footer("Root only. Exit status: 0 enabled (or already), 1 a check or canary failed (nothing changed), "
              "2 an error.");
  return [dry_run] { return run_enable(*dry_run); };
}

}  // namespace sealkit::cli
