#include "runtime/preload/later_objects.hpp"

#include <link.h>
#include <pthread.h>

#include <cstring>

#include "core/seal_plan.hpp"
#include "runtime/elf_image.hpp"
#include "runtime/maps_snapshot.hpp"
#include "runtime/preload/dynamic_info.hpp"
#include "runtime/preload/real_dl.hpp"
#include "runtime/sys.hpp"

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
constexpr std::size_t kMaxObjects = 4096;
Known g_known[kMaxObjects];
std::size_t g_nknown = 0;
pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
unsigned long long g_seen_adds = 0, g_seen_subs = 0;
const Config* g_config = nullptr;

bool excluded(std::string_view name) { return g_config != nullptr && g_config->object_excluded(name); }

// One namespace's objects as a pass sees them.
struct Current {
  std::uintptr_t bias, dynamic;
  std::size_t name_off;
  bool known, sealed, want, decided;
};
Current g_cur[kMaxObjects];
std::size_t g_ncur = 0;
char g_names[1 << 18];
std::size_t g_names_used = 0;

struct Walk {
  link_map* start;  // any object of the namespace; null: the base namespace
  unsigned long long adds, subs;
  bool collect;
};

// Runs inside dl_iterate_phdr, which holds ld.so's list lock: objects are
// unlinked from their namespace list under that lock before they are
// unmapped, so every object reached here stays mapped until we return.
int walk_cb(dl_phdr_info* info, std::size_t, void* p) {
  auto* w = static_cast<Walk*>(p);
  w->adds = info->dlpi_adds;
  w->subs = info->dlpi_subs;
  if (!w->collect) return 1;
  link_map* l = w->start ? w->start : _r_debug.r_map;
  while (l && l->l_prev) l = l->l_prev;
  g_ncur = 0;
  g_names_used = 0;
  for (; l && g_ncur < kMaxObjects; l = l->l_next) {
    const char* name = l->l_name ? l->l_name : "";
    std::size_t len = std::strlen(name);
    if (g_names_used + len + 1 > sizeof g_names) break;
    std::memcpy(g_names + g_names_used, name, len + 1);
    g_cur[g_ncur++] = {l->l_addr, reinterpret_cast<std::uintptr_t>(l->l_ld), g_names_used, false, false, false,
                       false};
    g_names_used += len + 1;
  }
  return 1;
}

Known* find_known(Lmid_t lmid, std::uintptr_t bias, std::uintptr_t dynamic) {
  for (std::size_t i = 0; i < g_nknown; ++i)
    if (g_known[i].lmid == lmid && g_known[i].bias == bias && g_known[i].dynamic == dynamic) return &g_known[i];
  return nullptr;
}

// g_known's entries for `lmid` become g_cur (objects gone are forgotten, so
// a new object at a reused address is not mistaken for an old one).
void replace_known(Lmid_t lmid) {
  std::size_t out = 0;
  for (std::size_t i = 0; i < g_nknown; ++i)
    if (g_known[i].lmid != lmid) g_known[out++] = g_known[i];
  g_nknown = out;
  for (std::size_t i = 0; i < g_ncur && g_nknown < kMaxObjects; ++i)
    g_known[g_nknown++] = {lmid, g_cur[i].bias, g_cur[i].dynamic, g_cur[i].sealed, g_cur[i].decided};
}

std::string_view name_of(const Current& c) { return g_names + c.name_off; }

// Marks every unsealed object that a wanted object needs (DT_NEEDED) as
// wanted too: the loader never unloads a dependency of a kept object. (A
// dependency is initialised before the object that needs it, so this never
// reaches an object whose constructors have not run.)
void add_dependencies(const MapsSnapshot& maps) {
  bool changed = true;
  while (changed) {
    changed = false;
    for (std::size_t i = 0; i < g_ncur; ++i) {
      if (!g_cur[i].want) continue;
      DynamicInfo di = read_dynamic(g_cur[i].bias, g_cur[i].dynamic, maps);
      for (std::size_t k = 0; k < di.nneeded; ++k) {
        for (std::size_t j = 0; j < g_ncur; ++j) {
          Current& d = g_cur[j];
          if (d.want || d.sealed || excluded(name_of(d))) continue;
          DynamicInfo dd = read_dynamic(d.bias, d.dynamic, maps);
          if (needed_names(di.needed[k], name_of(d), dd.soname)) {
            d.want = d.decided = true;
            changed = true;
          }
        }
      }
    }
  }
}

struct Want {
  std::uintptr_t bias, dynamic;
  bool confirmed;
  char name[4096];
};

void seal_object(const MapsSnapshot& maps, const Want& w) {
  ElfImage img;
  if (read_loaded_image(maps, w.bias, w.dynamic, img) != ImageError::kNone) return;
  core::plan_object_seal(img.segments, img.nseg, img.keep_mutable, img.nmut, maps,
                         [](core::Range r) { sys::mseal(r.begin, r.size()); });
}

}  // namespace

void use_config(const Config& config) { g_config = &config; }

void lock_for_fork() { pthread_mutex_lock(&g_mu); }
void unlock_after_fork() { pthread_mutex_unlock(&g_mu); }

