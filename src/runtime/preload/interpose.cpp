// libsealkit-preload.so: dlopen, dlmopen and dlclose wrappers that seal
// objects loaded after start-up (later_objects.hpp has the rule).
//
// Why a second object next to the audit module: the audit interface has no
// callback after a dlopen'd object is relocated (la_activity CONSISTENT
// comes before relocation and RELRO), and it never learns the mode
// (RTLD_NODELETE) a dlopen asked for. A wrapper sees both: the mode, and the
// moment the real dlopen has returned. It links libc (it calls libc's
// dlopen), which the audit module must not; it lives in the base namespace
// like the program, and is itself sealed at start-up as a preloaded object.
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <link.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <string_view>

#include "runtime/config.hpp"
#include "runtime/mseal_gate.hpp"
#include "runtime/preload/as_caller.hpp"
#include "runtime/preload/entry_stub.hpp"
#include "runtime/preload/exec_env.hpp"
#include "runtime/preload/exec_stack.hpp"
#include "runtime/preload/exec_wrappers.hpp"
#include "runtime/preload/glibc_loads.hpp"
#include "runtime/preload/later_objects.hpp"
#include "runtime/preload/real_dl.hpp"
#include "runtime/preload/secure_exec_notice.hpp"
#include "runtime/preload/startup.hpp"
#include "runtime/process_info.hpp"
#include "runtime/seccomp/install.hpp"
#include "runtime/sys.hpp"
#include "runtime/syslog.hpp"

// What crtbeginS.o would define (the object is linked -nostartfiles, see
// CMakeLists.txt): the handle pthread_atfork registers the fork handlers
// under, its own address, as in any shared object.
extern "C" {
__attribute__((visibility("hidden"))) void* __dso_handle = &__dso_handle;
}

