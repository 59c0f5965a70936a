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

// Why the socket `socket_fd` cannot be the supervisor's, or null when it may
// be. SEALKIT_SUPERVISOR_FD is the environment's word; this is the kernel's:
// an AF_UNIX SOCK_SEQPACKET socket whose peer credentials (SO_PEERCRED,
// recorded when `sealkit run` made the pair, before it started the program)
// are root's or this process's real user's and name an ancestor of this
// process, or a process that is gone (`sealkit run` exits when its program
// does, leaving a forked copy to serve the daemons); and this process under a
// seccomp filter (the supervisor's root filter comes first). A socket that
// fails is sent nothing. One that passes still proves itself at each
// registration: register_seal checks that the kernel then refuses a change to
// the token, and answers EPROTO when it does not (docs/seccomp-exec.md).
const char* untrusted_supervisor(int socket_fd) noexcept;

// Registers `ranges` (page-aligned, at most kMaxWireRanges) with the supervisor
// listening on `socket_fd`, and waits for its answer (10 s at most). On 0, the
// image token is mapped at `token` (read-only, registration_proto.hpp): it is part of the seal
// (the supervisor refuses unmapping or changing it) and what tells this image
// and its forked children apart from any later image. Otherwise an errno, with
// nothing mapped: EINVAL (bad input), ENOTSOCK/EBADF/ECONNREFUSED/EPIPE (no
// supervisor on that fd), ETIMEDOUT (no answer), EMFILE/ENOMEM (this process's
// limits), the supervisor's own refusal (ENOMEM: too many ranges for it), or
// EPROTO: the peer answered "registered" but nothing enforces it (the kernel
// lets the token be changed): not the supervisor.
int register_seal(int socket_fd, const SealedRange* ranges, std::size_t count, SealedRange& token) noexcept;

}  // namespace sealkit::backend::seccomp::registration
