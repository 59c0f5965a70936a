// sealkit as the program's parent: where `sealkit run` cannot exec the
// program in its own place (the seccomp supervisor, run/supervise.hpp; a
// statically linked program sealed by ptrace, run/static_seal.hpp), it waits
// for it, passes signals on, and ends the way it did.
#pragma once

#include <sys/types.h>

namespace sealkit::cli::run_parent {

// Signals sent to sealkit (SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
// SIGWINCH, SIGCONT, SIGALRM by kill(2)) are passed on to the child named by
// set_child; the terminal's own signals already reach the program's process
// group and are not sent twice.
// A signal ignored by sealkit's caller (`nohup sealkit run ...`) stays
// ignored, and is inherited by the program as it would be without sealkit.
void install_forwarding();
void set_child(pid_t pid);
// After the program is forked (it keeps the SIGCHLD disposition sealkit was
// given): SIGCHLD interrupts sealkit's waits, so that the orphans it adopts
// as the tree's subreaper (supervisor/supervisor_process.hpp) are reaped
// as they end.
void install_wake_on_child_exit();
// Puts back the default disposition of what install_forwarding and
// install_wake_on_child_exit changed.
void restore_defaults();

// Exits with the program's exit status, or raises its signal again in
// sealkit (128 + N when that signal does not end sealkit).
[[noreturn]] void end_like(int status);

}  // namespace sealkit::cli::run_parent
