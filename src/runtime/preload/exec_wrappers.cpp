// Every way glibc offers to start a program, wrapped so that under `sealkit
// run` the child starts sealed whatever the program did to its environment
// (exec_env.hpp: the envp handed on carries what `sealkit run` injected, and
// each repair is logged), after the notice of secure_exec_notice.hpp.
//
// - execve, execv, execveat, fexecve and the execl family: glibc's wrappers are
//   a system call and errno (the execl family builds argv on the stack and calls
//   glibc's internal __execve, which no wrapper sees), so they are made here the
//   same way. fexecve is execveat(fd, "", AT_EMPTY_PATH), with glibc's fallback
//   to /proc/self/fd/N on a kernel without execveat.
// - execvp, execvpe, execlp: the PATH search and the /bin/sh fallback for
//   scripts without #! stay glibc's (execvpe), given the repaired envp.
// - posix_spawn, posix_spawnp: glibc's, given the repaired envp.
// - system, popen: glibc's, which hand their own environ to an internal
//   posix_spawn; the injected variables are put back into environ first.
//
// Async-signal-safe where exec is (after vfork, or fork in a threaded parent):
// the envp is built in a stack buffer (exec_env.hpp), and glibc's execvpe is
// looked up at start-up under `sealkit run`, not at the call.
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

#include "runtime/preload/exec_env.hpp"
#include "runtime/preload/exec_wrappers.hpp"
#include "runtime/preload/next_function.hpp"
#include "runtime/preload/secure_exec_notice.hpp"
#include "runtime/text_out.hpp"

namespace pl = sealkit::rt::preload;

namespace {

using Execvpe = int (*)(const char*, char* const[], char* const[]);
using Spawn = int (*)(pid_t*, const char*, const posix_spawn_file_actions_t*, const posix_spawnattr_t*,
                      char* const[], char* const[]);
using System = int (*)(const char*);
using Popen = FILE* (*)(const char*, const char*);

// glibc's functions, found at the first call (or at start-up, resolve_exec_functions).
constinit std::atomic<Execvpe> g_execvpe{nullptr};
constinit std::atomic<Spawn> g_spawn{nullptr};
constinit std::atomic<Spawn> g_spawnp{nullptr};
constinit std::atomic<System> g_system{nullptr};
constinit std::atomic<Popen> g_popen{nullptr};

int no_function() {
  errno = ENOSYS;
  return -1;
}

// The exec system calls with the repaired envp; errno as glibc leaves it.
int exec_path(const char* call, const char* path, char* const argv[], char* const envp[]) {
  pl::EnvScratch scratch;
  pl::Repaired what;
  char* const* env = pl::repaired_environment(envp, scratch, what);
  pl::log_repaired_environment(call, path, what);
  return static_cast<int>(syscall(SYS_execve, path, argv, env));
}

int exec_search(const char* call, const char* file, char* const argv[], char* const envp[]) {
  const Execvpe f = pl::next_function(g_execvpe, "execvpe");
  if (f == nullptr) return no_function();
  pl::EnvScratch scratch;
  pl::Repaired what;
  char* const* env = pl::repaired_environment(envp, scratch, what);
  pl::log_repaired_environment(call, file, what);
  return f(file, argv, env);
}

int exec_at(const char* call, int dirfd, const char* path, char* const argv[], char* const envp[], int flags,
            const char* shown) {
  pl::EnvScratch scratch;
  pl::Repaired what;
  char* const* env = pl::repaired_environment(envp, scratch, what);
  pl::log_repaired_environment(call, shown, what);
  return static_cast<int>(syscall(SYS_execveat, dirfd, path, argv, env, flags));
}

int spawn(Spawn f, const char* call, bool search, pid_t* pid, const char* file, const posix_spawn_file_actions_t* actions,
          const posix_spawnattr_t* attr, char* const argv[], char* const envp[]) {
  if (f == nullptr) return ENOSYS;
  pl::say_if_exec_is_secure(file, search);
  pl::EnvScratch scratch;
  pl::Repaired what;
  char* const* env = pl::repaired_environment(envp, scratch, what);
  pl::log_repaired_environment(call, file, what);
  return f(pid, file, actions, attr, argv, env);
}

// "/proc/self/fd/N", as fexecve names an open file to the notice and to execve.
const char* fd_path(int fd, char (&buf)[32]) {
  sealkit::rt::TextOut o;
  o.str("/proc/self/fd/").num(static_cast<unsigned>(fd));
  const auto v = o.view();
  std::size_t n = v.size() < sizeof buf - 1 ? v.size() : sizeof buf - 1;
  for (std::size_t i = 0; i < n; ++i) buf[i] = v[i];
  buf[n] = '\0';
  return buf;
}

}  // namespace

namespace sealkit::rt::preload {

void resolve_exec_functions() { (void)pl::next_function(g_execvpe, "execvpe"); }

}  // namespace sealkit::rt::preload

