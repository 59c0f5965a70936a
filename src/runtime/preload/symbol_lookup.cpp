// dlsym and dlvsym, wrapped so that a lookup that would hand the program one
// of libc's own functions that this object wraps (dlopen, dlmopen, dlclose;
// the NSS lookups, iconv_open and the unwinder's callers of glibc_loads.cpp;
// the exec family) hands it this object's wrapper instead. A library that
// finds dlopen with dlsym(RTLD_NEXT, "dlopen") (the usual way to wrap it), a
// program that asks libc's handle with dlvsym, an FFI that calls getpwnam or
// iconv_open through libc's handle (python's ctypes, JNA) would otherwise
// load objects no wrapper sees, unsealed until the next pass. The wrapper it
// gets calls libc's function (dlopen as that caller, as_caller.hpp), so
// nothing changes but the seal.
//
// Only where this object's own next definition is libc's: when another
// wrapper of the function sits between this object and libc (a sanitizer's
// interceptor, a library of the program's), its lookup of libc's function is
// how it calls on, and handing it this object's wrapper, whose next is that
// wrapper, would make a loop.
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
#include "runtime/preload/object_symbols.hpp"

extern "C" {
// This object's first and last byte (the linker's names).
extern const char __ehdr_start[] __attribute__((visibility("hidden")));
extern const char _end[] __attribute__((visibility("hidden")));
}

namespace sealkit::rt::preload {

namespace {

constinit std::atomic<const void*> g_libc_dlsym{nullptr}, g_libc_dlvsym{nullptr};

// libc's dlsym or dlvsym, read from its symbol table at the first lookup
// (racing threads read the same value).
const void* libc_lookup(std::atomic<const void*>& slot, const char* name) {
  const void* f = slot.load(std::memory_order_relaxed);
  if (f == nullptr) {
    f = libc_function(name);
    slot.store(f, std::memory_order_relaxed);
  }
  return f;
}

bool from_this_object(const void* caller) { return caller >= __ehdr_start && caller < _end; }

// What a lookup of `name` found, or this object's wrapper of it when what it
// found is libc's own function and this object's next `name` is libc's too.
void* wrapped(const char* name, void* found) {
  if (found == nullptr || name == nullptr) return found;
  void* ours = own_function(name);  // null for every name this object does not define: most lookups
  if (ours == nullptr || ours == found || found != libc_function(name)) return found;
  using Dlsym = void* (*)(void*, const char*);
  const auto libc_dlsym = reinterpret_cast<Dlsym>(libc_lookup(g_libc_dlsym, "dlsym"));
  return libc_dlsym(RTLD_NEXT, name) == found ? ours : found;  // called from here: the next after this object
}

void* looked_up(long handle, long name, long version) {
  const void* fn = version ? libc_lookup(g_libc_dlvsym, "dlvsym") : libc_lookup(g_libc_dlsym, "dlsym");
  void* found = reinterpret_cast<void*>(call_as_planned(fn, handle, name, version));
  return wrapped(reinterpret_cast<const char*>(name), found);
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
  return pl::route(pl::libc_lookup(pl::g_libc_dlsym, "dlsym"), args[0], caller,
                   reinterpret_cast<const void*>(&pl::wrapped_dlsym));
}

extern "C" __attribute__((visibility("hidden"))) const void* sealkit_route_dlvsym(long* args, const void* caller) {
  return pl::route(pl::libc_lookup(pl::g_libc_dlvsym, "dlvsym"), args[0], caller,
                   reinterpret_cast<const void*>(&pl::wrapped_dlvsym));
}

asm(SEALKIT_ENTRY_STUB(dlsym, sealkit_route_dlsym) SEALKIT_ENTRY_STUB(dlvsym, sealkit_route_dlvsym));
