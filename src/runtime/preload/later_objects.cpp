#include "runtime/preload/later_objects.hpp"

#include <elf.h>
#include <link.h>
#include <pthread.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "runtime/elf_image.hpp"
#include "runtime/log.hpp"
#include "runtime/maps_snapshot.hpp"
#include "runtime/mseal_gate.hpp"
#include "runtime/mutable_sections.hpp"
#include "runtime/preload/dynamic_info.hpp"
#include "runtime/preload/grow_table.hpp"
#include "runtime/preload/real_dl.hpp"
#include "runtime/process_info.hpp"
#include "runtime/seal_object.hpp"
#include "runtime/seccomp/collector.hpp"
#include "runtime/sys.hpp"

// A pass costs what a dlopen of a small library costs the program, so it reads
// no /proc text in the usual case (docs/benchmarks.md, "Runtime"): everything
// about an object is read inside dl_iterate_phdr (its program headers, which
// dl_iterate_phdr hands out, and its dynamic section), where ld.so's lock keeps
// every listed object mapped; its runs are planned from the headers
// (image_plan.hpp), with PROCMAP_QUERY only for objects whose segments leave
// gaps; /proc/self/maps is read only when that fails.
namespace sealkit::rt::preload {

namespace {

// Every object of every namespace a pass has looked at, and whether it is
// sealed. Guarded by g_mu, which is never held across a call into ld.so
// that takes its load lock (dlopen, dlclose): a constructor running under
// that lock may call dlopen, and so reach this file, on another thread.
struct Known {
  Lmid_t lmid;
  std::uintptr_t bias, dynamic;
  bool sealed;
  bool decided;  // the policy has looked at it (false: seen only by a nested pass)
};
// Room for this many objects in .bss; more (a process may load thousands of
// plugins) in memory of their own (grow_table.hpp).
constexpr std::size_t kInlineObjects = 4096;
GrowTable<Known, kInlineObjects> g_known;
std::size_t g_nknown = 0;
pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
// ld.so's load and unload counters at the last pass. Atomic: read without
// g_mu by base_namespace_changed().
std::atomic<unsigned long long> g_seen_adds{0}, g_seen_subs{0};
const Config* g_config = nullptr;
// SEALKIT_LOG, for a pass whose look at protections found something. In .bss
// and written only when set: most processes never touch its page.
char g_log_path[sizeof ProcessInfo::log_path];

bool excluded(std::string_view name) { return g_config != nullptr && g_config->object_excluded(name); }

// What a pass learns about an object not sealed yet, copied out of the
// object's memory while ld.so's lock holds it mapped.
struct Info {
  ElfImage img;
  bool image_ok = false;
  bool df_nodelete = false;
  std::size_t soname_off = 0;  // into g_names; kNoName when there is none
  std::size_t needed_first = 0, nneeded = 0;  // into g_needed
};
constexpr std::size_t kNoName = ~std::size_t{0};
constexpr std::size_t kNoInfo = ~std::size_t{0};
constexpr std::size_t kMaxInfo = 256;  // new objects per pass; more go the maps way
Info g_info[kMaxInfo];
std::size_t g_ninfo = 0;
GrowTable<std::size_t, 8192> g_needed;
std::size_t g_nneeded = 0;

// One namespace's objects as a pass sees them.
struct Current {
  std::uintptr_t bias, dynamic;
  std::size_t name_off;
  std::size_t info;  // into g_info, or kNoInfo
  bool known, sealed, want, decided;
  bool trusted;  // in the dependency closure of the handle a successful never-unloaded dlopen returned
};
GrowTable<Current, kInlineObjects> g_cur;
std::size_t g_ncur = 0;
GrowTable<char, (1 << 18)> g_names;
std::size_t g_names_used = 0;

Known* find_known(Lmid_t lmid, std::uintptr_t bias, std::uintptr_t dynamic) {
  for (std::size_t i = 0; i < g_nknown; ++i)
    if (g_known[i].lmid == lmid && g_known[i].bias == bias && g_known[i].dynamic == dynamic) return &g_known[i];
  return nullptr;
}

// When a table cannot grow (no memory), the objects it has no room for are
// left unsealed: said once, never silently.
bool g_said_full = false;
void say_tables_full() {
  if (g_said_full) return;
  g_said_full = true;
  warn("no memory for the table of loaded objects; objects loaded from now on may be left unsealed");
}

// Copies s into g_names; kNoName when no memory can be had for it.
std::size_t keep_name(std::string_view s) {
  if (!g_names.reserve(g_names_used + s.size() + 1, g_names_used)) {
    say_tables_full();
    return kNoName;
  }
  std::memcpy(g_names.data() + g_names_used, s.data(), s.size());
  g_names[g_names_used + s.size()] = '\0';
  const std::size_t off = g_names_used;
  g_names_used += s.size() + 1;
  return off;
}

std::string_view name_at(std::size_t off) { return off == kNoName ? std::string_view() : g_names.data() + off; }
std::string_view name_of(const Current& c) { return name_at(c.name_off); }

struct Walk {
  link_map* start;  // any object of the namespace; null: the base namespace, or `ns`
  Lmid_t lmid;      // kLmidUnknown with `ns`: found from its first object
  unsigned long long adds, subs;
  bool collect;
  bool listed;       // the namespace's list has been copied into g_cur
  std::size_t pending;  // g_cur entries still waiting for their program headers
  bool read_objects = true;  // false: the list only
  // Another namespace, as ld.so lists it for debuggers: its first object is
  // read under ld.so's lock, for a namespace may be emptied meanwhile.
  const r_debug_extended* ns = nullptr;
  Lmid_t skip = 0;  // with `ns`: the namespace the pass has walked already
};
constexpr Lmid_t kLmidUnknown = -1;

// The g_cur indices of the entries waiting for their headers.
GrowTable<std::size_t, kInlineObjects> g_pending;

// The namespace's list, from ld.so's link maps (dl_iterate_phdr does not say
// which namespace an object is in).
void list_namespace(Walk& w) {
  link_map* l = w.start ? w.start : w.ns ? w.ns->base.r_map : _r_debug.r_map;
  while (l && l->l_prev) l = l->l_prev;
  g_ncur = g_ninfo = g_nneeded = g_names_used = 0;
  w.pending = 0;
  if (w.lmid == kLmidUnknown && (l == nullptr || dlinfo(l, RTLD_DI_LMID, &w.lmid) != 0)) return;  // emptied
  // g_known holds the namespace's objects in list order (replace_known), so
  // the next one is almost always at the cursor: O(n) rather than O(n^2).
  std::size_t cursor = 0;
  for (; l; l = l->l_next) {
    if (!g_cur.reserve(g_ncur + 1, g_ncur) || !g_pending.reserve(g_ncur + 1, w.pending)) {
      say_tables_full();
      break;
    }
    Current c{l->l_addr, reinterpret_cast<std::uintptr_t>(l->l_ld), kNoName, kNoInfo, false, false, false, false, false};
    const Known* k = nullptr;
    if (cursor < g_nknown && g_known[cursor].lmid == w.lmid && g_known[cursor].bias == c.bias &&
        g_known[cursor].dynamic == c.dynamic) {
      k = &g_known[cursor++];
    } else if ((k = find_known(w.lmid, c.bias, c.dynamic)) != nullptr) {
      cursor = static_cast<std::size_t>(k - g_known.data()) + 1;
    }
    if (k) {
      c.known = true;
      c.sealed = k->sealed;
      c.decided = k->decided;
    }
    // A sealed object's name is never needed again.
    if (!c.sealed) {
      c.name_off = keep_name(l->l_name ? l->l_name : "");
      if (c.name_off == kNoName) break;
      if (!name_of(c).empty()) g_pending[w.pending++] = g_ncur;
    }
    g_cur[g_ncur++] = c;
  }
}

// One object as dl_iterate_phdr reports it: if it is a g_cur entry that is not
// sealed yet, read what the pass needs from its headers and dynamic section.
void learn(const dl_phdr_info& o, const std::size_t* pending, std::size_t npending) {
  // Most objects reported are sealed already: compare the load address with
  // the few waiting entries before reading anything.
  Current* c = nullptr;
  for (std::size_t k = 0; k < npending && c == nullptr; ++k)
    if (g_cur[pending[k]].bias == o.dlpi_addr && g_cur[pending[k]].info == kNoInfo) c = &g_cur[pending[k]];
  if (c == nullptr || g_ninfo == kMaxInfo) return;
  const auto* ph = o.dlpi_phdr;
  std::uintptr_t dynamic = 0;
  for (unsigned i = 0; i < o.dlpi_phnum; ++i)
    if (ph[i].p_type == PT_DYNAMIC) dynamic = o.dlpi_addr + ph[i].p_vaddr;
  if (c->dynamic != dynamic) {
    // Another object at the same load address (an object of another
    // namespace can share one only if unmapped meanwhile): look at them all.
    c = nullptr;
    for (std::size_t k = 0; k < npending && c == nullptr; ++k)
      if (g_cur[pending[k]].bias == o.dlpi_addr && g_cur[pending[k]].dynamic == dynamic &&
          g_cur[pending[k]].info == kNoInfo)
        c = &g_cur[pending[k]];
    if (c == nullptr) return;
  }
  Info& in = g_info[g_ninfo];
  in.image_ok = read_image(ImageSource::phdrs(o.dlpi_addr, reinterpret_cast<std::uintptr_t>(ph), o.dlpi_phnum),
                          in.img) == ImageError::kNone;
  if (in.image_ok) add_mutable_sections(o.dlpi_name, in.img);
  ReadableRanges readable;
  for (unsigned i = 0; i < o.dlpi_phnum && readable.n < ReadableRanges::kMax; ++i)
    if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_R) != 0 && ph[i].p_filesz != 0)
      readable.r[readable.n++] = {o.dlpi_addr + ph[i].p_vaddr, o.dlpi_addr + ph[i].p_vaddr + ph[i].p_filesz};
  const DynamicInfo di = read_dynamic(c->bias, c->dynamic, readable);
  in.df_nodelete = di.nodelete;
  in.soname_off = di.soname.empty() ? kNoName : keep_name(di.soname);
  in.needed_first = g_nneeded;
  in.nneeded = 0;
  for (std::size_t k = 0; k < di.nneeded; ++k) {
    if (!g_needed.reserve(g_nneeded + 1, g_nneeded)) {
      say_tables_full();
      break;
    }
    const std::size_t off = keep_name(di.needed[k]);
    if (off == kNoName) break;
    g_needed[g_nneeded++] = off;
    ++in.nneeded;
  }
  c->info = g_ninfo++;
}

