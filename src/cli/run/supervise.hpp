// `sealkit run --backend seccomp`: the program runs as sealkit's child under
// the root filter, and sealkit stays as its supervisor (docs/seccomp-exec.md).
#pragma once

#include <string>

namespace sealkit::cli::run_supervise {

// Runs `path` with `argv` (null-terminated) supervised, forwarding signals sent
// to sealkit (SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH,
// SIGCONT, SIGALRM by kill(2); the terminal's own signals already reach the
// program's process group and are not sent twice) and ends the way the program
// did: its exit status, or its signal raised again in sealkit (128 + N when that
// signal does not end sealkit). Returns only when sealkit itself cannot start
// the program: `why` says why, and the caller exits 2.
int run(const char* path, char* const argv[], std::string& why);

}  // namespace sealkit::cli::run_supervise
