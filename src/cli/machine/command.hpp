// Running a system program for `sealkit enable`, `disable` and `status`
// (ldconfig, and the canaries): by its absolute path, with a fixed
// environment (nothing of the caller's, so no LD_* or locale of theirs
// reaches it), stdin from /dev/null, no descriptor but 0-2, stdout and stderr
// captured whole (in memory files, so that a full pipe never blocks it), and
// a time limit (an alarm, which exec keeps).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace sealkit::cli::machine {

struct Ran {
  int status = -1;  // the exit status, or 128 + the signal that ended it
  std::string out, err;
};

struct RunAs {
  bool switch_user = false;  // run as `uid`/`gid` with no supplementary groups
  uid_t uid = 0;
  gid_t gid = 0;
};

// False with `error` when the program could not be started at all (fork, or
// execve: "No such file", "Exec format error"); `exec_errno` then holds
// execve's errno (0 when it was not execve that failed).
bool run_command(const std::vector<std::string>& argv, Ran& out, std::string& error, const RunAs& as = {},
                 unsigned timeout_seconds = 30, int* exec_errno = nullptr);

// The first of `candidates` that exists and is executable; empty when none.
std::string find_program(const std::vector<std::string>& candidates);

}  // namespace sealkit::cli::machine
