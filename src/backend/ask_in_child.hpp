// Asking a question whose system calls may kill the asker.
//
// Under a seccomp filter someone else installed (a service manager's
// SystemCallFilter=, a container runtime's profile), a call the filter does
// not allow may end the process (SIGSYS) instead of failing: an allow-list
// without an error number kills. A library cannot know which calls such a
// filter allows without making them, so it makes them in a throwaway child.
#pragma once

namespace sealkit::backend {

// Runs `question` in a child made with clone (no pthread_atfork handlers of
// the program run, and no SIGCHLD: a program reaping every child with
// waitpid(-1, ...) does not take this one), with SIGSYS at its default, so
// that a filter's SECCOMP_RET_TRAP ends the child instead of running a handler
// the program installed. `question` makes raw system calls only and returns
// the child's exit code (0..255). The answer: that code, -N when the child was
// killed by signal N, or kNoChild.
constexpr int kNoChild = -1000;
int ask_in_child(int (*question)()) noexcept;

// Whether this process runs under a seccomp filter (prctl PR_GET_SECCOMP).
bool under_seccomp_filter() noexcept;

}  // namespace sealkit::backend
