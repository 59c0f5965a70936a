// Calling libc's dlopen and dlmopen so that glibc sees the program's own
// caller, not the wrapper (interpose.cpp).
//
// Why: glibc decides which object calls dlopen from the return address it is
// called with, and everything about the search follows from that object: the
// meaning of $ORIGIN and whether secure execution allows it, the caller's
// DT_RPATH and DT_RUNPATH, the namespace of a plain dlopen. Called from the
// wrapper, glibc would search as the preload object instead and could load a
// different file, or none. Guessing the caller's directory from argv[0] or
// the executable's path is worse: whoever starts a setuid program chooses
// argv[0]. So the wrapper never resolves a name itself; glibc does, with the
// caller's own identity:
//
//  - a name that contains a '/' and no '$' (or the null name) is found the same
//    whoever calls, and is passed on directly;
//  - any other name is passed on with a return address inside the caller's
//    own object: the address of a `ret` instruction byte found next to the
//    caller's return address (on i386, of three one-byte pops and a `ret`,
//    which take the arguments off the stack first), with the wrapper's
//    continuation below it on the stack. glibc looks that address up, finds
//    the caller's object, searches exactly as it would have, and returns into
//    those bytes, which return into the wrapper, which seals and returns to
//    the caller;
//  - where that cannot be done (a shadow stack, which would refuse the
//    `ret`; no such bytes in the page of the caller's call) the wrapper steps
//    aside: the entry jumps to libc's function with the caller's own return
//    address, and the object is sealed by the next pass (the next wrapped
//    dlopen, dlmopen or dlclose) instead of before the call returns.
#pragma once

namespace sealkit::rt::preload {

// A name that glibc resolves without looking at its caller: it has a '/' and
// no dynamic string token ($ORIGIN, $LIB, $PLATFORM), or it is null (the
// program itself).
bool found_the_same_by_any_caller(const char* file);

// Asks the kernel once whether this process runs on a shadow stack, and
// keeps the answer for return_through. Called at start-up, before the
// program's code runs: a seccomp filter the program installs later may
// forbid arch_prctl, and a lookup (dlsym(RTLD_DEFAULT, ...)) made under it
// must make no system call that glibc's own would not.
void learn_shadow_stack();

// An address in the same object as `caller` (as glibc's own lookup sees it)
// that holds a `ret` instruction byte, or null when the wrapper cannot call
// through one here (see above).
const void* return_through(const void* caller);

// fn(a0, a1, a2) entered with `ret_byte` (from return_through) as its
// return address, returning fn's value.
long call_returning_through(const void* ret_byte, const void* fn, long a0, long a1, long a2);

}  // namespace sealkit::rt::preload