// Runs inside dl_iterate_phdr, which holds ld.so's list lock: objects are
// unlinked from their namespace list under that lock before they are
// unmapped, so every object reached here stays mapped until we return.
int walk_cb(dl_phdr_info* info, std::size_t, void* p) {
  auto* w = static_cast<Walk*>(p);
  if (!w->listed) {
    w->adds = info->dlpi_adds;
    w->subs = info->dlpi_subs;
    if (!w->collect) return 1;
    list_namespace(*w);
    w->listed = true;
  }
  if (w->pending == 0 || !w->read_objects) return 1;
  const std::size_t before = g_ninfo;
  learn(*info, g_pending.data(), w->pending);
  if (g_ninfo != before) {
    // Done with that entry: drop it from the waiting list.
    for (std::size_t k = 0; k < w->pending; ++k) {
      if (g_cur[g_pending[k]].info == g_ninfo - 1) {
        g_pending[k] = g_pending[--w->pending];
        break;
      }
    }
  }
  return w->pending == 0 ? 1 : 0;
}

// g_known's entries for `lmid` become g_cur (objects gone are forgotten, so
// a new object at a reused address is not mistaken for an old one).
void replace_known(Lmid_t lmid) {
  std::size_t out = 0;
  for (std::size_t i = 0; i < g_nknown; ++i)
    if (g_known[i].lmid != lmid) g_known[out++] = g_known[i];
  g_nknown = out;
  if (!g_known.reserve(g_nknown + g_ncur, g_nknown)) say_tables_full();
  for (std::size_t i = 0; i < g_ncur && g_nknown < g_known.capacity(); ++i)
    g_known[g_nknown++] = {lmid, g_cur[i].bias, g_cur[i].dynamic, g_cur[i].sealed, g_cur[i].decided};
}

