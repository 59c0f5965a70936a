// The wire format between a sealing process and the supervisor
// (docs/seccomp-exec.md "Registration"). Shared by the freestanding client
// (registration.cpp) and the supervisor (supervisor.cpp).
//
// A seal is registered as one SOCK_SEQPACKET message on the inherited socket
// (fd number in SEALKIT_SUPERVISOR_FD): a Request header, with two fds
// (SCM_RIGHTS): a reply socket (one end of a fresh socketpair, so that the
// answer reaches this caller and no other process sharing the inherited
// socket) and the image token: a sealed memfd named kTokenName whose contents
// are a TokenHeader and the sealed ranges, mapped whole, read-only and shared,
// in the caller at Request::token_address (token_length bytes). The supervisor answers with one Reply.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sealkit::backend::seccomp::registration {

inline constexpr char kSupervisorFdEnv[] = "SEALKIT_SUPERVISOR_FD";
// /proc/PID/maps shows the token as "/memfd:sealkit-token (deleted)".
inline constexpr char kTokenName[] = "sealkit-token";
inline constexpr char kTokenMapsPath[] = "/memfd:sealkit-token";
inline constexpr std::uint32_t kMagic = 0x53564b53;  // "SKVS"
inline constexpr std::uint32_t kVersion = 1;
inline constexpr std::size_t kMaxWireRanges = 4096;
inline constexpr std::size_t kTokenPage = 4096;

struct Request {
  std::uint32_t magic = kMagic;
  std::uint32_t version = kVersion;
  std::uint64_t token_address = 0;  // where the caller mapped the token (token_length bytes, read-only, shared)
};

struct WireRange {
  std::uint64_t start = 0;  // page-aligned
  std::uint64_t end = 0;    // page-aligned, exclusive
  std::uint64_t flags = 0;  // kDiscardProtected
};
inline constexpr std::uint64_t kDiscardProtected = 1;

struct TokenHeader {
  std::uint32_t magic = kMagic;
  std::uint32_t version = kVersion;
  std::uint64_t count = 0;  // WireRange entries that follow
  // Random (getrandom), so that the supervisor can check with one read of the
  // caller's memory that a token it saw there before is still there (the
  // caller has not exec'd) instead of reading /proc/PID/maps again.
  std::uint8_t nonce[16] = {};
};

// The token is mapped whole (so that a reader of the process, `sealkit audit`
// for one, finds every range in it): this many bytes, read-only, shared.
inline constexpr std::size_t token_length(std::size_t count) noexcept {
  const std::size_t bytes = sizeof(TokenHeader) + count * sizeof(WireRange);
  return (bytes + kTokenPage - 1) / kTokenPage * kTokenPage;
}

struct Reply {
  std::uint32_t magic = kMagic;
  std::int32_t error = 0;  // 0: registered (the supervisor enforces it), else an errno
};

}  // namespace sealkit::backend::seccomp::registration
