#include "runtime/preload/secure_exec_notice.hpp"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <string_view>

#include "core/secure_exec.hpp"
#include "runtime/text_out.hpp"

namespace sealkit::rt::preload {

namespace {

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
  if (const char* why = program != nullptr ? core::secure_exec_reason(program) : nullptr) {
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
