// `sealkit run [options] -- PROGRAM ARGS...`: run a program, and everything it
// starts, with every ELF object sealed by the runtime (libsealkit-runtime.so,
// injected through LD_AUDIT, which children inherit across fork and exec;
// cli/run/inject.hpp says which objects and how they are named).
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/command.hpp"
#include "cli/output.hpp"
#include "cli/run/backend.hpp"
#include "cli/run/inject.hpp"
#include "cli/run/program.hpp"
#include "cli/run/static_seal.hpp"
#include "cli/run/static_tls.hpp"
#include "cli/run/supervise.hpp"
#include "cli/safe_write.hpp"
#include "cli/validators.hpp"
#include "runtime/trusted_file.hpp"

namespace sealkit::cli {

namespace {

namespace fs = std::filesystem;
namespace rt = sealkit::rt;

struct RunOptions {
  std::vector<std::string> command;
  std::string log;
  std::string runtime;
  bool allow_static = false;
  std::vector<std::string> policies;  // --policy NAME=VALUE
  std::string config;
  std::string backend = "auto";  // --backend kernel|seccomp|auto (cli/run/backend.hpp)
};

// The runtime reads SEALKIT_CONFIG only if it passes these checks (the same
// code: src/runtime/trusted_file.hpp); say so here rather than as a warning
// in every process.
bool check_config(const std::string& path, std::string& why) {
  const std::string abs = fs::absolute(path).string();
  rt::TrustProblem problem;
  const int fd = rt::open_trusted(abs.c_str(), rt::Owners::kRootOrUser, static_cast<std::uint32_t>(getuid()), problem);
  if (fd < 0) {
    why = "--config " + path + ": " + (problem.part.size() == abs.size() ? "" : std::string(problem.part) + " ") +
          problem.what;
    if (problem.what == std::string_view("is writable by its group or by others")) why += " (chmod go-w)";
    else if (!problem.missing) why += " (the runtime would ignore it: docs/runtime.md, \"Configuration\")";
    return false;
  }
  struct stat st;
  if (fstat(fd, &st) == 0 && st.st_size > 16384) why = "--config " + path + ": larger than 16384 bytes";
  close(fd);
  return why.empty();
}

// Whether sealkit can run `program` at all (false: said why) and, for a
// static one, why it cannot seal it (`static_unsealable`, empty when it can).
bool judge_program(const fs::path& program, const run_program::Kind& kind, const run_inject::Objects& objects,
                   std::string& static_unsealable) {
  // A static program is sealed by sealkit itself (run/static_seal.hpp) where
  // it can be; where it cannot, --allow-static runs it unsealed.
  switch (kind.linking) {
    case run_program::Linking::kStatic:
      if (!run_static::kAvailable) static_unsealable = "sealkit follows static programs on x86-64 only";
      else if (kind.is_32_bit) static_unsealable = "sealkit follows 64-bit static programs only";
      break;
    case run_program::Linking::kUnknown:
      if (access(program.c_str(), X_OK) != 0) {
        print_error(program.string() + ": " + std::strerror(errno));
        return false;
      }
      break;
    case run_program::Linking::kDynamic:
      if (kind.is_32_bit && !objects.both_classes) {
        print_error(program.string() + " is a 32-bit program, and sealkit has no 32-bit objects to inject: " +
                    objects.why_64_bit_only);
        return false;
      }
      break;
    case run_program::Linking::kScript:
      break;
  }
  // ld.so drops LD_AUDIT and LD_PRELOAD in secure execution: nothing of
  // sealkit would run in it. Said here, once; children are told about by the
  // preload object's exec wrappers (runtime/preload/secure_exec_notice.hpp).
  const std::string secure = run_program::secure_exec_reason(program);
  // Traced, a set-user-ID program would not get its privileges: not traced.
  if (kind.linking == run_program::Linking::kStatic && !secure.empty())
    static_unsealable = "it runs in secure execution (" + secure + "), which ptrace would take away";
  if (!secure.empty() && kind.linking != run_program::Linking::kStatic) {
    print_warning(program.string() + " runs in secure execution (" + secure +
                  "): ld.so ignores LD_AUDIT and LD_PRELOAD there, so sealkit run does not seal it or what it starts "
                  "(docs/runtime.md, \"Limits\")");
  }
  return true;
}

// --policy dlopen=... and harden-discard=... into the runtime's values
// (SEALKIT_DLOPEN, SEALKIT_HARDEN_DISCARD; docs/runtime.md); false: said why.
bool parse_policies(const std::vector<std::string>& policies, std::string& dlopen_policy, std::string& harden_discard) {
  for (const std::string& p : policies) {
    constexpr std::string_view kDlopen = "dlopen=", kHarden = "harden-discard=";
    const std::string_view whole(p);
    if (whole.substr(0, kHarden.size()) == kHarden) {
      const std::string_view v = whole.substr(kHarden.size());
      if (v != "on" && v != "off") {
        print_error("--policy " + p + ": expected harden-discard=on or harden-discard=off");
        return false;
      }
      harden_discard = v;
      continue;
    }
    std::string_view v = whole.substr(0, kDlopen.size()) == kDlopen ? whole.substr(kDlopen.size()) : std::string_view();
    if (v != "promote" && v != "nodelete" && v != "off") {
      print_error("--policy " + p +
                  ": expected dlopen=promote, dlopen=nodelete, dlopen=off, harden-discard=on or harden-discard=off");
      return false;
    }
    dlopen_policy = v;
  }
  return true;
}

// What the program inherits: the injected objects and the runtime's settings.
struct Injection {
  std::string dlopen_policy;
  std::string harden_discard;
  std::string log;  // the physical path
  std::string backend;
};

void set_environment(const RunOptions& o, const run_inject::Objects& objects, const Injection& in) {
  std::string preloads = objects.preload;
  if (const char* old = std::getenv("LD_PRELOAD"); old && *old) preloads += std::string(":") + old;
  setenv("LD_PRELOAD", preloads.c_str(), 1);
  if (!in.dlopen_policy.empty()) setenv("SEALKIT_DLOPEN", in.dlopen_policy.c_str(), 1);
  if (!in.harden_discard.empty()) setenv("SEALKIT_HARDEN_DISCARD", in.harden_discard.c_str(), 1);
  // Ours first: ld.so loads audit modules in order, and the runtime must see
  // every object. Existing auditors are kept.
  std::string audit = objects.audit;
  if (const char* old = std::getenv("LD_AUDIT"); old && *old) audit += std::string(":") + old;
  setenv("LD_AUDIT", audit.c_str(), 1);
  if (!in.log.empty()) setenv("SEALKIT_LOG", in.log.c_str(), 1);
  if (!o.config.empty()) setenv("SEALKIT_CONFIG", fs::absolute(o.config).c_str(), 1);
  setenv("SEALKIT_BACKEND", in.backend.c_str(), 1);
}

int run(const RunOptions& o) {
  std::string why;
  auto objects = run_inject::find_objects(o.runtime, why);
  if (!objects) {
    print_error(why);
    return kExitError;
  }
  auto program = run_program::resolve(o.command.front());
  if (!program) {
    print_error(o.command.front() + ": command not found in PATH");
    return kExitError;
  }
  const run_program::Kind kind = run_program::kind_of(*program);
  const bool is_static = kind.linking == run_program::Linking::kStatic;
  std::string static_unsealable;
  if (!judge_program(*program, kind, *objects, static_unsealable)) return kExitError;

  Injection in;
  if (!parse_policies(o.policies, in.dlopen_policy, in.harden_discard)) return kExitError;
  // Every process appends to the log as whoever it runs as (often root), by
  // path: its directories must be ones no other user can swap (cli/safe_write.hpp).
  // The runtime walks the path again in every process, refusing links and "..": it gets the physical path.
  if (!o.log.empty() && !check_append_path(fs::absolute(o.log), why, in.log)) {
    print_error("--log: " + why);
    return kExitError;
  }
  if (!o.config.empty() && !check_config(o.config, why)) {
    print_error(why);
    return kExitError;
  }
  in.backend = run_backend::choose_backend(o.backend, why);
  if (in.backend.empty()) {
    print_error(why);
    return kExitError;
  }
  if (is_static && in.backend == "seccomp" && static_unsealable.empty())
    static_unsealable = "sealkit seals static programs with mseal(2) only, not on the seccomp backend";
  if (!static_unsealable.empty()) {
    if (!o.allow_static) {
      print_error(program->string() + " is statically linked and cannot be sealed: " + static_unsealable +
                  "; pass --allow-static to run it unsealed anyway");
      return kExitError;
    }
    print_warning(program->string() + " is statically linked and runs unsealed: " + static_unsealable);
  }
  // Static TLS for the libraries under LD_AUDIT (run/static_tls.hpp). Asked
  // of ld.so before LD_AUDIT and LD_PRELOAD are set for the program.
  if (kind.linking == run_program::Linking::kDynamic) {
    const std::string tunables =
        run_tls::tunables_with_room(std::getenv("GLIBC_TUNABLES"), run_tls::libraries_tls_bytes(*program));
    setenv("GLIBC_TUNABLES", tunables.c_str(), 1);
  }
  set_environment(o, *objects, in);

  std::vector<char*> argv;
  for (const std::string& a : o.command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  // A static program is followed to the end of its start-up and sealed with
  // ptrace; sealkit stays as its parent (run/static_seal.hpp).
  if (is_static && static_unsealable.empty()) {
    run_static::run(program->c_str(), argv.data(), in.log, why);
    print_error(why);
    return kExitError;
  }
  // On the seccomp backend sealkit stays as the program's supervisor, so that
  // a filter never outlives the image it seals (docs/seccomp-exec.md).
  if (in.backend == "seccomp") {
    run_supervise::run(program->c_str(), argv.data(), why);
    print_error(why);
    return kExitError;
  }
  execv(program->c_str(), argv.data());
  const int err = errno;
  print_error("cannot run " + program->string() + ": " + std::strerror(err) +
              (err == ENOEXEC && kind.is_32_bit ? " (this kernel does not run 32-bit programs)" : ""));
  return kExitError;
}

}  // namespace

Runner add_run(CLI::App& app) {
  auto* sub = app.add_subcommand("run", "Run a program with every ELF object of it and its children sealed");
  auto o = std::make_shared<RunOptions>();
  sub->add_option("--log", o->log,
                  "Append one JSON line per sealed process to FILE (SEALKIT_LOG); its directories must pass the rule "
                  "of docs/cli.md, \"Files sealkit writes\"")
      ->type_name("FILE")
      ->check(file_name());
  sub->add_option("--runtime", o->runtime,
                  "Use this libsealkit-runtime.so (and the libsealkit-preload.so beside it) instead of the installed "
                  "ones; 64-bit programs only unless PATH is in the installed layout (<prefix>/<$LIB>/sealkit/)")
      ->type_name("PATH")
      ->check(file_name());
  sub->add_option("--policy", o->policies,
                  "dlopen=promote (default: every dlopen'd object kept loaded and sealed), dlopen=nodelete "
                  "(seal only objects the loader never unloads), dlopen=off; harden-discard=on (refuse discarding "
                  "madvise on sealed RELRO, kernel backend; needs CAP_SYS_ADMIN or no_new_privs), harden-discard=off")
      ->allow_extra_args(false);  // one NAME=VALUE per --policy, so `--` still ends sealkit's options
  sub->add_option("--config", o->config,
                  "Read this runtime configuration too (SEALKIT_CONFIG; ignored by setuid programs): it replaces "
                  "the defaults where the machine has no /etc/sealkit/runtime.conf and no machine-wide preload, "
                  "and otherwise may only seal more than they say")
      ->type_name("FILE")
      ->check(file_name());
  sub->add_option("--backend", o->backend,
                  "kernel (mseal(2)), seccomp (a seccomp filter: sets no_new_privs without CAP_SYS_ADMIN) or auto "
                  "(default: kernel where mseal exists; without it, seccomp only with CAP_SYS_ADMIN, else refused: "
                  "say --backend seccomp)")
      ->type_name("BACKEND")
      ->check(one_of({"kernel", "seccomp", "auto"}));
  sub->add_flag("--allow-static", o->allow_static,
                "Run a statically linked program that sealkit cannot seal (32-bit, in secure execution, or on the "
                "seccomp backend) unsealed instead of refusing it; other static programs are sealed either way");
  sub->add_option("PROGRAM", o->command, "The program and its arguments: the first word that is not an option")
      ->required();
  sub->footer(
      "Exit status: the program's own; 2 when sealkit itself cannot start it (the message says why).\n"
      "With --backend seccomp sealkit stays as the program's parent: its supervisor across execve\n"
      "(docs/seccomp-exec.md); signals sent to sealkit are passed on.\n"
      "Example: sealkit run -- python3 -c 'print(1)'");
  return [o] { return run(*o); };
}

}  // namespace sealkit::cli
