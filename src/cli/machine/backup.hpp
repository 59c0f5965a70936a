// What `sealkit enable` keeps so that `sealkit disable` puts /etc/ld.so.preload
// back byte for byte, "did not exist" included. In /var/lib/sealkit/ (root's,
// mode 0755; state of the machine, not configuration):
//
//   ld.so.preload.before   the file's bytes before enable, when it existed
//   ld.so.preload.absent   an empty file, when it did not
//
// One of the two exists from enable's write to disable's; its mtime is when
// the line was written. Written through safe_write (a new file created
// exclusively, renamed into place, no link followed).
#pragma once

#include <string>

namespace sealkit::cli::machine {

inline constexpr const char* kStateDir = "/var/lib/sealkit";

struct Backup {
  bool present = false;  // enable left one
  bool existed = false;  // the file existed before enable
  std::string text;      // its bytes then
};

// False with `error` when one is there but cannot be read.
bool read_backup(Backup& out, std::string& error);

// Replaces whatever backup there is (one left by an enable whose line is no
// longer in the file) with `before`. False with `error`.
bool write_backup(bool existed, const std::string& text, std::string& error);

bool remove_backup(std::string& error);

}  // namespace sealkit::cli::machine
