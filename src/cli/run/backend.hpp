// `sealkit run --backend kernel|seccomp|auto`: which backend the runtime seals
// with in the program's processes, passed to it as SEALKIT_BACKEND.
#pragma once

#include <string>

namespace sealkit::cli::run_backend {

// The backend to pass to the runtime for `requested` (kernel, seccomp or auto),
// or "" with `why` filled when sealkit run must refuse: auto on a kernel without
// mseal would pick the seccomp backend, and that sets no_new_privs (no
// CAP_SYS_ADMIN here), which the user has to ask for explicitly.
std::string choose_backend(const std::string& requested, std::string& why);

}  // namespace sealkit::cli::run_backend
