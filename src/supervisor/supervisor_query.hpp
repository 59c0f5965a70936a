// `sealkit audit` asking a supervisor (docs/seccomp-exec.md) what it would
// refuse for a process: under `sealkit run --backend seccomp` the root filter
// hands every guarded call to the supervisor, so the filter alone cannot say
// what is sealed (docs/audit.md, "Supervised processes").
//
// One datagram each way on an AF_UNIX SOCK_DGRAM socket in the abstract
// namespace, "sealkit-supervisor-PID" (PID: the supervisor's). Names prove
// nothing there, and any user can send to any name, so both ends check the
// kernel's word (SCM_CREDENTIALS): the supervisor answers root with the
// ranges, its own user (its owner) with EPERM, and nobody else at all (the
// question is read and dropped: one recvmsg is all another user's datagram
// costs); the asker connects its socket to the supervisor's name, so that no
// one else can send to it (or fill its queue and make the answer miss it),
// accepts an answer only from the pid it addressed, and only addresses a
// process running the asker's own executable. The answer: for each record
// whose token the process maps, the ranges the supervisor built that record's
// program from (the same generator: the asker rebuilds the very programs).
// Everything is bounded: the answer's size, the questions read per round of
// the supervisor's loop, and the asker's wait, sending included.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "backend/seccomp/filter.hpp"

namespace sealkit::backend::seccomp::query {

inline constexpr char kNamePrefix[] = "sealkit-supervisor-";
inline constexpr std::uint32_t kMagic = 0x51564b53;  // "SKVQ"
inline constexpr std::uint32_t kVersion = 1;
inline constexpr std::size_t kMaxRanges = 4096;  // in one answer (98 KiB): more is E2BIG

struct Request {
  std::uint32_t magic = kMagic;
  std::uint32_t version = kVersion;
  std::int32_t pid = 0;  // whose records, in the supervisor's pid namespace
  std::uint32_t reserved = 0;
};

struct ReplyHeader {
  std::uint32_t magic = kMagic;
  std::uint32_t version = kVersion;
  std::int32_t error = 0;  // 0, or why there is no answer (ESRCH: maps unreadable, E2BIG, EPERM)
  std::uint32_t count = 0;  // WireRange entries that follow
};

struct WireRange {
  std::uint64_t start = 0, end = 0;  // page-aligned, exclusive end
  std::uint32_t flags = 0;           // kDiscardProtected
  std::uint32_t record = 0;          // which record: 0, 1, ... in order
};
inline constexpr std::uint32_t kDiscardProtected = 1;

// The supervisor's side: a bound, non-blocking socket for this process's
// name, or -1 (errno set).
int open_socket();
// Reads one request from `fd` and answers it through `ranges_of`, which fills
// the ranges of the records of a pid (false: unreadable): to root; `owner`
// (the supervisor's user) gets EPERM, anyone else nothing.
using RangesOf = bool (*)(void* context, pid_t pid, std::vector<WireRange>& out);
enum class Served : std::uint8_t {
  kNothing,   // no message waiting
  kDropped,   // from another user (or without credentials): read, not answered
  kAnswered,  // answered: the ranges, or an error
};
Served serve_one(int fd, uid_t owner, RangesOf ranges_of, void* context);

// The asker's side.
struct Answer {
  std::vector<std::vector<SealedRange>> records;  // each record's ranges, as the supervisor built its program
  std::string error;                              // empty when answered
};
// Whether `pid` runs this very executable: the only processes ask() addresses.
bool runs_this_executable(pid_t pid);
// Asks the supervisor `supervisor` about `target`, waiting at most timeout_ms.
Answer ask(pid_t supervisor, pid_t target, int timeout_ms);

}  // namespace sealkit::backend::seccomp::query
