// Opening a file whose contents decide what is sealed, only when nobody but
// its owners could have put them there (and the log, only when nobody else
// could have put something else there): the path is walked from / one
// component at a time (openat with O_NOFOLLOW, then statx of what was
// opened), as sudo and sshd check their own files, so that no symbolic link
// and no directory someone else can write to stands between / and the file.
//
// The rule (docs/runtime.md, "Configuration"):
//   - every directory from / down is owned by root (kRoot) or by root or the
//     process's real user (kRootOrUser), and is not writable by its group or
//     by others, unless it has the sticky bit (as /tmp): there nobody but an
//     entry's owner and the directory's can rename or remove an entry, and the
//     entry is checked next;
//   - no component is a symbolic link, and none is "..";
//   - the file is a regular file, owned like the directories, not writable by
//     its group or by others.
// Freestanding (raw system calls, no allocation): the injected objects use it,
// and `sealkit run --config` checks the same rule with the same code.
#pragma once

#include <cstdint>
#include <string_view>

namespace sealkit::rt {

enum class Owners : std::uint8_t {
  kRoot,        // /etc/sealkit/runtime.conf: the administrator's file
  kRootOrUser,  // SEALKIT_CONFIG: root's or the real user's (`uid`)
};

struct TrustProblem {
  const char* what = nullptr;  // e.g. "is writable by its group or by others"; null: no problem
  std::string_view part;       // the path up to the component concerned (the whole path for the file)
  bool missing = false;        // a component does not exist (ENOENT)
};

// The file opened read-only (O_NONBLOCK, so that a FIFO cannot hang the
// process; O_CLOEXEC), or -1 with `why` filled.
int open_trusted(const char* path, Owners owners, std::uint32_t uid, TrustProblem& why);

// SEALKIT_LOG, which every process appends to by path, root's included: the
// same walk with the kRootOrUser rule (the rule of `sealkit run --log`,
// cli/safe_write.hpp), the file opened for appending (O_WRONLY|O_APPEND,
// created 0644 if missing; O_NOFOLLOW, O_NONBLOCK, O_CLOEXEC) and then a
// regular file of root's or the user's. Unlike a file that is read, it may be
// writable by others (a log shared by every user's processes). So another
// user's FIFO, file or link at the path, or a directory of theirs on the way,
// is refused rather than written to or waited on.
int open_trusted_append(const char* path, std::uint32_t uid, TrustProblem& why);

}  // namespace sealkit::rt
