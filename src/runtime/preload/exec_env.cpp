#include "runtime/preload/exec_env.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdint>
#include <string_view>

#include "runtime/log.hpp"
#include "runtime/process_info.hpp"
#include "runtime/sys.hpp"

namespace sealkit::rt::preload {

namespace {

// How an injected variable is put back.
enum class Kind : std::uint8_t {
  kList,     // LD_AUDIT, LD_PRELOAD: sealkit's entry first, the child's entries after it
  kTunable,  // GLIBC_TUNABLES: the child's tunables, sealkit's one after them when the child names none
  kValue,    // SEALKIT_*: sealkit's value (SEALKIT_DLOPEN: unless the child's seals at least as much)
};

// Which occurrences of a variable count, as its readers read it: ld.so takes
// the last LD_PRELOAD and every LD_AUDIT (glibc 2.36), glibc every
// GLIBC_TUNABLES; for SEALKIT_* the runtime takes the last, getenv the first,
// so each must carry sealkit's value.
enum class Counts : std::uint8_t { kLast, kAny, kAll };

// Whose value of a SEALKIT_* variable the child gets when it sets its own.
enum class Keep : std::uint8_t {
  kOurs,      // sealkit run's: another could seal less (SEALKIT_CONFIG, and any the runtime may learn)
  kStronger,  // the child's when it seals at least as much (SEALKIT_DLOPEN: promote > nodelete > off)
  kChilds,    // the child's: it seals nothing less (SEALKIT_LOG, SEALKIT_BACKEND, SEALKIT_SUPERVISOR_FD: a
              // nested `sealkit run` sets its own)
};

struct Item {
  const char* name = nullptr;  // NUL-terminated, without '='
  std::size_t name_len = 0;
  const char* part = nullptr;  // kList: the entry; kTunable: "tunable=value"; kValue: the value
  std::size_t part_len = 0;
  const char* kv = nullptr;    // kValue: "NAME=value", NUL-terminated
  Kind kind = Kind::kValue;
  const char* seps = ":";      // kList: where ld.so splits the list
  Counts counts = Counts::kAll;
  Keep keep = Keep::kOurs;     // kValue: whose value a child that sets the variable ends up with
};

constexpr std::size_t kMaxItems = 12;  // LD_AUDIT, LD_PRELOAD, GLIBC_TUNABLES and SEALKIT_* (5 today)
constinit Item g_items[kMaxItems]{};
constinit std::size_t g_item_count = 0;
// Copies of what the items name: the program may overwrite the initial
// environment's strings (setproctitle) or free what setenv made.
constinit char g_saved[4096]{};
constinit std::size_t g_saved_used = 0;
constinit char g_log_path[512]{};

constexpr std::string_view kStaticTls = "glibc.rtld.optional_static_tls";

// string_view::substr may throw (out of line, in libstdc++, which is not linked):
// these never do.
std::string_view from(std::string_view s, std::size_t pos, std::size_t n = std::string_view::npos) {
  if (pos > s.size()) pos = s.size();
  if (n > s.size() - pos) n = s.size() - pos;
  return {s.data() + pos, n};
}

bool starts(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && from(s, 0, prefix.size()) == prefix;
}

std::size_t length(const char* s) {
  std::size_t n = 0;
  while (s[n] != '\0') ++n;
  return n;
}

bool same(const char* a, const char* b, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// The value of `entry` when it is NAME=..., else null.
const char* value_of(const char* entry, const Item& it) {
  return same(entry, it.name, it.name_len) && entry[it.name_len] == '=' ? entry + it.name_len + 1 : nullptr;
}

bool is_sep(char c, const char* seps) {
  for (const char* s = seps; *s != '\0'; ++s) {
    if (c == *s) return true;
  }
  return false;
}

// Calls f(token, length) for each non-empty token of `list` split at `seps`;
// stops at the first f that returns true, and says so.
template <class F>
bool any_token(std::string_view list, const char* seps, F f) {
  std::size_t start = 0;
  for (std::size_t i = 0; i <= list.size(); ++i) {
    if (i == list.size() || is_sep(list[i], seps)) {
      if (i > start && f(from(list, start, i - start))) return true;
      start = i + 1;
    }
  }
  return false;
}

std::string_view base_name(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : from(path, slash + 1);
}

std::string_view tunable_name(std::string_view t) { return from(t, 0, t.find('=')); }

const char* save(std::string_view s) {
  if (g_saved_used + s.size() + 1 > sizeof g_saved) return nullptr;
  char* out = g_saved + g_saved_used;
  for (std::size_t i = 0; i < s.size(); ++i) out[i] = s[i];
  out[s.size()] = '\0';
  g_saved_used += s.size() + 1;
  return out;
}

void add_item(const char* name, std::string_view part, Kind kind, const char* seps, Counts counts) {
  if (g_item_count == kMaxItems) return;
  const char* saved = save(part);
  if (saved == nullptr) return;
  Item& it = g_items[g_item_count++];
  it.name = name;
  it.name_len = length(name);
  it.part = saved;
  it.part_len = part.size();
  it.kind = kind;
  it.seps = seps;
  it.counts = counts;
}

// A SEALKIT_* variable: the last occurrence wins, as the runtime reads them.
void remember_value(std::string_view kv) {
  const std::size_t eq = kv.find('=');
  const std::string_view name = from(kv, 0, eq);
  for (std::size_t i = 0; i < g_item_count; ++i) {
    if (g_items[i].kind == Kind::kValue && std::string_view(g_items[i].name, g_items[i].name_len) == name) {
      const char* kvs = save(kv);
      if (kvs == nullptr) return;
      g_items[i].kv = kvs;
      g_items[i].part = kvs + eq + 1;
      g_items[i].part_len = kv.size() - eq - 1;
      return;
    }
  }
  if (g_item_count == kMaxItems) return;
  const char* names = save(name);
  const char* kvs = save(kv);
  if (names == nullptr || kvs == nullptr) return;
  Item& it = g_items[g_item_count++];
  it.name = names;
  it.name_len = name.size();
  it.kv = kvs;
  it.part = kvs + eq + 1;
  it.part_len = kv.size() - eq - 1;
  it.kind = Kind::kValue;
  it.counts = Counts::kAll;
  it.keep = name == "SEALKIT_DLOPEN" ? Keep::kStronger
            : name == "SEALKIT_LOG" || name == "SEALKIT_BACKEND" || name == "SEALKIT_SUPERVISOR_FD" ? Keep::kChilds
                                                                                                : Keep::kOurs;
}

int dlopen_strength(std::string_view v) {
  if (v == "promote") return 2;
  if (v == "nodelete") return 1;
  if (v == "off") return 0;
  return -1;
}

// Whether `v` begins with the token `part` (the usual place of sealkit's:
// `sealkit run` and a repair put it first). Compares bytes without measuring
// `v`: most execs under `sealkit run` only ever take this path.
bool begins_with_token(const char* v, std::string_view part, const char* seps) {
  for (std::size_t i = 0; i < part.size(); ++i) {
    if (v[i] != part[i]) return false;
  }
  return v[part.size()] == '\0' || is_sep(v[part.size()], seps);
}

// Whether one occurrence's value carries what the item needs.
bool carries(const Item& it, const char* value) {
  const std::string_view part(it.part, it.part_len);
  switch (it.kind) {
    case Kind::kList:
      if (begins_with_token(value, part, it.seps)) return true;
      return any_token(std::string_view(value, length(value)), it.seps, [&](std::string_view t) { return t == part; });
    case Kind::kTunable: {
      // `sealkit run` and a repair put the tunable last.
      const std::string_view v(value, length(value));
      if (v.size() >= part.size() && from(v, v.size() - part.size()) == part &&
          (v.size() == part.size() || v[v.size() - part.size() - 1] == ':'))
        return true;
      return any_token(v, ":", [&](std::string_view t) { return tunable_name(t) == tunable_name(part); });
    }
    case Kind::kValue: {
      const std::string_view v(value, length(value));
      switch (it.keep) {
        case Keep::kOurs: return v == part;
        case Keep::kStronger: return dlopen_strength(v) >= 0 && dlopen_strength(v) >= dlopen_strength(part);
        case Keep::kChilds: return true;
      }
      return false;
    }
  }
  return false;
}

// Writes NAME=VALUE of a rewritten list or tunable item into `out` (when not
// null); returns its length without the NUL.
std::size_t merged(char* const* envp, const Item& it, char* out) {
  std::size_t n = 0;
  auto put = [&](std::string_view s) {
    if (out != nullptr) {
      for (std::size_t i = 0; i < s.size(); ++i) out[n + i] = s[i];
    }
    n += s.size();
  };
  const std::string_view part(it.part, it.part_len);
  put(std::string_view(it.name, it.name_len));
  put("=");
  if (it.kind == Kind::kList) put(part);
  bool first = it.kind != Kind::kList;
  const char* last = nullptr;
  for (char* const* e = envp; e != nullptr && *e != nullptr; ++e) {
    const char* v = value_of(*e, it);
    if (v == nullptr) continue;
    if (it.counts == Counts::kLast) {
      last = v;
      continue;
    }
    if (*v == '\0') continue;
    if (!first) put(":");
    put(v);
    first = false;
  }
  if (last != nullptr && *last != '\0') {
    put(":");
    put(last);
  }
  if (it.kind == Kind::kTunable) {
    if (!first) put(":");
    put(part);
  }
  if (out != nullptr) out[n] = '\0';
  return n;
}

// Whether an entry can name an item: every item's name starts with one of
// these. Most entries are ruled out by their first byte.
bool may_name_an_item(const char* entry) { return entry[0] == 'L' || entry[0] == 'S' || entry[0] == 'G'; }

bool names_rewritten(const char* entry, unsigned mask) {
  if (!may_name_an_item(entry)) return false;
  for (std::size_t i = 0; i < g_item_count; ++i) {
    if ((mask & (1u << i)) != 0 && value_of(entry, g_items[i]) != nullptr) return true;
  }
  return false;
}

// The items `envp` needs rewritten: missing, or an occurrence that counts
// lacks what sealkit put there. One pass over the envp.
unsigned what_needs_repair(char* const* envp) {
  unsigned seen = 0, bad = 0, good = 0, any = 0;
  for (std::size_t i = 0; i < g_item_count; ++i) {
    if (g_items[i].counts == Counts::kAny) any |= 1u << i;
  }
  for (char* const* e = envp; e != nullptr && *e != nullptr; ++e) {
    if (!may_name_an_item(*e)) continue;
    for (std::size_t i = 0; i < g_item_count; ++i) {
      const char* v = value_of(*e, g_items[i]);
      if (v == nullptr) continue;
      const unsigned bit = 1u << i;
      const bool here = carries(g_items[i], v);
      seen |= bit;
      switch (g_items[i].counts) {
        case Counts::kLast: bad = here ? bad & ~bit : bad | bit; break;
        case Counts::kAll: bad |= here ? 0u : bit; break;
        case Counts::kAny: good |= here ? bit : 0u; break;
      }
      break;  // an entry names one variable
    }
  }
  const unsigned all = g_item_count == 0 ? 0u : (1u << g_item_count) - 1;
  // A rewritten kAny item joins the child's occurrences, none of which has sealkit's part: no entry twice.
  return (all & ~seen) | bad | (any & ~good);
}

// LD_PRELOAD: ld.so takes the last one, so each occurrence replaces what an
// earlier one gave (its copy stays in g_saved: duplicates are rare).
void remember_preload(const char* entry, void* ctx) {
  const std::string_view kv(entry, length(entry));
  if (!starts(kv, "LD_PRELOAD=")) return;
  auto& index = *static_cast<std::size_t*>(ctx);
  std::string_view found;
  any_token(from(kv, 11), ": ", [&](std::string_view t) {
    if (base_name(t) != "libsealkit-preload.so") return false;
    found = t;
    return true;
  });
  if (index == kMaxItems) {
    if (found.empty()) return;
    index = g_item_count;
    add_item("LD_PRELOAD", found, Kind::kList, ": ", Counts::kLast);
    if (index == g_item_count) index = kMaxItems;  // not added: no room
    return;
  }
  const char* saved = found.empty() ? nullptr : save(found);
  if (saved == nullptr) {
    // The last LD_PRELOAD does not name the object: nothing of it to carry.
    for (std::size_t i = index; i + 1 < g_item_count; ++i) g_items[i] = g_items[i + 1];
    --g_item_count;
    index = kMaxItems;
    return;
  }
  g_items[index].part = saved;
  g_items[index].part_len = found.size();
}

struct Seen {
  bool audit = false, tunable = false;
};

void remember_others(const char* entry, void* ctx) {
  auto& seen = *static_cast<Seen*>(ctx);
  const std::string_view kv(entry, length(entry));
  if (!seen.audit && starts(kv, "LD_AUDIT=")) {
    seen.audit = any_token(from(kv, 9), ":", [](std::string_view t) {
      if (base_name(t) != "libsealkit-runtime.so") return false;
      add_item("LD_AUDIT", t, Kind::kList, ":", Counts::kAny);
      return true;
    });
  } else if (!seen.tunable && starts(kv, "GLIBC_TUNABLES=")) {
    seen.tunable = any_token(from(kv, 15), ":", [](std::string_view t) {
      if (tunable_name(t) != kStaticTls) return false;
      add_item("GLIBC_TUNABLES", t, Kind::kTunable, ":", Counts::kAny);
      return true;
    });
  } else if (starts(kv, "SEALKIT_") && kv.find('=') != std::string_view::npos) {
    remember_value(kv);
  }
}

}  // namespace

void remember_injected_environment(const char* log_path) {
  if (g_item_count != 0) return;
  std::size_t preload_index = kMaxItems;
  if (!each_startup_setting(remember_preload, &preload_index)) return;
  Seen seen;
  each_startup_setting(remember_others, &seen);
  const std::size_t n = length(log_path);
  if (n < sizeof g_log_path) {
    for (std::size_t i = 0; i <= n; ++i) g_log_path[i] = log_path[i];
  }
}

EnvScratch::~EnvScratch() {
  if (mapped_ != nullptr) sys::munmap(mapped_, mapped_bytes_);
}

void* EnvScratch::get(std::size_t bytes) {
  if (bytes <= sizeof inline_) return inline_;
  if (mapped_ != nullptr) return nullptr;
  const std::size_t rounded = (bytes + 4095) & ~std::size_t{4095};
  void* p = sys::mmap_anon(rounded);
  if (p == nullptr) return nullptr;
  mapped_ = p;
  mapped_bytes_ = rounded;
  return p;
}

char* const* repaired_environment(char* const* envp, EnvScratch& scratch, Repaired& what) {
  what = Repaired{};
  if (g_item_count == 0) return envp;
  const unsigned mask = what_needs_repair(envp);
  if (mask == 0) return envp;
  std::size_t kept = 0;
  for (char* const* e = envp; e != nullptr && *e != nullptr; ++e) {
    if (!names_rewritten(*e, mask)) ++kept;
  }
  std::size_t added = 0, text = 0;
  for (std::size_t i = 0; i < g_item_count; ++i) {
    if ((mask & (1u << i)) == 0) continue;
    ++added;
    if (g_items[i].kind != Kind::kValue) text += merged(envp, g_items[i], nullptr) + 1;
  }
  const std::size_t slots = kept + added + 1;
  if (slots > (~std::size_t{0} - text) / sizeof(char*)) return envp;
  auto* out = static_cast<char**>(scratch.get(slots * sizeof(char*) + text));
  if (out == nullptr) return envp;
  char* strings = reinterpret_cast<char*>(out + slots);
  std::size_t k = 0;
  for (char* const* e = envp; e != nullptr && *e != nullptr; ++e) {
    if (!names_rewritten(*e, mask)) out[k++] = *e;
  }
  for (std::size_t i = 0; i < g_item_count; ++i) {
    if ((mask & (1u << i)) == 0) continue;
    if (g_items[i].kind == Kind::kValue) {
      out[k++] = const_cast<char*>(g_items[i].kv);
    } else {
      out[k++] = strings;
      strings += merged(envp, g_items[i], strings) + 1;
    }
  }
  out[k] = nullptr;
  what.mask = mask;
  return out;
}

void log_repaired_environment(const char* call, const char* program, const Repaired& what) {
  if (!what.any() || g_log_path[0] == '\0') return;
  const char* names[kMaxItems];
  std::size_t n = 0;
  for (std::size_t i = 0; i < g_item_count; ++i) {
    if ((what.mask & (1u << i)) != 0) names[n++] = g_items[i].name;
  }
  report_repaired_environment(g_log_path, call, program, names, n);
}

void repair_own_environment(const char* call) {
  if (g_item_count == 0) return;
  const unsigned mask = what_needs_repair(environ);
  if (mask == 0) return;
  using Setenv = int (*)(const char*, const char*, int);
  using Unsetenv = int (*)(const char*);
  // Looked up here, not imported: every process would pay for the imports at load.
  const auto set = reinterpret_cast<Setenv>(dlsym(RTLD_NEXT, "setenv"));
  const auto unset = reinterpret_cast<Unsetenv>(dlsym(RTLD_NEXT, "unsetenv"));
  if (set == nullptr || unset == nullptr) return;
  Repaired done;
  for (std::size_t i = 0; i < g_item_count; ++i) {
    if ((mask & (1u << i)) == 0) continue;
    const Item& it = g_items[i];
    EnvScratch scratch;
    const char* value = it.part;
    if (it.kind != Kind::kValue) {
      auto* buf = static_cast<char*>(scratch.get(merged(environ, it, nullptr) + 1));
      if (buf == nullptr) continue;
      merged(environ, it, buf);
      value = buf + it.name_len + 1;
    }
    // unsetenv first: it removes every occurrence, setenv only the first.
    unset(it.name);
    if (set(it.name, value, 1) == 0) done.mask |= 1u << i;
  }
  log_repaired_environment(call, "/bin/sh", done);
}

}  // namespace sealkit::rt::preload
