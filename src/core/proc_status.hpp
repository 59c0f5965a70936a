// /proc/PID/status, read cheaply and parsed: what the audit needs of every
// process (the seccomp lines, the name) and the supervisor of the seccomp
// backend needs to tell which processes can be in its tree.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace sealkit::core {

// The lines of /proc/PID/status that decide whether to look at filters.
struct SeccompStatus {
  int mode = -1;        // Seccomp: 0 none, 1 strict, 2 filter; -1 when the line is missing
  long filters = -1;    // Seccomp_filters: (5.9+); -1 when missing
  pid_t tracer = 0;     // TracerPid:
  char state = '?';     // State:
  long uid = -1;        // Uid: the real one (who started it); -1 when missing
  long euid = -1;       // Uid: the effective one (whose rights it has); -1 when missing
};
// nullopt with errno set when the file cannot be read or has no State line.
std::optional<SeccompStatus> read_seccomp_status(pid_t pid);
// The same for a status text (tests).
std::optional<SeccompStatus> parse_seccomp_status(std::string_view text);
// Reads /proc/PID/status into `text` (kept by the caller across processes); false with errno set.
bool read_status_text(pid_t pid, std::string& text);
// The process's comm from the status "Name:" line, unescaped: the kernel
// writes '\n' and '\\' for newline and backslash (octal \012, \134 before
// 5.x); nullopt when there is no Name line. The audit reads status instead of
// comm when it looks at filters, so that a process costs one file, not two.
std::optional<std::string> status_name(std::string_view text);

// The value after "Name:" and tabs, up to the end of the line; nullopt when absent.
std::optional<std::string_view> status_field(std::string_view text, std::string_view name);
// The same as a decimal number; nullopt when absent or not a number.
std::optional<long> status_number(std::string_view text, std::string_view name);
// A status-like file read whole (at most 1 MiB): for /proc/self/status.
bool read_status_file(const char* path, std::string& out);

}  // namespace sealkit::core