// The unsealed g_cur entries that a DT_NEEDED name of `from` names (sealed
// ones need nothing more, and are most of a process: skipping them keeps a
// pass's cost independent of how many objects are loaded).
template <class Fn>
void for_each_needed(const Current& from, Fn&& fn) {
  if (from.info == kNoInfo) return;
  const Info& in = g_info[from.info];
  for (std::size_t k = 0; k < in.nneeded; ++k) {
    const std::string_view needed = name_at(g_needed[in.needed_first + k]);
    for (std::size_t j = 0; j < g_ncur; ++j) {
      Current& d = g_cur[j];
      if (d.sealed) continue;
      const std::string_view soname = d.info == kNoInfo ? std::string_view() : name_at(g_info[d.info].soname_off);
      if (needed_names(needed, name_of(d), soname)) fn(d);
    }
  }
}

// Marks every unsealed object that a wanted object needs (DT_NEEDED) as
// wanted too: the loader never unloads a dependency of a kept object. (A
// dependency is initialised before the object that needs it, so this never
// reaches an object whose constructors have not run.)
void add_dependencies() {
  for (bool changed = true; changed;) {
    changed = false;
    for (std::size_t i = 0; i < g_ncur; ++i) {
      if (!g_cur[i].want) continue;
      for_each_needed(g_cur[i], [&](Current& d) {
        if (d.want || d.sealed || excluded(name_of(d))) return;
        d.want = d.decided = true;
        changed = true;
      });
    }
  }
}

