#include "runtime/preload/secure_exec_notice.hpp"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <string_view>

#include "runtime/text_out.hpp"

namespace sealkit::rt::preload {

namespace {

// The kernel sets AT_SECURE for the new image when it changes the effective
// ids away from the real ones, or grants file capabilities. None of that
// happens on a nosuid mount or under no_new_privs.
const char* why_secure(const char* path) {
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 0111) == 0) return nullptr;
  if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1) return nullptr;
  struct statvfs fs;
  if (statvfs(path, &fs) == 0 && (fs.f_flag & ST_NOSUID) != 0) return nullptr;
  if ((st.st_mode & S_ISUID) != 0 && st.st_uid != getuid()) return "set-user-ID";
  if ((st.st_mode & S_ISGID) != 0 && (st.st_mode & S_IXGRP) != 0 && st.st_gid != getgid()) return "set-group-ID";
  if (getuid() != 0 && getxattr(path, "security.capability", nullptr, 0) > 0) return "file capabilities";
  return nullptr;
}

// PATH as execvp searches it (glibc's default without PATH: /bin:/usr/bin).
// The first executable file found is what execvp will run.
bool resolve(const char* file, char (&out)[PATH_MAX]) {
  const char* path = getenv("PATH");
  if (path == nullptr) path = "/bin:/usr/bin";
  const std::size_t flen = strlen(file);
  for (const char* p = path;; ++p) {
    const char* end = strchrnul(p, ':');
    const std::size_t dlen = static_cast<std::size_t>(end - p);
    if (dlen + 1 + flen + 1 <= sizeof out) {
      std::size_t n = 0;
      if (dlen == 0) {
        out[n++] = '.';  // an empty entry is the current directory
      } else {
        memcpy(out, p, dlen);
        n = dlen;
      }
      out[n++] = '/';
      memcpy(out + n, file, flen + 1);
      if (access(out, X_OK) == 0) return true;
    }
    if (*end == '\0') return false;
    p = end;
  }
}

}  // namespace

void say_if_exec_is_secure(const char* path, bool search) {
  if (path == nullptr || *path == '\0' || !started_by_sealkit_run()) return;
  const int saved = errno;
  char found[PATH_MAX];
  const char* program = path;
  if (search && strchr(path, '/') == nullptr) program = resolve(path, found) ? found : nullptr;
  if (const char* why = program != nullptr ? why_secure(program) : nullptr) {
    TextOut o;
    o.str("sealkit: warning: ").printable(program).str(" runs in secure execution (").str(why)
        .str("): ld.so ignores LD_AUDIT and LD_PRELOAD there, so sealkit run does not seal it or what it starts"
             " (docs/runtime.md, \"Limits\")\n");
    const std::string_view v = o.view();
    (void)!write(2, v.data(), v.size());
  }
  errno = saved;
}

}  // namespace sealkit::rt::preload