namespace sealkit::rt::preload {

namespace {

RealDl g_real;
Policy g_policy = kDefaultPolicy;
Config g_config;
pthread_once_t g_once = PTHREAD_ONCE_INIT;
// Wrapped dlopen/dlmopen calls in progress on this thread. Initial-exec: the
// object is loaded at start-up (LD_PRELOAD, /etc/ld.so.preload), so its TLS is
// in the static block and needs no relocation against ld.so's __tls_get_addr.
__thread int t_depth __attribute__((tls_model("initial-exec"))) = 0;

// What start-up decided, before the program's code ran (run_startup_once).
bool g_audited = false;        // the audit module (`sealkit run`) did the start-up pass
bool g_settings_read = false;  // the settings and the configuration were read then (machine-wide)
bool g_excluded = false;       // exclude-program matched: nothing is sealed
std::size_t g_startup_objects = 0;  // base-namespace objects at start-up (0: not counted)

// Whether the audit module seals this process with the seccomp backend.
// `sealkit run` always passes the resolved choice, so SEALKIT_BACKEND says it.
// Without it (auto), the audit module decided from an mseal probe that this
// object must not repeat: under the filter syscall 462 traps, and the program
// may have replaced the runtime's SIGSYS handler by now. The handler itself
// tells instead: the audit module installs it exactly when it chose this backend.
bool audit_module_chose_seccomp(const char* setting) {
  const std::string_view s = setting;
  if (s == "seccomp" || s == "kernel") return s == "seccomp";
  return runtime_handles_sigsys();
}

// The part of the set-up that cannot wait for the program's first dlopen.
// Under `sealkit run` the audit module has sealed every start-up object
// already: one system call and a count of the objects loaded so far.
// Machine-wide (/etc/ld.so.preload) this is where start-up sealing happens, so
// the settings and the configuration are read here, once.
void startup_work() {
  learn_shadow_stack();
  // Quietly first: under `sealkit run` the audit module has warned already.
  ProcessInfo info;
  read_process_info(info, true);
  log_later_passes_to(info.log_path);  // the same file as start-up's line
  mseal_gate_startup();  // the filters it started under, before any of the program's own
  g_audited = audit_module_ran(info);
  // Under `sealkit run` (LD_AUDIT names the runtime; never in secure
  // execution, where the environment is not ours to trust), what it injected,
  // for the exec wrappers to hand on to children that clear or replace it
  // (exec_env.hpp). An excluded program's children too: they are judged by
  // their own executables.
  if (!info.secure && info.ld_audit_names_runtime) {
    remember_injected_environment(info.log_path);
    resolve_exec_functions();
  }
  if (g_audited) {
    g_startup_objects = count_startup_objects();
    remember_startup_counters();
    return;
  }
  // Without the audit module (machine-wide, or LD_PRELOAD by hand) nobody
  // asked this program for sealkit's words: from here on, every warning of
  // this object goes to the system log, not to the program's stderr.
  set_warning_sink(warn_to_syslog);
  if (info.rejected_a_setting) {
    info = ProcessInfo{};
    read_process_info(info, false);  // again, to say what was wrong
  }
  sealkit::rt::seccomp::set_supervisor_fd(info.supervisor_fd);  // seals are registered under the exec supervisor
  const Config::Load load = g_config.load(info.secure, info.config_path, false);
  g_settings_read = true;
  if (g_config.excludes_this_program()) {
    g_excluded = true;
    g_startup_objects = count_startup_objects();
    report_excluded_program(info, g_config, load, g_startup_objects);
    return;
  }
  g_startup_objects = seal_startup_objects(info, g_config, load);
  remember_startup_counters();
}

// startup_work exactly once, from the constructor or from a dlopen that an
// earlier constructor makes (possibly on another thread) before it ran. Not
// pthread_once: that makes a futex system call in every process when done.
enum : int { kNotStarted, kStarting, kStarted };
std::atomic<int> g_startup_state{kNotStarted};

void run_startup_once() {
  int expected = kNotStarted;
  if (g_startup_state.compare_exchange_strong(expected, kStarting, std::memory_order_acq_rel)) {
    startup_work();
    g_startup_state.store(kStarted, std::memory_order_release);
    return;
  }
  // Another thread is at it: only at start-up, and only for as long as one pass takes.
  while (g_startup_state.load(std::memory_order_acquire) != kStarted) sys::sched_yield();
}

}  // namespace

bool started_by_sealkit_run() {
  return g_startup_state.load(std::memory_order_acquire) == kStarted && g_audited;
}

namespace {

// The rest of the set-up waits for the program's first dlopen, dlmopen or
// dlclose (most programs make none): the real functions, the policy, the
// known-object table, the fork handlers.
void init_once() {
  run_startup_once();
  g_real.dlopen = reinterpret_cast<void* (*)(const char*, int)>(dlsym(RTLD_NEXT, "dlopen"));
  g_real.dlmopen = reinterpret_cast<void* (*)(Lmid_t, const char*, int)>(dlsym(RTLD_NEXT, "dlmopen"));
  g_real.dlclose = reinterpret_cast<int (*)(void*)>(dlsym(RTLD_NEXT, "dlclose"));
  ProcessInfo info;
  if (!g_settings_read) {
    // Under `sealkit run` the audit module has read the same settings and
    // warned about them already: one warning per problem and process.
    read_process_info(info, true);
    sealkit::rt::seccomp::set_supervisor_fd(info.supervisor_fd, true);
    g_config.load(info.secure, info.config_path, true);
    g_excluded = g_config.excludes_this_program();
  }
  // secure_getenv: in secure execution the environment is not ours to trust.
  // Only this object reads SEALKIT_DLOPEN, so it is the one to warn.
  g_policy = g_config.dlopen_policy(secure_getenv("SEALKIT_DLOPEN"), false);
  if (g_excluded) {
    g_policy = Policy::kOff;
    return;
  }
  use_config(g_config);
  // The audit module's backend. Machine-wide (no audit module) it is always
  // the kernel's: a filter would set no_new_privs in every process of the
  // machine.
  if (g_audited && audit_module_chose_seccomp(info.backend)) use_seccomp_backend();
  if (g_policy != Policy::kOff) {
    pthread_atfork(lock_for_fork, unlock_after_fork, unlock_after_fork);
    remember_startup_objects(g_startup_objects);
  }
}

void init() { pthread_once(&g_once, init_once); }

__attribute__((constructor)) void preload_constructor() { run_startup_once(); }

int effective_mode(int mode) {
  // promote: every object a dlopen returns is kept forever, then sealed.
  return g_policy == Policy::kPromote ? mode | RTLD_NODELETE : mode;
}

}  // namespace

const RealDl& real_dl() {
  init();
  return g_real;
}

}  // namespace sealkit::rt::preload

namespace sealkit::rt::preload {

// Both ask ld.so's counters before init(): most calls load nothing, and the
// set-up (under `sealkit run` it reads the configuration) must not make
// system calls that the call itself would not, where a seccomp filter the
// program installed since start-up may forbid them.
void seal_what_glibc_loaded() {
  if (!base_namespace_changed()) return;
  init();
  if (g_policy == Policy::kOff) return;
  const int saved = errno;
  seal_pass(g_policy, Opened{nullptr, false, t_depth > 0});
  errno = saved;
}

void seal_unwinder_before_use() {
  static std::atomic<bool> done{false};
  // The name glibc loads it by (LIBGCC_S_SO), found the same way: neither
  // libc.so.6 nor this object has a DT_RPATH or DT_RUNPATH.
  constexpr const char* kUnwinder = "libgcc_s.so.1";
  if (done.load(std::memory_order_acquire)) return;
  // Listed, and nothing loaded since the last pass: that pass decided about it.
  if (!base_namespace_changed() && base_namespace_lists(kUnwinder)) {
    done.store(true, std::memory_order_release);
    return;
  }
  init();
  if (g_policy == Policy::kOff || !g_real.dlopen) return;
  const int saved = errno;
  if (void* loaded = g_real.dlopen(kUnwinder, RTLD_LAZY | RTLD_NOLOAD)) {
    // At start-up (a C++ program: sealed then), or by glibc before this
    // object's wrappers were called (sealed by the pass, if that is new).
    g_real.dlclose(loaded);
    seal_what_glibc_loaded();
  } else if (void* h = g_real.dlopen(kUnwinder, RTLD_NOW | RTLD_NODELETE)) {
    seal_pass(g_policy, Opened{h, true, t_depth > 0, true});
  } else {
    dlerror();  // not installed: glibc's own load fails next and says so, as without sealkit
  }
  done.store(true, std::memory_order_release);
  errno = saved;
}

}  // namespace sealkit::rt::preload