// The handle's object and everything it needs, transitively: when the
// dlopen that returned it asked for RTLD_NODELETE and succeeded, they are all
// relocated, initialised and never unloaded, and need no confirmation.
void mark_trusted(Current& head) {
  head.trusted = true;
  for (bool changed = true; changed;) {
    changed = false;
    for (std::size_t i = 0; i < g_ncur; ++i) {
      if (!g_cur[i].trusted) continue;
      for_each_needed(g_cur[i], [&](Current& d) {
        if (!d.trusted) d.trusted = changed = true;
      });
    }
  }
}

struct Want {
  std::uintptr_t bias, dynamic;
  bool confirmed;
  bool has_image;  // img holds the object's headers (copied: g_info is reused once g_mu is released)
  ElfImage img;
  std::size_t name_off;  // into the pass's own copy of the names (untrusted objects only)
};

// The seccomp backend (use_seccomp_backend): each pass gathers its objects'
// runs into one new filter with only them (runtime/seccomp/). Filters add up
// against the kernel's 32768-instruction budget; once one does not fit, later
// objects are left unsealed, said once, and the program goes on.
bool g_seccomp = false;
bool g_budget_spent = false;  // under g_mu
bool g_sharer_warned = false;  // under g_mu

// Seals one confirmed object: from its headers when they were read, else (or
// when that plan fails) from the maps text, read once per pass
// (seal_object.hpp). On the seccomp backend "sealing" gathers, and finish()
// installs the pass's filter. Every part's protection is looked at before its
// seal (prot_guard.hpp): the object's constructors, other threads, and for
// glibc's own loads the program itself, have run since it was mapped.
class Sealer {
 public:
  void seal(const Want& w) {
    if (g_seccomp && g_budget_spent) return;
    if (w.has_image && seal_from_image(w.img)) return;
    const MapsSnapshot* maps = maps_text();
    if (maps == nullptr) return;
    ElfImage img;
    if (read_image(ImageSource::loaded(*maps, w.bias, w.dynamic), img) != ImageError::kNone) return;
    if (w.has_image) {
      // The same object: the mutable sections found with its headers hold.
      img.nmut = w.img.nmut;
      for (std::size_t k = 0; k < img.nmut; ++k) img.keep_mutable[k] = w.img.keep_mutable[k];
    }
    const ProtCheck check{true, maps, -1};
    seal_from_maps(*maps, img, check, prot_, [this](core::Range part) { return seal_run(part) == 0; });
  }

  // The seccomp backend's one filter for the pass, and the log line when the
  // look at protections found something. Under g_mu.
  void finish() {
    report_later(g_log_path, prot_);
    if (!g_seccomp || collector_.size() == 0 || g_budget_spent) return;
    const seccomp::FilterResult r = collector_.install(false);
    if (r.error == EBUSY) {
      if (!g_sharer_warned) {
        g_sharer_warned = true;
        warn("objects loaded while another task shares this address space outside the thread group (clone with "
             "CLONE_VM, no CLONE_THREAD) are not sealed: a seccomp filter cannot bind that task (docs/seccomp.md)");
      }
      return;
    }
    if (r.error != ENOMEM /* the budget (or a filter too large) */) return;
    g_budget_spent = true;
    warn("the seccomp filter budget (32768 instructions per thread) is spent; objects loaded from now on are "
         "not sealed (docs/runtime.md)");
  }

 private:
  // Runs are collected first, so that an incomplete plan seals nothing (but
  // parts whose protection had to be lowered, sealed at once). The
  // protections come from the maps text the seccomp backend reads anyway,
  // else from PROCMAP_QUERY, which an object with gaps needs to be planned at all.
  bool seal_from_image(const ElfImage& img) {
    const MapsSnapshot* text = nullptr;
    if (g_seccomp) {
      begin_collector();
      if (collector_.ready()) text = &collector_.maps();
    }
    core::Range runs[64];
    std::size_t n = 0;
    const ProtCheck check{true, text, -1};
    const bool planned = plan_from_headers(
        query_, img, check, prot_,
        [&](core::Range part) {
          if (n == 64) return false;
          runs[n++] = part;
          return true;
        },
        [this](core::Range part) { return seal_run(part) == 0; });
    if (!planned) return false;
    // ENOMEM: a page of the segments is not mapped after all (the plan
    // without gaps assumes it is). The maps path then plans the object again;
    // sealing a run twice is harmless.
    for (std::size_t i = 0; i < n; ++i)
      if (seal_run(runs[i]) != 0) return false;
    return true;
  }

