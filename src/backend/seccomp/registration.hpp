// The sealing side of the supervisor protocol (registration_proto.hpp,
// docs/seccomp-exec.md): a process under the supervisor's root filter seals by
// registering its ranges, and the supervisor enforces them for this image
// (and its forked children) only.
//
// Freestanding: raw system calls only, no libc, no allocation, no errno, so
// that the libc-free runtime (src/runtime) can call it as the library does.
#pragma once

#include <cstddef>
#include <cstdint>

#include "backend/seccomp/filter.hpp"

namespace sealkit::backend::seccomp::registration {

// The fd number in `text` (SEALKIT_SUPERVISOR_FD's value: decimal, 0 to 2^20),
// or -1 when there is none or it is malformed.
int parse_supervisor_fd(const char* text) noexcept;

// Registers `ranges` (page-aligned, at most kMaxWireRanges) with the supervisor
// listening on `socket_fd`, and waits for its answer (10 s at most). On 0, the
// image token is mapped at `token` (read-only, registration_proto.hpp): it is part of the seal
// (the supervisor refuses unmapping or changing it) and what tells this image
// and its forked children apart from any later image. Otherwise an errno, with
// nothing mapped: EINVAL (bad input), ENOTSOCK/EBADF/ECONNREFUSED/EPIPE (no
// supervisor on that fd), ETIMEDOUT (no answer), EMFILE/ENOMEM (this process's
// limits), or the supervisor's own refusal (ENOMEM: too many ranges for it).
int register_seal(int socket_fd, const SealedRange* ranges, std::size_t count, SealedRange& token) noexcept;

}  // namespace sealkit::backend::seccomp::registration
