// Which backend the runtime seals with: the kernel's mseal(2), or one seccomp
// filter (docs/runtime.md, "The runtime on the seccomp backend"). `sealkit
// run --backend` passes the choice as SEALKIT_BACKEND, which the runtime
// reads only outside secure execution (as every setting).
#pragma once

#include <cstdint>
#include <string_view>

namespace sealkit::rt::seccomp {

enum class Backend : std::uint8_t { kKernel, kSeccomp };

// `setting` is SEALKIT_BACKEND's value ("" when unset or not read): kernel,
// seccomp or auto. auto (and anything else, with `invalid` set) is the
// kernel's mseal when mseal(0, 0, 0) succeeds, else the filter where this
// architecture has it (x86_64) and installing it changes nothing else
// (CAP_SYS_ADMIN, or no_new_privs already set), else the kernel (whose ENOSYS
// is then logged). `sealkit run` always passes kernel or seccomp.
Backend choose_backend(std::string_view setting, bool& invalid);

inline const char* name_of(Backend b) { return b == Backend::kSeccomp ? "seccomp" : "kernel"; }

}  // namespace sealkit::rt::seccomp
