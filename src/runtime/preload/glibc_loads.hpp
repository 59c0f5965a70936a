// Objects glibc loads by itself (__libc_dlopen: NSS modules, gconv modules,
// libgcc_s), which no dlopen wrapper sees. glibc_loads.cpp wraps the libc
// functions that load them; these two do the sealing, next to the dlopen
// wrappers (interpose.cpp) whose policy and per-thread state they share.
#pragma once

namespace sealkit::rt::preload {

// After a libc call that may have loaded objects (getpwnam, getaddrinfo,
// iconv_open, ...): a pass, if ld.so's counters say something was loaded.
// Keeps errno.
void seal_what_glibc_loaded();

// Before a libc call that loads libgcc_s.so.1 to unwind a stack
// (pthread_cancel, pthread_exit, backtrace): loads it first, kept forever as
// glibc keeps it, and seals it, so that its code is sealed before it first
// runs. Once per process; nothing under dlopen = off. Keeps errno.
void seal_unwinder_before_use();

}  // namespace sealkit::rt::preload
