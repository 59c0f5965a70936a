// `sealkit disable [--dry-run]`: machine-wide sealing off for new processes.
// Takes every sealkit entry out of /etc/ld.so.preload (any name whose last
// component is libsealkit-preload.so: the machine is then not sealed by
// sealkit at all), keeping every other byte; where the file is still exactly
// what `sealkit enable` wrote, the backup is put back as it was, "did not
// exist" included. Then clears the set-user-ID bit that enable set: nothing
// preloads the object any more, and ld.so should not trust it in secure
// execution when nothing asks for it.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/command.hpp"
#include "cli/escape.hpp"
#include "cli/machine/backup.hpp"
#include "cli/machine/installation.hpp"
#include "cli/machine/preload_file.hpp"
#include "cli/output.hpp"
#include "cli/safe_write.hpp"

namespace sealkit::cli {

namespace {

using namespace machine;

// Clears the bit where it is set; says what it did. False with `error`.
bool clear_bits(const Installation* inst, bool dry_run, std::string& error) {
  if (!inst) return true;
  for (const ClassObject& c : inst->classes) {
    const auto m = object_mode(c);
    if (!m || (m->mode & S_ISUID) == 0) continue;
    if (!dry_run && !set_setuid_bit(c, false, error)) return false;
    std::cout << (dry_run ? "would clear" : "cleared") << " the set-user-ID bit on " << visible_text(c.object)
              << " (nothing preloads it any more)\n";
  }
  return true;
}

int run_disable(bool dry_run) {
  if (::geteuid() != 0) {
    print_error("sealkit disable must run as root: it writes /etc/ld.so.preload; run it with sudo");
    return kExitError;
  }
  // Without the installation (the shipped line removed) the file is still
  // cleaned; only the set-user-ID bits are left for the administrator.
  Installation found;
  std::string error;
  const Installation* inst = find_installation(found, error) ? &found : nullptr;
  if (!inst) print_warning(error + "; the preload objects' set-user-ID bits are left as they are");
  PreloadFile file;
  Backup backup;
  if (!read_preload_file(kPreloadFile, file, error) || !read_backup(backup, error)) {
    print_error(error);
    return kExitError;
  }
  if (!names_sealkit(file.text)) {
    std::cout << "already disabled: " << kPreloadFile << (file.exists ? " names no " : " does not exist: no ")
              << kPreloadObject << "\n";
    if (!clear_bits(inst, dry_run, error)) {
      print_error(error);
      return kExitError;
    }
    return kExitOk;
  }

  // Exactly what enable wrote over the backup: the backup goes back as it was.
  bool after_exists = true;
  std::string after;
  if (backup.present && inst && file.text == with_line(backup.text, inst->line)) {
    after_exists = backup.existed;
    after = backup.text;
  } else {
    after = without_sealkit(file.text);
    after_exists = !(backup.present && !backup.existed && after.empty());  // enable made it; nothing else is in it
    // Shorter, the file may be read differently (a comment's words read as
    // names: preload_file.hpp); then it is the administrator's to edit.
    if (const std::vector<std::string> added = new_names(file.text, after); !added.empty() || names_sealkit(after)) {
      std::string list;
      for (const std::string& n : added) list += (list.empty() ? "" : ", ") + n;
      std::cout << describe_change(kPreloadFile, true, file.text, after_exists, after)
                << "\nsealkit disable: without sealkit's entries, ld.so would "
                << (added.empty() ? "still read a sealkit entry" : "read " + visible_text(list) + " as objects to preload")
                << " (glibc's ld.so does not see every comment, and a shorter file changes which); nothing was "
                   "changed: remove sealkit's entries from "
                << kPreloadFile << " by hand\n";
      return kExitFinding;
    }
  }
  std::cout << "The change" << (dry_run ? " sealkit disable would make" : "") << ":\n"
            << describe_change(kPreloadFile, true, file.text, after_exists, after);
  if (dry_run) {
    if (!clear_bits(inst, true, error)) return kExitError;
    std::cout << "\ndry run: nothing was changed. Run sealkit disable to apply.\n";
    return kExitOk;
  }
  if (after_exists) {
    if (!write_file_safely(kPreloadFile, after, error, 0644)) {
      print_error(error);
      return kExitError;
    }
  } else if (::unlink(kPreloadFile) != 0) {
    print_error(std::string("cannot remove ") + kPreloadFile + ": " + std::strerror(errno));
    return kExitError;
  }
  std::cout << (after_exists ? "wrote " : "removed ") << kPreloadFile
            << (after_exists ? "" : " (sealkit enable had created it)") << "\n";
  if (!clear_bits(inst, false, error) || !remove_backup(error)) {
    print_error(error);
    return kExitError;
  }
  std::cout << "\ndisabled: programs started from now on are not sealed by sealkit; running ones stay sealed until "
               "they exit.\n";
  return kExitOk;
}

}  // namespace

Runner add_disable(CLI::App& app) {
  auto* sub = app.add_subcommand("disable",
                                 "Turn machine-wide sealing off: take sealkit's entries out of /etc/ld.so.preload");
  auto dry_run = std::make_shared<bool>(false);
  sub->add_flag("--dry-run", *dry_run, "Show the change, but change nothing");
  sub->footer("Root only. Exit status: 0 disabled (or already), 1 the edit would change how ld.so reads the rest of "
              "the file (nothing changed), 2 an error.");
  return [dry_run] { return run_disable(*dry_run); };
}

}  // namespace sealkit::cli
