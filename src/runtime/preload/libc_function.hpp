// The functions of libc's that this object both stands in front of and must
// call itself: dlsym and dlvsym.
#pragma once

namespace sealkit::rt::preload {

// The address libc.so.6 defines `name` at (its default version), read from
// libc's own dynamic symbol table (DT_GNU_HASH, DT_VERSYM). Not a symbol
// lookup: every lookup of dlsym or dlvsym, this object's own included, finds
// this object's wrapper first, and the wrapper needs libc's. Null if libc
// has no such function (or its tables cannot be read).
void* libc_function(const char* name);

}  // namespace sealkit::rt::preload