// The execl family's arguments, up to the NULL, as an argv on the caller's
// stack (as glibc builds it); `envp_out` takes execle's envp after the NULL.
#define SEALKIT_COLLECT_ARGV(arg, argv, envp_out)                                 \
  std::size_t argc_ = 1;                                                          \
  {                                                                               \
    va_list ap_;                                                                  \
    va_start(ap_, arg);                                                           \
    while (va_arg(ap_, const char*) != nullptr) ++argc_;                          \
    va_end(ap_);                                                                  \
  }                                                                               \
  auto** argv = static_cast<char**>(__builtin_alloca((argc_ + 1) * sizeof(char*))); \
  argv[0] = const_cast<char*>(arg);                                               \
  {                                                                               \
    va_list ap_;                                                                  \
    va_start(ap_, arg);                                                           \
    for (std::size_t i_ = 1; i_ <= argc_; ++i_) argv[i_] = va_arg(ap_, char*);    \
    envp_out = va_arg(ap_, char* const*);                                         \
    va_end(ap_);                                                                  \
  }

extern "C" {

__attribute__((visibility("default"))) int execve(const char* path, char* const argv[], char* const envp[]) noexcept {
  pl::say_if_exec_is_secure(path, false);
  return exec_path("execve", path, argv, envp);
}

__attribute__((visibility("default"))) int execv(const char* path, char* const argv[]) noexcept {
  pl::say_if_exec_is_secure(path, false);
  return exec_path("execv", path, argv, environ);
}

__attribute__((visibility("default"))) int execvp(const char* file, char* const argv[]) noexcept {
  pl::say_if_exec_is_secure(file, true);
  return exec_search("execvp", file, argv, environ);
}

__attribute__((visibility("default"))) int execvpe(const char* file, char* const argv[], char* const envp[]) noexcept {
  pl::say_if_exec_is_secure(file, true);
  return exec_search("execvpe", file, argv, envp);
}

__attribute__((visibility("default"))) int execl(const char* path, const char* arg, ...) noexcept {
  char* const* unused = nullptr;
  SEALKIT_COLLECT_ARGV(arg, argv, unused)
  (void)unused;
  pl::say_if_exec_is_secure(path, false);
  return exec_path("execl", path, argv, environ);
}

__attribute__((visibility("default"))) int execle(const char* path, const char* arg, ...) noexcept {
  char* const* envp = nullptr;
  SEALKIT_COLLECT_ARGV(arg, argv, envp)
  pl::say_if_exec_is_secure(path, false);
  return exec_path("execle", path, argv, envp);
}

__attribute__((visibility("default"))) int execlp(const char* file, const char* arg, ...) noexcept {
  char* const* unused = nullptr;
  SEALKIT_COLLECT_ARGV(arg, argv, unused)
  (void)unused;
  pl::say_if_exec_is_secure(file, true);
  return exec_search("execlp", file, argv, environ);
}

__attribute__((visibility("default"))) int execveat(int dirfd, const char* path, char* const argv[],
                                                    char* const envp[], int flags) noexcept {
  // The notice looks the program up by path: only where that is the program.
  if (path[0] == '/' || dirfd == AT_FDCWD) pl::say_if_exec_is_secure(path, false);
  return exec_at("execveat", dirfd, path, argv, envp, flags, path);
}

__attribute__((visibility("default"))) int fexecve(int fd, char* const argv[], char* const envp[]) noexcept {
  if (fd < 0 || envp == nullptr) {  // glibc's checks (argv is declared non-null)
    errno = EINVAL;
    return -1;
  }
  char proc[32];
  fd_path(fd, proc);
  pl::say_if_exec_is_secure(proc, false);
  exec_at("fexecve", fd, "", argv, envp, AT_EMPTY_PATH, proc);
  if (errno != ENOSYS) return -1;
  // A kernel without execveat: glibc's own fallback.
  return exec_path("fexecve", proc, argv, envp);
}

__attribute__((visibility("default"))) int posix_spawn(pid_t* pid, const char* path,
                                                       const posix_spawn_file_actions_t* actions,
                                                       const posix_spawnattr_t* attr, char* const argv[],
                                                       char* const envp[]) {
  return spawn(pl::next_function(g_spawn, "posix_spawn"), "posix_spawn", false, pid, path, actions, attr, argv, envp);
}

__attribute__((visibility("default"))) int posix_spawnp(pid_t* pid, const char* file,
                                                        const posix_spawn_file_actions_t* actions,
                                                        const posix_spawnattr_t* attr, char* const argv[],
                                                        char* const envp[]) {
  return spawn(pl::next_function(g_spawnp, "posix_spawnp"), "posix_spawnp", true, pid, file, actions, attr, argv, envp);
}

__attribute__((visibility("default"))) int system(const char* command) {
  const System f = pl::next_function(g_system, "system");
  if (f == nullptr) return no_function();
  if (command != nullptr) pl::repair_own_environment("system");
  return f(command);
}

__attribute__((visibility("default"))) FILE* popen(const char* command, const char* mode) {
  const Popen f = pl::next_function(g_popen, "popen");
  if (f == nullptr) {
    errno = ENOSYS;
    return nullptr;
  }
  pl::repair_own_environment("popen");
  return f(command, mode);
}

}  // extern "C"