  long seal_run(core::Range r) {
    if (g_seccomp) begin_collector();
    return target_.seal(r);
  }

  void begin_collector() {
    if (collector_begun_) return;
    collector_begun_ = true;  // one read of the maps per pass, even when it fails
    collector_.begin();
  }

  // The maps text, read once per pass: on the seccomp backend the collector's
  // own reading (it checks every run against it), else this pass's. nullptr
  // when /proc/self/maps could not be read.
  const MapsSnapshot* maps_text() {
    if (g_seccomp) {
      begin_collector();
      return collector_.ready() ? &collector_.maps() : nullptr;
    }
    if (!maps_loaded_) {
      maps_loaded_ = true;
      maps_ok_ = maps_.load();
    }
    return maps_ok_ ? &maps_ : nullptr;
  }

  MapsSnapshot maps_;
  seccomp::Collector collector_;
  SealTarget target_{g_seccomp ? &collector_ : nullptr};
  bool collector_begun_ = false;
  bool maps_loaded_ = false, maps_ok_ = false;
  LazyQuery query_;
  ProtStats prot_;
};

// The fast path of a pass (see seal_pass): the handle's object alone, from
// the program headers ld.so keeps for it (dlinfo RTLD_DI_PHDR, glibc 2.36).
// Under g_mu; false when it cannot be done that way.
bool seal_alone(void* handle, link_map* head) {
  const char* name = head->l_name;
  if (name == nullptr || name[0] == '\0' || !g_known.reserve(g_nknown + 1, g_nknown)) return false;
  bool sealed = false;
  if (!excluded(name)) {
    const ElfW(Phdr)* ph = nullptr;
    const int n = dlinfo(handle, RTLD_DI_PHDR, &ph);
    Want w;
    w.bias = head->l_addr;
    w.dynamic = reinterpret_cast<std::uintptr_t>(head->l_ld);
    w.confirmed = true;
    w.name_off = kNoName;
    if (n <= 0 || ph == nullptr ||
        read_image(ImageSource::phdrs(w.bias, reinterpret_cast<std::uintptr_t>(ph), static_cast<std::size_t>(n)),
                   w.img) != ImageError::kNone ||
        w.img.dynamic != w.dynamic)
      return false;
    w.has_image = true;
    add_mutable_sections(name, w.img);
    Sealer sealer;
    sealer.seal(w);
    sealer.finish();
    sealed = true;
  }
  g_known[g_nknown++] = {LM_ID_BASE, head->l_addr, reinterpret_cast<std::uintptr_t>(head->l_ld), sealed, true};
  return true;
}

}  // namespace

void use_config(const Config& config) { g_config = &config; }

void log_later_passes_to(const char* log_path) {
  if (log_path[0] == '\0') return;
  std::size_t n = 0;
  for (; n + 1 < sizeof g_log_path && log_path[n] != '\0'; ++n) g_log_path[n] = log_path[n];
  g_log_path[n] = '\0';
}

void use_seccomp_backend() { g_seccomp = true; }

void lock_for_fork() { pthread_mutex_lock(&g_mu); }
void unlock_after_fork() { pthread_mutex_unlock(&g_mu); }

std::size_t count_startup_objects() {
  std::size_t n = 0;
  dl_iterate_phdr(
      [](dl_phdr_info*, std::size_t, void* p) {
        for (link_map* l = _r_debug.r_map; l != nullptr; l = l->l_next) ++*static_cast<std::size_t*>(p);
        return 1;
      },
      &n);
  return n;
}

void remember_startup_objects(std::size_t startup) {
  pthread_mutex_lock(&g_mu);
  Walk w{nullptr, LM_ID_BASE, 0, 0, true, false, 0, false};
  dl_iterate_phdr(walk_cb, &w);
  const std::size_t n = startup == 0 || startup > g_ncur ? g_ncur : startup;
  for (std::size_t i = 0; i < n; ++i) g_cur[i].sealed = g_cur[i].decided = true;  // the start-up pass's job
  replace_known(LM_ID_BASE);
  g_seen_adds = w.adds;
  g_seen_subs = w.subs;
  // Objects glibc loaded since the count (NSS, gconv) are left to the next
  // pass, which must then not take the counters as "nothing changed".
  if (n < g_ncur) g_seen_adds = ~0ull;
  pthread_mutex_unlock(&g_mu);
}

