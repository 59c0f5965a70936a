// Starting a program under a supervisor (docs/seccomp-exec.md): fork; the
// child installs the root filter, hands its listener to the parent and execs
// the program with the registration socket inherited (SEALKIT_SUPERVISOR_FD);
// the parent supervises. Used by `sealkit run --backend seccomp` and the tests.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "supervisor/supervisor.hpp"

namespace sealkit::backend::seccomp {

struct SupervisedChild {
  pid_t pid = -1;
  int pidfd = -1;  // readable once the child has exited (pidfd_open, 5.3+)
  std::unique_ptr<Supervisor> supervisor;
  int error = 0;      // 0, or the errno of the step below
  std::string step;   // what failed, for the message
};

// Forks and execs `path` with `argv` (execv: no PATH search) under the root
// filter. The child is killed (SIGKILL) if the caller dies: without its
// supervisor it could not work anyway. On failure before the exec nothing keeps running: the child has
// exited and been reaped, and `error`/`step` say why (an exec failure is the
// child's exit status 127, as a shell reports it).
SupervisedChild spawn_supervised(const char* path, char* const argv[]);

// Supervises until `child` has exited: returns its wait status (waitpid).
// `interrupted`, when set between rounds (a signal handler), is not cleared:
// the caller checks it. Supervision of what is left (descendants still
// running) is then the caller's: see keep_supervising_in_background().
int supervise_until_exit(SupervisedChild& child);

// After the child has exited: when descendants still hold the root filter,
// forks a process that supervises them until the last one exits (stdin,
// stdout and stderr on /dev/null, so a pipe reader sees its end), and returns
// in the caller at once. Returns whether one was started.
bool keep_supervising_in_background(SupervisedChild& child);

}  // namespace sealkit::backend::seccomp
