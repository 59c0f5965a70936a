// The runtime's entry points: ld.so's audit interface (rtld-audit(7)).
//
// Why an audit module: la_activity(LA_ACT_CONSISTENT) for the base namespace
// is the one moment when every start-up object is mapped, relocated and has
// its RELRO applied, and no constructor has run yet (glibc's rtld.c calls it
// just before _dl_init). An LD_PRELOAD constructor runs after the
// constructors of libraries the program loads first, too late.
//
// The module is loaded in a namespace of its own and links nothing: it must
// not bring a second libc into every process.
#include <elf.h>

#include "runtime/native_elf.hpp"
#include <link.h>

#include "runtime/config.hpp"
#include "runtime/log.hpp"
#include "runtime/process_info.hpp"
#include "runtime/sealer.hpp"
#include "runtime/seccomp/backend_choice.hpp"
#include "runtime/seccomp/install.hpp"
#include "runtime/seccomp/polyfill.hpp"

extern "C" const sealkit::rt::NativeEhdr __ehdr_start __attribute__((visibility("hidden")));

namespace {

using sealkit::rt::LoadedRef;

// Start-up objects, recorded by la_objopen. ld.so calls the audit interface
// from one thread at start-up.
constexpr std::size_t kMaxObjects = 4096;
LoadedRef g_objects[kMaxObjects];
std::size_t g_nobjects = 0;
std::size_t g_dropped = 0;
bool g_startup_done = false;

constexpr std::uintptr_t kBaseNamespaceCookie = 0x5ea1;  // marks the base namespace's link maps

sealkit::rt::Config g_config;


}  // namespace

extern "C" {

__attribute__((visibility("default"))) unsigned int la_version(unsigned int version) {
  // Any version from 1 works: only la_objopen and la_activity are used.
  return version < LAV_CURRENT ? version : LAV_CURRENT;
}

__attribute__((visibility("default"))) unsigned int la_objopen(struct link_map* map, Lmid_t lmid,
                                                               uintptr_t* cookie) {
  if (lmid == LM_ID_BASE) {
    *cookie = kBaseNamespaceCookie;
    if (!g_startup_done) {
      if (g_nobjects < kMaxObjects) {
        g_objects[g_nobjects++] = {map->l_addr, reinterpret_cast<std::uintptr_t>(map->l_ld),
                                   map->l_name ? map->l_name : ""};
      } else {
        ++g_dropped;
      }
    }
  }
  return 0;  // no symbol binding audit: it would slow every call through the PLT
}

__attribute__((visibility("default"))) void la_activity(uintptr_t* cookie, unsigned int flag) {
  if (flag != LA_ACT_CONSISTENT || g_startup_done || cookie == nullptr || *cookie != kBaseNamespaceCookie) return;
  g_startup_done = true;
  sealkit::rt::ProcessInfo info;
  sealkit::rt::read_process_info(info);
  sealkit::rt::seccomp::set_supervisor_fd(info.supervisor_fd);  // seals are registered under the exec supervisor
  sealkit::rt::SealStats stats;
  stats.config = sealkit::rt::describe(g_config.load(info.secure, info.config_path, false));
  stats.log_to_syslog = g_config.log_to_syslog();
  stats.timed = info.log_path[0] != '\0' || stats.log_to_syslog;
  if (g_config.excludes_this_program()) {
    stats.program_excluded = true;
    stats.objects_seen = g_nobjects + 1;
    sealkit::rt::report_startup(info, stats, g_dropped);
    return;
  }
  for (std::size_t i = 0; i < g_nobjects && g_config.object_patterns() != 0; ++i)
    g_objects[i].excluded = g_config.object_excluded(g_objects[i].name);
  bool invalid_backend = false;
  stats.seccomp = sealkit::rt::seccomp::choose_backend(info.backend, invalid_backend) ==
                  sealkit::rt::seccomp::Backend::kSeccomp;
  if (invalid_backend) sealkit::rt::warn("SEALKIT_BACKEND must be kernel, seccomp or auto; using auto");
  stats.harden_discard = g_config.harden_discard(info.harden_discard, false);
  // On this backend the handler comes first, whatever happens next: a filter
  // an earlier image installed (kept across execve) may trap syscall 462
  // already, and this image's own filter may fail to install (its budget
  // spent by a long exec chain); without the handler, the preload object's
  // probe or the program's own syscall(462) would then die of SIGSYS.
  if (stats.seccomp) stats.polyfill = sealkit::rt::seccomp::install_polyfill();
  sealkit::rt::seal_startup(g_objects, g_nobjects, reinterpret_cast<std::uintptr_t>(&__ehdr_start), stats);
  sealkit::rt::report_startup(info, stats, g_dropped);
}

}  // extern "C"