namespace {
// ld.so's list of namespaces (r_version 2, glibc 2.35), the base one first:
// what the program's DT_DEBUG entry points to, as <link.h> says to find it.
const r_debug_extended* namespaces() {
  const link_map* program = _r_debug.r_map;
  if (program == nullptr || program->l_ld == nullptr) return nullptr;
  for (const ElfW(Dyn)* d = program->l_ld; d->d_tag != DT_NULL; ++d)
    if (d->d_tag == DT_DEBUG) return reinterpret_cast<const r_debug_extended*>(d->d_un.d_ptr);
  return nullptr;
}

// The namespaces ld.so lists when start-up ends: the audit modules' (LD_AUDIT,
// `sealkit run`'s own among them), which glibc sealed nothing of ours in and
// which a pass leaves alone. glibc 2.36's dlmopen into an audit namespace
// fails with ld.so's load lock still taken (its check signals the error
// before the unlock), and every later dlopen or dlsym of another thread
// then waits forever. Their r_debug entries live as long as ld.so.
constexpr std::size_t kMaxStartupNamespaces = 16;
const r_debug_extended* g_startup_ns[kMaxStartupNamespaces];
std::size_t g_nstartup_ns = 0;
bool g_startup_ns_overflow = false;

bool listed_at_startup(const r_debug_extended* ns) {
  for (std::size_t i = 0; i < g_nstartup_ns; ++i)
    if (g_startup_ns[i] == ns) return true;
  return false;
}

// The pass over one namespace (w says which), from the walk to the seals.
// Entered with g_mu held; returns with it released.
void seal_namespace(Policy policy, const Opened& opened, link_map* head, Walk& w);

// The handle's object and namespace; null and the base namespace when there
// is no handle or dlinfo cannot say.
void handle_object(const Opened& opened, link_map*& head, Lmid_t& lmid) {
  head = nullptr;
  lmid = LM_ID_BASE;
  if (!opened.handle) return;
  if (dlinfo(opened.handle, RTLD_DI_LINKMAP, &head) != 0 ||
      (!opened.base_namespace && dlinfo(opened.handle, RTLD_DI_LMID, &lmid) != 0)) {
    head = nullptr;
    lmid = LM_ID_BASE;
  }
}

// Under g_mu. Whether the pass has nothing to do: nothing of the handle to
// seal, and ld.so's load and unload counters say glibc loaded nothing in the
// base namespace since the last pass.
bool nothing_new(Lmid_t lmid, bool head_pending) {
  if (head_pending) return false;
  Walk probe{nullptr, lmid, 0, 0, false, false, 0};
  dl_iterate_phdr(walk_cb, &probe);
  const bool base_changed = probe.adds != g_seen_adds || probe.subs != g_seen_subs;
  return !(lmid == LM_ID_BASE && base_changed);
}

// Under g_mu. The usual dlopen of one library: the caller's call (promote
// made it RTLD_NODELETE) loaded exactly one object, the handle's own, and
// nothing was unloaded since the last pass. Nothing else can be new, so the
// namespace need not be walked: the object is relocated, initialised and
// kept forever, and is sealed from its own program headers. True when done.
bool sealed_the_one_new_object(const Opened& opened, link_map* head) {
  Walk probe{nullptr, LM_ID_BASE, 0, 0, false, false, 0};
  dl_iterate_phdr(walk_cb, &probe);
  if (probe.adds != g_seen_adds + 1 || probe.subs != g_seen_subs || !seal_alone(opened.handle, head)) return false;
  g_seen_adds = probe.adds;
  return true;
}

// Objects the code of another namespace loaded through that namespace's own
// libc, which no wrapper of this object's sees: after the namespace the pass
// was for (`done`), every other one but the audit modules'.
void seal_other_namespaces(Policy policy, Lmid_t done) {
  const r_debug_extended* base = namespaces();
  if (g_startup_ns_overflow) return;
  for (const r_debug_extended* ns = base ? base->r_next : nullptr; ns != nullptr; ns = ns->r_next) {
    if (listed_at_startup(ns)) continue;
    pthread_mutex_lock(&g_mu);
    Walk other{nullptr, kLmidUnknown, 0, 0, true, false, 0};
    other.ns = ns;
    other.skip = done;
    seal_namespace(policy, Opened{}, nullptr, other);
  }
}
}  // namespace

bool base_namespace_changed() {
  Walk probe{nullptr, LM_ID_BASE, 0, 0, false, false, 0};
  dl_iterate_phdr(walk_cb, &probe);
  return probe.adds != g_seen_adds.load(std::memory_order_relaxed) ||
         probe.subs != g_seen_subs.load(std::memory_order_relaxed);
}

