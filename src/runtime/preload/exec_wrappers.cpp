// execve, execv, execvp and execvpe: the notice of secure_exec_notice.hpp, then
// the exec itself. execve and execv are glibc's thinnest wrappers, a system
// call and errno, so they are made here the same way; execvp and execvpe (the
// PATH search, the /bin/sh fallback for scripts without #!) stay glibc's, found
// once with dlsym. Other ways to start a program (posix_spawn, the execl
// family) reach the kernel through glibc's internal names and get no notice.
#include <dlfcn.h>
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

#include "runtime/preload/secure_exec_notice.hpp"

namespace pl = sealkit::rt::preload;

namespace {

using Execvpe = int (*)(const char*, char* const[], char* const[]);

// glibc's execvpe, found at the first call: racing threads only repeat the
// same dlsym.
constinit std::atomic<Execvpe> g_real_execvpe{nullptr};

Execvpe real_execvpe() {
  Execvpe f = g_real_execvpe.load(std::memory_order_relaxed);
  if (f == nullptr) {
    f = reinterpret_cast<Execvpe>(dlsym(RTLD_NEXT, "execvpe"));
    g_real_execvpe.store(f, std::memory_order_relaxed);
  }
  return f;
}

int execvpe_real(const char* file, char* const argv[], char* const envp[]) {
  const Execvpe f = real_execvpe();
  if (f == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  return f(file, argv, envp);
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) int execve(const char* path, char* const argv[], char* const envp[]) noexcept {
  pl::say_if_exec_is_secure(path, false);
  return static_cast<int>(syscall(SYS_execve, path, argv, envp));
}

__attribute__((visibility("default"))) int execv(const char* path, char* const argv[]) noexcept {
  pl::say_if_exec_is_secure(path, false);
  return static_cast<int>(syscall(SYS_execve, path, argv, environ));
}

__attribute__((visibility("default"))) int execvp(const char* file, char* const argv[]) noexcept {
  pl::say_if_exec_is_secure(file, true);
  return execvpe_real(file, argv, environ);
}

__attribute__((visibility("default"))) int execvpe(const char* file, char* const argv[], char* const envp[]) noexcept {
  pl::say_if_exec_is_secure(file, true);
  return execvpe_real(file, argv, envp);
}

}  // extern "C"