using sealkit::rt::preload::Opened;
namespace pl = sealkit::rt::preload;

namespace sealkit::rt::preload {
namespace {

void* no_dlopen(const char*, int) { return nullptr; }
void* no_dlmopen(Lmid_t, const char*, int) { return nullptr; }

// Where the entry stub goes on: `sealed` (which calls libc's function and
// seals before returning) or, when glibc could not be shown the caller from
// inside the wrapper, libc's function itself.
const void* route(const char* file, const void* caller, const void* sealed, const void* real) {
  plan_call_as(nullptr);
  if (found_the_same_by_any_caller(file)) return sealed;
  if (const void* through = return_through(caller)) {
    plan_call_as(through);
    return sealed;
  }
  return real;  // sealed by the next pass
}

// The sealing wrappers: entered by a jump from the entry stubs, with the
// caller's arguments and return address, the mode already made effective.
void* sealed_dlopen(const char* file, int mode) {
  ++t_depth;
  void* h = reinterpret_cast<void*>(
      call_as_planned(reinterpret_cast<const void*>(g_real.dlopen), reinterpret_cast<long>(file), mode, 0));
  --t_depth;
  if (h) seal_pass(g_policy, Opened{h, (mode & RTLD_NODELETE) != 0, t_depth > 0, true});
  else explain_if_exec_stack(file);
  return h;
}

void* sealed_dlmopen(Lmid_t lmid, const char* file, int mode) {
  ++t_depth;
  void* h = reinterpret_cast<void*>(call_as_planned(reinterpret_cast<const void*>(g_real.dlmopen), lmid,
                                              reinterpret_cast<long>(file), mode));
  --t_depth;
  if (h) seal_pass(g_policy, Opened{h, (mode & RTLD_NODELETE) != 0, t_depth > 0});
  else explain_if_exec_stack(file);
  return h;
}

}  // namespace
}  // namespace sealkit::rt::preload

// The entry stubs' plans: `args` points at the caller's three argument
// words (saved registers on x86_64, the caller's own on i386), `caller` is
// the return address. Returns where the stub jumps to; the mode word may be
// rewritten (promote adds RTLD_NODELETE).
extern "C" __attribute__((visibility("hidden"))) const void* sealkit_route_dlopen(long* args, const void* caller) {
  pl::init();
  if (!pl::g_real.dlopen) return reinterpret_cast<const void*>(&pl::no_dlopen);
  const auto real = reinterpret_cast<const void*>(pl::g_real.dlopen);
  if (pl::g_policy == pl::Policy::kOff) return real;  // nothing to seal: libc's own, as called
  args[1] = pl::effective_mode(static_cast<int>(args[1]));
  return pl::route(reinterpret_cast<const char*>(args[0]), caller, reinterpret_cast<const void*>(&pl::sealed_dlopen),
                   real);
}

extern "C" __attribute__((visibility("hidden"))) const void* sealkit_route_dlmopen(long* args, const void* caller) {
  pl::init();
  if (!pl::g_real.dlmopen) return reinterpret_cast<const void*>(&pl::no_dlmopen);
  const auto real = reinterpret_cast<const void*>(pl::g_real.dlmopen);
  if (pl::g_policy == pl::Policy::kOff) return real;
  args[2] = pl::effective_mode(static_cast<int>(args[2]));
  return pl::route(reinterpret_cast<const char*>(args[1]), caller,
                   reinterpret_cast<const void*>(&pl::sealed_dlmopen), real);
}

// dlopen and dlmopen themselves (entry_stub.hpp).
asm(SEALKIT_ENTRY_STUB(dlopen, sealkit_route_dlopen) SEALKIT_ENTRY_STUB(dlmopen, sealkit_route_dlmopen));

extern "C" {

__attribute__((visibility("default"))) int dlclose(void* handle) {
  pl::init();
  if (!pl::g_real.dlclose) return -1;
  ++pl::t_depth;
  int rc = pl::g_real.dlclose(handle);
  --pl::t_depth;
  // A pass here seals what glibc loaded on its own since the last one.
  if (rc == 0) pl::seal_pass(pl::g_policy, Opened{nullptr, false, pl::t_depth > 0});
  return rc;
}

}  // extern "C"
