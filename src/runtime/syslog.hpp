// The system log, for the runtime's warnings outside `sealkit run`
// (docs/runtime.md, "Warnings"): machine-wide the runtime runs in every
// process, and a program's stderr belongs to whoever reads it.
//
// One datagram per line to /dev/log (journald and rsyslog read it):
// `<12>sealkit[PID]: MESSAGE` (LOG_USER | LOG_WARNING; journald adds _PID,
// _COMM and _EXE from the socket's credentials). Never blocking, never
// retried: any failure drops the line. Never from under a seccomp filter: an
// allow-list (systemd's SystemCallFilter=) may not list the socket calls,
// and the runtime must not be the one to make a call the filter kills for.
//
// Freestanding (raw system calls only): both injected objects use it.
#pragma once

#include <string_view>

#include "runtime/process_info.hpp"

namespace sealkit::rt {

// LOG_USER | LOG_WARNING (a warning) and LOG_USER | LOG_INFO (the start-up line).
inline constexpr int kSyslogWarning = 12, kSyslogInfo = 14;

// Sends `message` as one line; false when it was dropped.
bool syslog_send(std::string_view message, int priority = kSyslogWarning);

// warn()'s sink outside `sealkit run` (set_warning_sink), with the limits:
// - at most 4 lines per process; a fifth warning sends one last line,
//   "further warnings of this process are not logged", and later ones nothing;
// - a warning about /etc/sealkit/runtime.conf (WarningAbout::kSystemFile),
//   which every process of the machine would give, is logged only by a root
//   process, and only by the first one a minute: the stamp file
//   /run/sealkit/config-warning (root's, a regular file) holds when one last
//   did. Other processes drop it.
void warn_to_syslog(std::string_view what, WarningAbout about);

}  // namespace sealkit::rt