void remember_startup_objects() {
  pthread_mutex_lock(&g_mu);
  Walk w{nullptr, 0, 0, true};
  dl_iterate_phdr(walk_cb, &w);
  for (std::size_t i = 0; i < g_ncur; ++i) g_cur[i].sealed = g_cur[i].decided = true;  // the audit module's job
  replace_known(LM_ID_BASE);
  g_seen_adds = w.adds;
  g_seen_subs = w.subs;
  pthread_mutex_unlock(&g_mu);
}

void seal_pass(Policy policy, const Opened& opened) {
  if (policy == Policy::kOff) return;
  link_map* head = nullptr;
  Lmid_t lmid = LM_ID_BASE;
  if (opened.handle) {
    if (dlinfo(opened.handle, RTLD_DI_LINKMAP, &head) != 0 || dlinfo(opened.handle, RTLD_DI_LMID, &lmid) != 0) {
      head = nullptr;
      lmid = LM_ID_BASE;
    }
  }

  pthread_mutex_lock(&g_mu);
  Walk probe{nullptr, 0, 0, false};
  dl_iterate_phdr(walk_cb, &probe);
  const bool base_changed = probe.adds != g_seen_adds || probe.subs != g_seen_subs;
  bool head_pending = false;
  if (head && opened.nodelete) {
    const Known* k = find_known(lmid, head->l_addr, reinterpret_cast<std::uintptr_t>(head->l_ld));
    head_pending = !k || !k->sealed;
  }
  if (!head_pending && !(lmid == LM_ID_BASE && base_changed)) {
    pthread_mutex_unlock(&g_mu);
    return;
  }

  MapsSnapshot maps;
  if (!maps.load()) {
    pthread_mutex_unlock(&g_mu);
    return;
  }
  Walk w{lmid == LM_ID_BASE ? nullptr : head, 0, 0, true};
  dl_iterate_phdr(walk_cb, &w);
  std::size_t nwant = 0;
  for (std::size_t i = 0; i < g_ncur; ++i) {
    Current& c = g_cur[i];
    if (const Known* k = find_known(lmid, c.bias, c.dynamic)) {
      c.known = true;
      c.sealed = k->sealed;
      c.decided = k->decided;
    }
    if (c.sealed || name_of(c).empty()) continue;  // the program itself is a start-up object
    if (excluded(name_of(c))) {
      c.want = false;
      c.decided = true;
      continue;
    }
    const bool is_head = head && c.bias == head->l_addr && c.dynamic == reinterpret_cast<std::uintptr_t>(head->l_ld);
    if (is_head) {
      c.want = opened.nodelete || policy == Policy::kPromote || read_dynamic(c.bias, c.dynamic, maps).nodelete;
      c.decided = true;
    } else if (!c.decided && !opened.nested) {
      c.want = policy == Policy::kPromote || read_dynamic(c.bias, c.dynamic, maps).nodelete;
      c.decided = true;
    }
  }
  add_dependencies(maps);
  for (std::size_t i = 0; i < g_ncur; ++i) nwant += g_cur[i].want;
  replace_known(lmid);
  if (lmid == LM_ID_BASE && !opened.nested) {
    g_seen_adds = w.adds;
    g_seen_subs = w.subs;
  }
  Want* wants = nwant ? static_cast<Want*>(sys::mmap_anon(nwant * sizeof(Want))) : nullptr;
  std::size_t n = 0;
  for (std::size_t i = 0; wants && i < g_ncur; ++i) {
    if (!g_cur[i].want) continue;
    std::string_view name = name_of(g_cur[i]);
    if (name.size() >= sizeof wants[n].name) continue;
    wants[n].bias = g_cur[i].bias;
    wants[n].dynamic = g_cur[i].dynamic;
    wants[n].confirmed = false;
    std::memcpy(wants[n].name, name.data(), name.size());
    wants[n].name[name.size()] = '\0';
    ++n;
  }
  pthread_mutex_unlock(&g_mu);
  if (n == 0) {
    if (wants) sys::munmap(wants, nwant * sizeof(Want));
    return;
  }

  // Ask the loader to keep each object forever. Success also proves that its
  // load finished (the call waits for ld.so's load lock) and did not fail.
  const RealDl& real = real_dl();
  for (std::size_t i = 0; i < n; ++i) {
    const int mode = RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE;
    void* h = lmid == LM_ID_BASE ? real.dlopen(wants[i].name, mode) : real.dlmopen(lmid, wants[i].name, mode);
    if (!h) continue;
    // The same object, not a later one loaded under the same name after the
    // one we saw was unloaded.
    link_map* got = nullptr;
    wants[i].confirmed = dlinfo(h, RTLD_DI_LINKMAP, &got) == 0 && got && got->l_addr == wants[i].bias &&
                         reinterpret_cast<std::uintptr_t>(got->l_ld) == wants[i].dynamic;
    real.dlclose(h);  // drops the reference NOLOAD took; NODELETE stays
  }
  dlerror();  // the caller's call succeeded: leave no error of ours behind

  pthread_mutex_lock(&g_mu);
  MapsSnapshot after;
  if (after.load()) {
    for (std::size_t i = 0; i < n; ++i) {
      if (!wants[i].confirmed) continue;
      seal_object(after, wants[i]);
      if (Known* k = find_known(lmid, wants[i].bias, wants[i].dynamic)) k->sealed = true;
    }
  }
  pthread_mutex_unlock(&g_mu);
  sys::munmap(wants, nwant * sizeof(Want));
}

}  // namespace sealkit::rt::preload