void remember_startup_counters() {
  Walk probe{nullptr, LM_ID_BASE, 0, 0, false, false, 0};
  dl_iterate_phdr(walk_cb, &probe);
  g_seen_adds.store(probe.adds, std::memory_order_relaxed);
  g_seen_subs.store(probe.subs, std::memory_order_relaxed);
  if (_r_debug.r_version < 2) return;
  const r_debug_extended* base = namespaces();
  for (const r_debug_extended* ns = base ? base->r_next : nullptr; ns != nullptr; ns = ns->r_next) {
    if (g_nstartup_ns == kMaxStartupNamespaces) {
      g_startup_ns_overflow = true;  // more audit modules than this: no namespace is walked
      break;
    }
    g_startup_ns[g_nstartup_ns++] = ns;
  }
}

bool base_namespace_lists(const char* file) {
  struct Ask {
    const char* file;
    bool found;
  } ask{file, false};
  // Inside dl_iterate_phdr: ld.so's lock keeps the list and its names still.
  dl_iterate_phdr(
      [](dl_phdr_info*, std::size_t, void* p) {
        auto* a = static_cast<Ask*>(p);
        for (const link_map* l = _r_debug.r_map; l != nullptr && !a->found; l = l->l_next) {
          if (l->l_name == nullptr) continue;
          const char* last = std::strrchr(l->l_name, '/');
          a->found = std::strcmp(last ? last + 1 : l->l_name, a->file) == 0;
        }
        return 1;
      },
      &ask);
  return ask.found;
}

void seal_pass(Policy policy, const Opened& opened) {
  if (policy == Policy::kOff) return;
  link_map* head;
  Lmid_t lmid;
  handle_object(opened, head, lmid);

  pthread_mutex_lock(&g_mu);
  bool head_pending = false;
  bool head_known = false;
  if (head && opened.nodelete) {
    const Known* k = find_known(lmid, head->l_addr, reinterpret_cast<std::uintptr_t>(head->l_ld));
    head_pending = !k || !k->sealed;
    head_known = k != nullptr;
  }
  if (nothing_new(lmid, head_pending)) {
    pthread_mutex_unlock(&g_mu);
    return;
  }
  // A filter the program installed since the last pass may kill mseal.
  if (!g_seccomp) mseal_gate_open();
  if (head_pending && !head_known && policy == Policy::kPromote && lmid == LM_ID_BASE && !opened.nested &&
      sealed_the_one_new_object(opened, head)) {
    pthread_mutex_unlock(&g_mu);
    return;
  }

  Walk w{lmid == LM_ID_BASE ? nullptr : head, lmid, 0, 0, true, false, 0};
  seal_namespace(policy, opened, head, w);
  // Only when ld.so lists its namespaces (r_version 2) can the others be found.
  if (opened.nested || _r_debug.r_version < 2) return;
  seal_other_namespaces(policy, lmid);
}

namespace {

// Under g_mu, after the walk: which of the namespace's unsealed objects the
// policy wants sealed, their dependencies included. The handle's own object
// is decided now; any other, the first time a pass that is not nested sees it.
std::size_t decide_wanted(Policy policy, const Opened& opened, link_map* head) {
  for (std::size_t i = 0; i < g_ncur; ++i) {
    Current& c = g_cur[i];
    if (c.sealed || name_of(c).empty()) continue;  // the program itself (l_name "") is a start-up object
    if (excluded(name_of(c))) {
      c.want = false;
      c.decided = true;
      continue;
    }
    const bool df_nodelete = c.info != kNoInfo && g_info[c.info].df_nodelete;
    const bool is_head = head && c.bias == head->l_addr && c.dynamic == reinterpret_cast<std::uintptr_t>(head->l_ld);
    if (is_head) {
      c.want = opened.nodelete || policy == Policy::kPromote || df_nodelete;
      c.decided = true;
      if (opened.nodelete) mark_trusted(c);
    } else if (!c.decided && !opened.nested) {
      c.want = policy == Policy::kPromote || df_nodelete;
      c.decided = true;
    }
  }
  add_dependencies();
  std::size_t nwant = 0;
  for (std::size_t i = 0; i < g_ncur; ++i) nwant += g_cur[i].want;
  return nwant;
}

// The wanted objects, copied out of the pass's tables: the list is used after
// g_mu is released (the NOLOAD dlopen calls), when another thread's pass may
// run. A few fit on the stack (the usual dlopen of one library); more are
// malloc'd (the wrappers run where dlopen may, which allocates too). Names
// are kept only to ask the loader about objects not trusted already.
class WantedList {
 public:
  explicit WantedList(std::size_t nwant) {
    wants_ = nwant <= kOnStack ? reinterpret_cast<Want*>(on_stack_) : static_cast<Want*>(std::malloc(nwant * sizeof(Want)));
    std::size_t names_size = 0;
    for (std::size_t i = 0; i < g_ncur; ++i)
      if (g_cur[i].want && !g_cur[i].trusted) names_size += name_of(g_cur[i]).size() + 1;
    names_ = names_size ? static_cast<char*>(std::malloc(names_size)) : nullptr;
    std::size_t names_used = 0;
    for (std::size_t i = 0; wants_ && i < g_ncur; ++i) {
      if (!g_cur[i].want) continue;
      Want& x = wants_[n_];
      x.bias = g_cur[i].bias;
      x.dynamic = g_cur[i].dynamic;
      x.confirmed = g_cur[i].trusted;
      x.has_image = g_cur[i].info != kNoInfo && g_info[g_cur[i].info].image_ok;
      if (x.has_image) x.img = g_info[g_cur[i].info].img;
      x.name_off = kNoName;
      if (!x.confirmed) {
        if (names_ == nullptr) continue;  // out of memory: left unsealed
        const std::string_view name = name_of(g_cur[i]);
        std::memcpy(names_ + names_used, name.data(), name.size());
        names_[names_used + name.size()] = '\0';
        x.name_off = names_used;
        names_used += name.size() + 1;
      }
      ++n_;
    }
  }
  ~WantedList() {
    if (wants_ != reinterpret_cast<Want*>(on_stack_)) std::free(wants_);
    std::free(names_);
  }
  WantedList(const WantedList&) = delete;
  WantedList& operator=(const WantedList&) = delete;

