// Sealing of objects loaded after start-up, from the preload object's
// dlopen/dlmopen/dlclose wrappers (interpose.cpp).
//
// The one rule: an object is sealed only when the loader itself has made it
// never-unloaded (l_nodelete), which `dlopen(path, RTLD_NOLOAD | RTLD_NODELETE)`
// both requests and, by succeeding, proves: the call waits for ld.so's load
// lock, so the object's load has finished (relocated, RELRO applied) and did
// not fail. A sealed object is therefore never given to munmap by dlclose,
// and a failed dlopen never leaves sealed memory behind.
#pragma once

#include <dlfcn.h>

#include <cstddef>

#include "runtime/config.hpp"

namespace sealkit::rt::preload {

using rt::Policy;  // config.hpp

// The object a successful dlopen/dlmopen call returned, and whether the
// caller asked for RTLD_NODELETE (or the policy added it).
struct Opened {
  void* handle = nullptr;
  bool nodelete = false;
  // Called from inside another load on this thread (a constructor's dlopen):
  // the outer load's objects may not have run their constructors yet, and a
  // dlopen(RTLD_NOLOAD) of one of them would run them early, out of order.
  // Only the handle's own object and its dependencies are handled then.
  bool nested = false;
  // A dlopen (not dlmopen): the object is in the base namespace, where the
  // preload object that called libc's dlopen lives.
  bool base_namespace = false;
};

// Called after every wrapped dlopen, dlmopen and dlclose: finds the objects
// of the handle's namespace (and of the base namespace) that appeared since
// the last pass, and seals what `policy` says. `opened.handle` may be null.
void seal_pass(Policy policy, const Opened& opened);

// Whether ld.so has loaded or unloaded an object of the base namespace since
// the last pass looked (its counters, read without the pass's lock): asked
// after each call of libc's that may load objects by itself
// (glibc_loads.cpp), most of which load nothing.
bool base_namespace_changed();

// Takes ld.so's counters now as the last pass's: called at start-up, once
// the start-up objects are sealed, so that base_namespace_changed() can tell
// before any set-up for later passes (init) that nothing was loaded since.
void remember_startup_counters();

// Whether the base namespace lists an object whose file name (the last part
// of its path) is `file`. Makes no system call.
bool base_namespace_lists(const char* file);

// fork() while another thread is in a pass must not leave the child with
// the pass's lock taken: registered with pthread_atfork once.
void lock_for_fork();
void unlock_after_fork();

// The configuration's exclude-object patterns apply to later objects too;
// `config` must outlive every pass.
void use_config(const Config& config);

// Where a pass logs what its look at protections found: SEALKIT_LOG as
// ProcessInfo validated it (copied; "" leaves passes silent). Called at start-up.
void log_later_passes_to(const char* log_path);

// Later objects are sealed with seccomp filters (one per pass) instead of
// mseal: the audit module chose that backend at start-up. Called once, before
// any pass.
void use_seccomp_backend();

// The number of objects in the base namespace now (cheap: no object is read).
std::size_t count_startup_objects();

// Records the first `startup` objects of the base namespace (all of them when
// 0) as start-up objects: sealed by the audit module or the start-up pass, or
// deliberately left alone. ld.so appends objects to a namespace's list, so
// those loaded since the count are the later ones. Called once.
void remember_startup_objects(std::size_t startup);

}  // namespace sealkit::rt::preload
