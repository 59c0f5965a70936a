// A program started for inspection while it runs, and its VMAs as
// /proc/PID/smaps shows them (read here with plain string code, not with the
// library's parser, so that the tests check sealkit against the kernel).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sealkit::test {

struct Vma {
  std::uint64_t begin = 0, end = 0;
  std::string perms, path;
  bool sealed = false;
  std::string range() const;  // "begin-end" in hex, as smaps prints it
  bool operator==(const Vma&) const = default;
};

std::vector<Vma> smaps_of(pid_t pid);

// Starts `argv` (with `env` NAME=VALUE strings added), waits for "ready" on
// its stdout, and keeps the pid of the process that printed it (an exec'd
// program keeps the pid). Closing stdin (the destructor) lets it exit.
struct Live {
  pid_t pid = -1;
  int stdin_w = -1;
  int stdout_r = -1;
  bool ready = false;
  Live() = default;
  Live(const Live&) = delete;
  Live& operator=(const Live&) = delete;
  ~Live();
};

// false (with `why`) when the program did not print "ready".
bool start_live(Live& l, const std::vector<std::string>& argv, const std::vector<std::string>& env, std::string& why);

}  // namespace sealkit::test
