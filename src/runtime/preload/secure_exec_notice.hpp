// Under `sealkit run`, a program that starts a set-user-ID, set-group-ID or
// file-capability program hands it to secure execution, where ld.so ignores
// LD_AUDIT and LD_PRELOAD: that program, and whatever it starts, runs without
// sealkit. Nothing of sealkit runs in it to say so, so the exec wrappers here
// say it, on the caller's stderr, just before the exec: one line naming the
// program and why (docs/runtime.md, "Limits").
//
// Machine-wide (/etc/ld.so.preload) such programs load the preload object too
// and are sealed: the wrappers only forward there.
#pragma once

namespace sealkit::rt::preload {

// True once the audit module (`sealkit run`) did this process's start-up
// pass (interpose.cpp decides it at start-up).
bool started_by_sealkit_run();

// Writes the notice when exec of `path` (as execve opens it) will run in
// secure execution. `search` resolves a name without a '/' through PATH, as
// execvp does. Keeps errno. Uses system calls only (no allocation, no lock),
// as exec may be called in a vfork child.
void say_if_exec_is_secure(const char* path, bool search);

}  // namespace sealkit::rt::preload
