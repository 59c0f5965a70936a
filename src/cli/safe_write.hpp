// Every file the CLI writes goes through here (`audit --output`, `map --svg`,
// `map --html`), and so does the directory of the log it hands to the
// runtime (`run --log`). sealkit often runs as root, from timers, into
// directories that other services read (node_exporter's textfile
// collector): a link or a swapped directory planted by another user must
// not turn such a write into one over a file of root's. The rule, in
// docs/cli.md ("Files sealkit writes"):
//
// - The path is walked from / one component at a time with O_NOFOLLOW, each
//   directory held open and the next one opened relative to it, so nothing
//   can be swapped between a check and its use. Every directory on the way
//   and every symbolic link followed must be owned by root or by the caller
//   (the effective uid), and no directory may be writable by group or others
//   unless it is sticky (like /tmp, whose entries only their owners can
//   rename). Only root or the caller could then have put a link there.
// - The directory that holds a file sealkit replaces must moreover not be
//   writable by group or others at all, sticky or not.
// - The file is written to a new temporary name (random, created with
//   O_CREAT|O_EXCL|O_NOFOLLOW relative to the directory's descriptor), gets
//   its mode by fchmod (0644 less the umask), is fsynced, renamed over FILE
//   with renameat, and the directory is fsynced. A reader sees the old file
//   or the new one, whole. An existing FILE must be a regular file: a link
//   there (/dev/stdout, or one planted) is neither followed nor replaced.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace sealkit::cli {

// Replaces `path` with a file holding `text`, of mode `mode` (by default 0644
// less the umask; /etc/ld.so.preload must be readable by every user whatever
// root's umask, or ld.so ignores it in their processes). False with `error`
// saying what was wrong and what to do ("refusing to write ...", "cannot
// write ...").
bool write_file_safely(const std::string& path, std::string_view text, std::string& error,
                       std::optional<mode_t> mode = std::nullopt);

// For a file that is appended to in place by others on sealkit's behalf
// (`run --log`): the path rule for every directory up to the one that holds
// `path` (sticky allowed there too: nothing is renamed in it), and `path`
// itself, if it exists, a regular file (not a link) owned by root or the
// caller. False with `error` as above. `physical` is then the path with no
// link and no "." or ".." in it, as the runtime's walk wants it
// (runtime/trusted_file.hpp): what to hand to it.
bool check_append_path(const std::string& path, std::string& error, std::string& physical);

}  // namespace sealkit::cli
