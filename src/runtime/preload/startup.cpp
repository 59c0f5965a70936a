#include "runtime/preload/startup.hpp"

#include <dlfcn.h>
#include <elf.h>

#include "runtime/native_elf.hpp"
#include <link.h>  // declares _DYNAMIC, this object's own dynamic section

#include <string_view>

#include "runtime/log.hpp"
#include "runtime/mseal_gate.hpp"
#include "runtime/sealer.hpp"
#include "runtime/seccomp/polyfill.hpp"
#include "runtime/sys.hpp"

extern "C" const sealkit::rt::NativeEhdr __ehdr_start __attribute__((visibility("hidden")));


namespace sealkit::rt::preload {

namespace {

constexpr std::size_t kMaxObjects = 4096;  // as the audit module records
constexpr std::size_t kOnStack = 64;
constexpr std::string_view kRuntimeName = "libsealkit-runtime.so";
LoadedRef g_objects[kMaxObjects];

}  // namespace

bool audit_module_ran(const ProcessInfo& info) {
  // ld.so loads the audit module only when LD_AUDIT names it, and ignores
  // LD_AUDIT in secure execution, where read_process_info reads no
  // environment. Machine-wide there is no LD_AUDIT: that is all it costs, no
  // system call. (Should a constructor that ran before this one have removed
  // LD_AUDIT, the start-up pass runs a second time: sealing twice succeeds,
  // and the log has a second line.)
  if (!info.ld_audit_names_runtime) return false;
  // The audit module seals this object with the rest. A same-size mremap of a
  // page is a no-op that the kernel refuses with EPERM on a sealed VMA before
  // anything else (src/backend/kernel.hpp).
  const auto page = reinterpret_cast<std::uintptr_t>(&__ehdr_start);
  if (sys::call(__NR_mremap, static_cast<long>(page), sys::kPage, sys::kPage, 0) == -EPERM) return true;
  // Without mseal (a kernel before 6.10) nothing is sealed and the page cannot
  // tell: the audit module then ran, found no mseal and logged so. A second
  // pass would only fail again.
  // On the seccomp backend the audit module put its SIGSYS handler in first;
  // asking with syscall 462 would only reach that handler (or, if this image's
  // audit module never ran, an earlier image's trap, which would kill).
  if (runtime_handles_sigsys()) return true;
  // A filter that would kill the process for mseal: nothing was sealed and
  // nothing can be (mseal_gate.hpp).
  if (!mseal_gate_open()) return true;
  return sys::mseal(0, 0) == -ENOSYS;
}

bool runtime_handles_sigsys() {
  const void* handler = seccomp::sigsys_handler_in_place();
  Dl_info di{};
  return handler != nullptr && dladdr(handler, &di) != 0 && di.dli_fname != nullptr &&
         std::string_view(di.dli_fname).find(kRuntimeName) != std::string_view::npos;
}

std::size_t seal_startup_objects(const ProcessInfo& info, const Config& config, Config::Load load) {
  SealStats stats;
  stats.injected_as = "preload";
  // The constructors of the libraries the program needs have run (ld.so
  // initialises them before this object): any of them may have changed an
  // object's protections.
  stats.look_at_protections = true;
  stats.config = describe(load);
  stats.log_to_syslog = config.log_to_syslog();
  stats.timed = info.log_path[0] != '\0' || stats.log_to_syslog;
  stats.harden_discard = config.harden_discard(info.harden_discard, false);
  // ld.so's list of the base namespace. At start-up nothing else changes it
  // (unless an earlier constructor started a thread that loads objects:
  // then an object appended meanwhile is left to the next dlopen's pass).
  std::size_t listed = 0;
  for (link_map* l = _r_debug.r_map; l != nullptr; l = l->l_next) ++listed;
  // Most processes' list fits on the stack, in pages ld.so has used already:
  // the static table's first page would be one more page fault in each.
  LoadedRef on_stack[kOnStack];
  LoadedRef* const objects = listed <= kOnStack ? on_stack : g_objects;
  const std::size_t capacity = listed <= kOnStack ? kOnStack : kMaxObjects;
  std::size_t n = 0, dropped = 0;
  for (link_map* l = _r_debug.r_map; l != nullptr; l = l->l_next) {
    if (l->l_ld == _DYNAMIC) continue;  // this object: sealed as "self"
    if (n == capacity) {
      ++dropped;
      continue;
    }
    const char* name = l->l_name ? l->l_name : "";
    objects[n++] = {l->l_addr, reinterpret_cast<std::uintptr_t>(l->l_ld), name, config.object_excluded(name), 0, 0};
  }
  // ld.so's copy of each object's program headers: the pass then reads no
  // header and makes no lookup to find one (sealer.cpp). dl_iterate_phdr lists
  // the namespace's objects in the same order as the link maps.
  struct Cursor {
    LoadedRef* objects;
    std::size_t n, next;
  } cursor{objects, n, 0};
  dl_iterate_phdr(
      [](dl_phdr_info* o, std::size_t, void* p) {
        auto* c = static_cast<Cursor*>(p);
        if (c->n == 0) return 1;
        for (std::size_t tried = 0; tried < c->n; ++tried, c->next = (c->next + 1) % c->n) {
          LoadedRef& r = c->objects[c->next];
          if (r.bias != o->dlpi_addr || r.phdr != 0) continue;
          r.phdr = reinterpret_cast<std::uintptr_t>(o->dlpi_phdr);
          r.phnum = o->dlpi_phnum;
          c->next = (c->next + 1) % c->n;
          break;
        }
        return 0;
      },
      &cursor);
  seal_startup(objects, n, reinterpret_cast<std::uintptr_t>(&__ehdr_start), stats);
  report_startup(info, stats, dropped);
  return listed;
}

void report_excluded_program(const ProcessInfo& info, const Config& config, Config::Load load, std::size_t objects) {
  SealStats stats;
  stats.injected_as = "preload";
  stats.config = describe(load);
  stats.log_to_syslog = config.log_to_syslog();
  stats.program_excluded = true;
  stats.objects_seen = objects;
  report_startup(info, stats, 0);
}

}  // namespace sealkit::rt::preload
