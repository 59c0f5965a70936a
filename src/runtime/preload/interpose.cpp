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
#include <pthread.h>
#include <signal.h>
#include <link.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <string_view>

#include "runtime/config.hpp"
#include "runtime/preload/exec_stack.hpp"
#include "runtime/preload/later_objects.hpp"
#include "runtime/preload/real_dl.hpp"
#include "runtime/preload/startup.hpp"
#include "runtime/process_info.hpp"
#include "runtime/seccomp/install.hpp"
#include "runtime/seccomp/sys.hpp"
#include "runtime/sys.hpp"
#include "runtime/text_out.hpp"

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
  // Quietly first: under `sealkit run` the audit module has warned already.
  ProcessInfo info;
  read_process_info(info, true);
  g_audited = audit_module_ran(info);
  if (g_audited) {
    g_startup_objects = count_startup_objects();
    return;
  }
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
    return;
  }
  g_startup_objects = seal_startup_objects(info, g_config, load);
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
    sealkit::rt::seccomp::set_supervisor_fd(info.supervisor_fd);
    g_config.load(info.secure, info.config_path, true);
    g_excluded = g_config.excludes_this_program();
  }
  if (g_config.has_policy()) g_policy = g_config.policy();
  // secure_getenv: in secure execution the environment is not ours to trust.
  if (const char* v = secure_getenv("SEALKIT_DLOPEN"); v != nullptr && *v != '\0') {
    if (!parse_policy(v, g_policy)) {
      TextOut o;
      o.str("SEALKIT_DLOPEN must be promote, nodelete or off; using ").str(name_of(g_policy));
      warn(o.view());
    }
  }
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

// ld.so resolves a bare name with the calling object's DT_RUNPATH, and
// "$ORIGIN" with its directory; behind this wrapper the caller it sees is
// the preload object. When a dlopen fails, try again the way the real
// caller would have: its own search list (dlinfo RTLD_DI_SERINFO), and its
// directory for $ORIGIN. Only a failure changes, never which object a
// successful dlopen returns.
void* retry_as_caller(const char* file, int mode, const void* caller, Lmid_t lmid, bool use_lmid) {
  Dl_info info;
  link_map* caller_map = nullptr;
  if (!dladdr1(caller, &info, reinterpret_cast<void**>(&caller_map), RTLD_DL_LINKMAP) || !caller_map) return nullptr;
  auto try_path = [&](const char* path) {
    return use_lmid ? g_real.dlmopen(lmid, path, mode) : g_real.dlopen(path, mode);
  };
  std::string_view name(file);
  char path[4096];
  constexpr std::string_view kOrigin = "$ORIGIN/";
  if (name.substr(0, kOrigin.size()) == kOrigin) {
    std::string_view dir(info.dli_fname ? info.dli_fname : "");
    std::size_t slash = dir.rfind('/');
    if (slash == std::string_view::npos) return nullptr;
    std::string_view rest = name.substr(kOrigin.size() - 1);
    if (slash + rest.size() + 1 > sizeof path) return nullptr;
    __builtin_memcpy(path, dir.data(), slash);
    __builtin_memcpy(path + slash, rest.data(), rest.size());
    path[slash + rest.size()] = '\0';
    return try_path(path);
  }
  if (name.find('/') != std::string_view::npos) return nullptr;
  alignas(Dl_serinfo) char buf[16384];
  auto* si = reinterpret_cast<Dl_serinfo*>(buf);
  if (dlinfo(caller_map, RTLD_DI_SERINFOSIZE, si) != 0 || si->dls_size > sizeof buf) return nullptr;
  if (dlinfo(caller_map, RTLD_DI_SERINFO, si) != 0) return nullptr;
  // dls_serpath is a trailing array declared with one element.
  const auto* serpath = reinterpret_cast<const Dl_serpath*>(buf + offsetof(Dl_serinfo, dls_serpath));
  for (unsigned i = 0; i < si->dls_cnt; ++i) {
    std::string_view dir(serpath[i].dls_name);
    if (dir.empty() || dir.size() + name.size() + 2 > sizeof path) continue;
    __builtin_memcpy(path, dir.data(), dir.size());
    path[dir.size()] = '/';
    __builtin_memcpy(path + dir.size() + 1, name.data(), name.size());
    path[dir.size() + 1 + name.size()] = '\0';
    if (!sys::exists(path)) continue;
    if (void* h = try_path(path)) return h;
  }
  return nullptr;
}

// The caller's own dlopen failed both ways: leave the first attempt's error
// in dlerror(), as the caller would have seen it without the wrapper.
void* open_as_caller(const char* file, int mode, const void* caller, Lmid_t lmid, bool use_lmid) {
  void* h = use_lmid ? g_real.dlmopen(lmid, file, mode) : g_real.dlopen(file, mode);
  if (h || file == nullptr) return h;
  h = retry_as_caller(file, mode, caller, lmid, use_lmid);
  if (!h) (void)(use_lmid ? g_real.dlmopen(lmid, file, mode) : g_real.dlopen(file, mode));
  return h;
}

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

using sealkit::rt::preload::Opened;
namespace pl = sealkit::rt::preload;

extern "C" {

__attribute__((visibility("default"))) void* dlopen(const char* file, int mode) {
  pl::init();
  if (!pl::g_real.dlopen) return nullptr;
  const int m = pl::effective_mode(mode);
  ++pl::t_depth;
  void* h = pl::open_as_caller(file, m, __builtin_return_address(0), LM_ID_BASE, false);
  --pl::t_depth;
  if (h) pl::seal_pass(pl::g_policy, Opened{h, (m & RTLD_NODELETE) != 0, pl::t_depth > 0, true});
  else pl::explain_if_exec_stack(file);
  return h;
}

__attribute__((visibility("default"))) void* dlmopen(Lmid_t lmid, const char* file, int mode) {
  pl::init();
  if (!pl::g_real.dlmopen) return nullptr;
  const int m = pl::effective_mode(mode);
  ++pl::t_depth;
  void* h = pl::open_as_caller(file, m, __builtin_return_address(0), lmid, true);
  --pl::t_depth;
  if (h) pl::seal_pass(pl::g_policy, Opened{h, (m & RTLD_NODELETE) != 0, pl::t_depth > 0});
  else pl::explain_if_exec_stack(file);
  return h;
}

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
