// Whether this process may call seccomp(2) at all: not a question until some
// other program's filter is already in place (a systemd service's
// SystemCallFilter=, a container runtime's profile). An allow-list that does
// not name seccomp kills the process at the call (systemd's @system-service
// does, with SIGSYS), so the library asks in a throwaway child first. The
// same holds for the calls that look for tasks sharing the address space
// (mm_sharers.hpp: kcmp, getdents64 of /proc), which every seal makes.
#pragma once

namespace sealkit::backend::seccomp {

// nullptr when no filter is in place, or when a child of this process made
// both kinds of seccomp(2) call the backend makes and the look for tasks
// sharing the address space, and was neither killed nor refused; else why
// not, for `sealkit probe` and the docs. Costs one fork
// (without this process's atfork handlers) when a filter is in place; the
// caller keeps the answer.
const char* existing_filter_refuses_seccomp() noexcept;

}  // namespace sealkit::backend::seccomp
