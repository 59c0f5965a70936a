// Whether exec of a program by this process starts it in secure execution
// (AT_SECURE), where ld.so ignores LD_AUDIT and LD_PRELOAD. The kernel's rule:
// the effective ids change away from the real ones, or file capabilities are
// granted; never on a nosuid mount or under no_new_privs. Header-only and
// allocation-free: the preload object's exec wrappers (which may run in a vfork
// child) and `sealkit run` ask the same question.
#pragma once

#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace sealkit::core {

// "set-user-ID", "set-group-ID" or "file capabilities"; null when exec of
// `path` (followed as exec follows it) will not be secure execution.
inline const char* secure_exec_reason(const char* path) {
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 0111) == 0) return nullptr;
  if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1) return nullptr;
  struct statvfs mount;
  if (statvfs(path, &mount) == 0 && (mount.f_flag & ST_NOSUID) != 0) return nullptr;
  if ((st.st_mode & S_ISUID) != 0 && st.st_uid != getuid()) return "set-user-ID";
  if ((st.st_mode & S_ISGID) != 0 && (st.st_mode & S_IXGRP) != 0 && st.st_gid != getgid()) return "set-group-ID";
  if (getuid() != 0 && getxattr(path, "security.capability", nullptr, 0) > 0) return "file capabilities";
  return nullptr;
}

}  // namespace sealkit::core
