// The exec wrappers' one piece of set-up (exec_wrappers.cpp).
#pragma once

namespace sealkit::rt::preload {

// Looks up glibc's execvpe now, under `sealkit run`, so that execvp, execvpe
// and execlp make no dlsym (a lock) when a program calls them after fork or vfork.
void resolve_exec_functions();

}  // namespace sealkit::rt::preload