  std::size_t size() const { return n_; }
  Want& operator[](std::size_t i) { return wants_[i]; }
  const char* name(const Want& w) const { return names_ + w.name_off; }

 private:
  static constexpr std::size_t kOnStack = 4;
  alignas(Want) unsigned char on_stack_[kOnStack * sizeof(Want)];  // not constructed: every field is set above
  Want* wants_;
  char* names_;
  std::size_t n_ = 0;
};

// Without g_mu. Asks the loader to keep each object not already known to be
// kept forever: success also proves that its load finished (the call waits
// for ld.so's load lock) and did not fail.
void confirm_kept_forever(WantedList& wants, Lmid_t lmid, const Walk& w) {
  const RealDl& real = real_dl();
  bool asked = false;
  for (std::size_t i = 0; i < wants.size(); ++i) {
    if (wants[i].confirmed) continue;
    const int mode = RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE;
    const char* name = wants.name(wants[i]);
    // An emptied namespace makes glibc's dlmopen fail with its load lock
    // taken (see g_startup_ns): asked only while the namespace lists objects.
    if (w.ns != nullptr && w.ns->base.r_map == nullptr) break;
    void* h = lmid == LM_ID_BASE ? real.dlopen(name, mode) : real.dlmopen(lmid, name, mode);
    asked = true;
    if (!h) continue;
    // The same object, not a later one loaded under the same name after the
    // one we saw was unloaded.
    link_map* got = nullptr;
    wants[i].confirmed = dlinfo(h, RTLD_DI_LINKMAP, &got) == 0 && got && got->l_addr == wants[i].bias &&
                         reinterpret_cast<std::uintptr_t>(got->l_ld) == wants[i].dynamic;
    real.dlclose(h);  // drops the reference NOLOAD took; NODELETE stays
  }
  if (asked) dlerror();  // the caller's call succeeded: leave no error of ours behind
}

// Under g_mu. Seals the confirmed objects and records them as sealed.
void seal_confirmed(WantedList& wants, Lmid_t lmid) {
  Sealer sealer;
  for (std::size_t i = 0; i < wants.size(); ++i) {
    if (!wants[i].confirmed) continue;
    sealer.seal(wants[i]);
    if (Known* k = find_known(lmid, wants[i].bias, wants[i].dynamic)) k->sealed = true;
  }
  sealer.finish();
}

void seal_namespace(Policy policy, const Opened& opened, link_map* head, Walk& w) {
  dl_iterate_phdr(walk_cb, &w);
  const Lmid_t lmid = w.lmid;
  if (lmid == kLmidUnknown || (w.ns != nullptr && lmid == w.skip)) {
    pthread_mutex_unlock(&g_mu);
    return;
  }
  const std::size_t nwant = decide_wanted(policy, opened, head);
  replace_known(lmid);
  if (lmid == LM_ID_BASE && !opened.nested) {
    g_seen_adds = w.adds;
    g_seen_subs = w.subs;
  }
  WantedList wants(nwant);
  pthread_mutex_unlock(&g_mu);
  if (wants.size() == 0) return;
  confirm_kept_forever(wants, lmid, w);
  pthread_mutex_lock(&g_mu);
  seal_confirmed(wants, lmid);
  pthread_mutex_unlock(&g_mu);
}

}  // namespace

}  // namespace sealkit::rt::preload
