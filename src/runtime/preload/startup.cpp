#include "runtime/preload/startup.hpp"

#include <dlfcn.h>
#include <elf.h>

#include "runtime/native_elf.hpp"
#include <link.h>  // declares _DYNAMIC, this object's own dynamic section
#include <stdlib.h>

#include <cstring>

#include "runtime/log.hpp"
#include "runtime/sealer.hpp"
#include "runtime/seccomp/polyfill.hpp"
#include "runtime/sys.hpp"

extern "C" const sealkit::rt::NativeEhdr __ehdr_start __attribute__((visibility("hidden")));


namespace sealkit::rt::preload {

namespace {

constexpr std::size_t kMaxObjects = 4096;  // as the audit module records
LoadedRef g_objects[kMaxObjects];

}  // namespace

bool audit_module_ran() {
  // A same-size mremap of a page is a no-op that the kernel refuses with
  // EPERM on a sealed VMA before anything else (src/backend/kernel.hpp).
  const auto page = reinterpret_cast<std::uintptr_t>(&__ehdr_start);
  if (sys::call(sys::kMremap, static_cast<long>(page), 4096, 4096, 0) == -1 /* EPERM */) return true;
  // Without mseal (a kernel before 6.10) nothing is sealed and the page cannot
  // tell. The audit module then ran, found no mseal and logged so, exactly
  // when LD_AUDIT names it: ld.so ignores LD_AUDIT in secure execution, and
  // secure_getenv does too. A second pass would only fail again.
  // The environment first: machine-wide, with no LD_AUDIT, that is all it
  // costs (the probe is one more system call in every process).
  const char* audit = secure_getenv("LD_AUDIT");
  if (audit == nullptr || std::strstr(audit, "libsealkit-runtime.so") == nullptr) return false;
  // On the seccomp backend the audit module put its SIGSYS handler in first;
  // asking with syscall 462 would only reach that handler (or, if this image's
  // audit module never ran, an earlier image's trap, which would kill).
  if (runtime_handles_sigsys()) return true;
  return sys::mseal(0, 0) == -38 /* ENOSYS */;
}

bool runtime_handles_sigsys() {
  const void* handler = seccomp::sigsys_handler_in_place();
  Dl_info di{};
  return handler != nullptr && dladdr(handler, &di) != 0 && di.dli_fname != nullptr &&
         std::strstr(di.dli_fname, "libsealkit-runtime.so") != nullptr;
}

void seal_startup_objects(const ProcessInfo& info, const Config& config, Config::Load load) {
  SealStats stats;
  stats.injected_as = "preload";
  stats.config = describe(load);
  // ld.so's list of the base namespace. At start-up nothing else changes it
  // (unless an earlier constructor started a thread that loads objects:
  // then an object appended meanwhile is left to the next dlopen's pass).
  std::size_t n = 0, dropped = 0;
  for (link_map* l = _r_debug.r_map; l != nullptr; l = l->l_next) {
    if (l->l_ld == _DYNAMIC) continue;  // this object: sealed as "self"
    if (n == kMaxObjects) {
      ++dropped;
      continue;
    }
    const char* name = l->l_name ? l->l_name : "";
    g_objects[n++] = {l->l_addr, reinterpret_cast<std::uintptr_t>(l->l_ld), name, config.object_excluded(name)};
  }
  seal_startup(g_objects, n, reinterpret_cast<std::uintptr_t>(&__ehdr_start), info.page_size, stats);
  report_startup(info, stats, dropped);
}

}  // namespace sealkit::rt::preload
