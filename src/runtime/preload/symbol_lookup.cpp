// dlsym and dlvsym, wrapped so that a lookup that would hand the program
// libc's own dlopen, dlmopen or dlclose hands it this object's wrapper
// instead: a library that finds dlopen with dlsym(RTLD_NEXT, "dlopen") (the
// usual way to wrap it), or a program that asks libc's handle with dlvsym,
// would otherwise load objects no wrapper sees, unsealed until the next pass.
// The wrapper it gets calls libc's function as that caller (as_caller.hpp),
// so nothing about the load changes but the seal.
//
// Which object asks matters to RTLD_NEXT and RTLD_DEFAULT: glibc looks from
// the caller's place in the search order. So those two go through the same
// entry stubs as dlopen (entry_stub.hpp) and reach libc with the caller's
// return address; where that cannot be done, the stub jumps to libc's
// function itself and the result is handed on as it is. This object's own
// lookups (next_function.hpp, the set-up) always get libc's answer.
#include <dlfcn.h>

#include <atomic>

#include "runtime/preload/as_caller.hpp"
#include "runtime/preload/entry_stub.hpp"
#include "runtime/preload/libc_function.hpp"

extern "C" {
// This object's first and last byte (the linker's), and its own wrappers.
extern const char __ehdr_start[] __attribute__((visibility("hidden")));
extern const char _end[] __attribute__((visibility("hidden")));
void* sealkit_entry_dlopen(const char*, int) __attribute__((visibility("hidden")));
void* sealkit_entry_dlmopen(Lmid_t, const char*, int) __attribute__((visibility("hidden")));
int sealkit_entry_dlclose(void*) __attribute__((visibility("hidden")));
}

namespace sealkit::rt::preload {

namespace {

// libc's functions, read from its symbol table at the first lookup (racing
// threads read the same values).
struct Libc {
  std::atomic<const void*> dlsym{nullptr}, dlvsym{nullptr}, dlopen{nullptr}, dlmopen{nullptr}, dlclose{nullptr};
  std::atomic<bool> read{false};
};
constinit Libc g_libc;

const Libc& libc() {
  if (!g_libc.read.load(std::memory_order_acquire)) {
    g_libc.dlsym.store(libc_function("dlsym"), std::memory_order_relaxed);
    g_libc.dlvsym.store(libc_function("dlvsym"), std::memory_order_relaxed);
    g_libc.dlopen.store(libc_function("dlopen"), std::memory_order_relaxed);
    g_libc.dlmopen.store(libc_function("dlmopen"), std::memory_order_relaxed);
    g_libc.dlclose.store(libc_function("dlclose"), std::memory_order_relaxed);
    g_libc.read.store(true, std::memory_order_release);
  }
  return g_libc;
}

bool from_this_object(const void* caller) { return caller >= __ehdr_start && caller < _end; }

// libc's dlopen, dlmopen or dlclose, as this object's wrapper of it.
void* wrapped(void* found) {
  if (found == nullptr) return found;
  const Libc& l = libc();
  if (found == l.dlopen.load(std::memory_order_relaxed)) return reinterpret_cast<void*>(&sealkit_entry_dlopen);
  if (found == l.dlmopen.load(std::memory_order_relaxed)) return reinterpret_cast<void*>(&sealkit_entry_dlmopen);
  if (found == l.dlclose.load(std::memory_order_relaxed)) return reinterpret_cast<void*>(&sealkit_entry_dlclose);
  return found;
}

void* looked_up(long handle, long name, long version) {
  const Libc& l = libc();
  const void* fn = version ? l.dlvsym.load(std::memory_order_relaxed) : l.dlsym.load(std::memory_order_relaxed);
  return wrapped(reinterpret_cast<void*>(call_as_planned(fn, handle, name, version)));
}

void* wrapped_dlsym(void* handle, const char* name) {
  return looked_up(reinterpret_cast<long>(handle), reinterpret_cast<long>(name), 0);
}

void* wrapped_dlvsym(void* handle, const char* name, const char* version) {
  return looked_up(reinterpret_cast<long>(handle), reinterpret_cast<long>(name), reinterpret_cast<long>(version));
}

void* no_dlsym(void*, const char*) { return nullptr; }

// Where the stub goes on: libc's function itself (this object's own lookups,
// or a caller libc cannot be shown from the wrapper), or `wrapper`.
const void* route(const void* real, long handle, const void* caller, const void* wrapper) {
  plan_call_as(nullptr);
  if (real == nullptr) return reinterpret_cast<const void*>(&no_dlsym);
  if (from_this_object(caller)) return real;
  const void* h = reinterpret_cast<const void*>(handle);
  if (h == RTLD_NEXT || h == RTLD_DEFAULT) {
    const void* through = return_through(caller);
    if (through == nullptr) return real;
    plan_call_as(through);
  }
  return wrapper;
}

}  // namespace

}  // namespace sealkit::rt::preload

namespace pl = sealkit::rt::preload;

extern "C" __attribute__((visibility("hidden"))) const void* sealkit_route_dlsym(long* args, const void* caller) {
  return pl::route(pl::libc().dlsym.load(std::memory_order_relaxed), args[0], caller,
                   reinterpret_cast<const void*>(&pl::wrapped_dlsym));
}

extern "C" __attribute__((visibility("hidden"))) const void* sealkit_route_dlvsym(long* args, const void* caller) {
  return pl::route(pl::libc().dlvsym.load(std::memory_order_relaxed), args[0], caller,
                   reinterpret_cast<const void*>(&pl::wrapped_dlvsym));
}

asm(SEALKIT_ENTRY_STUB(dlsym, sealkit_route_dlsym) SEALKIT_ENTRY_STUB(dlvsym, sealkit_route_dlvsym));
