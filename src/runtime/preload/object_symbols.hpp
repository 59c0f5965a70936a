// Functions found in an object's own dynamic symbol table (DT_GNU_HASH,
// DT_VERSYM), not by a symbol lookup: libc's dlsym and dlvsym, which every
// lookup (this object's own included) finds this object's wrappers in front
// of; and which names this object defines, so that a lookup handing out
// libc's function can hand out the wrapper instead (symbol_lookup.cpp).
//
// Written by hand: this is what dlsym does, and dlsym is what it stands in
// for. Read without libc's string functions or dl_iterate_phdr, which a
// sanitizer intercepts: the first lookup may come from a sanitizer's runtime
// before its interceptors are set up.
#pragma once

namespace sealkit::rt::preload {

// libc.so.6's default-version definition of `name`; null if it has none (or
// its tables cannot be read).
void* libc_function(const char* name);

// This object's own exported definition of `name`; null if it has none.
void* own_function(const char* name);

}  // namespace sealkit::rt::preload
