// The libc functions through which a program makes glibc load objects by
// itself (__libc_dlopen, not dlopen), wrapped so that those objects are
// sealed before the program can use them:
//
// - NSS: the name-service lookups load the modules /etc/nsswitch.conf names
//   (libnss_systemd.so.2 and its dependencies, libnss_compat.so.2, ...) at a
//   database's first lookup; sealed before the lookup returns.
// - gconv: iconv_open loads the conversion modules (gconv/*.so) and calls
//   their gconv_init; sealed before iconv_open returns, before the first
//   conversion.
// - libgcc_s: pthread_cancel, pthread_exit and backtrace load the unwinder;
//   it is loaded and sealed before the call, so its code is sealed before it
//   first runs (glibc_loads.hpp).
//
// A wrapper costs one look at ld.so's load counters after the call (about
// the price of a dl_iterate_phdr that stops at the first object); a pass
// runs only when the call loaded something. What these do not reach (libc's
// own internal uses, such as a wide-character conversion in a locale whose
// charset is a gconv module, or the NSS databases not listed here) is sealed
// at the next wrapped call or dlopen (docs/runtime.md, "Objects loaded later").
//
// The declarations come from libc's headers: a wrapper whose type differs
// from its function's does not compile (one C function, two types).
#include <errno.h>
#include <execinfo.h>
#include <grp.h>
#include <iconv.h>
#include <netdb.h>
#include <pthread.h>
#include <pwd.h>
#include <shadow.h>
#include <sys/socket.h>

#include <atomic>

#include "runtime/preload/glibc_loads.hpp"
#include "runtime/preload/next_function.hpp"

namespace pl = sealkit::rt::preload;

// RET NAME PARAMS: calls libc's NAME with ARGS, then seals what it loaded.
// FAIL is returned, with errno ENOSYS, if libc has no NAME (never with glibc).
#define SEALKIT_SEAL_AFTER(ret, name, params, args, fail)                              \
  extern "C" __attribute__((visibility("default"))) ret name params {                  \
    static constinit std::atomic<ret(*) params> next{nullptr};                         \
    const auto sealkit_next = pl::next_function(next, #name);                         \
    if (sealkit_next == nullptr) {                                                     \
      errno = ENOSYS;                                                                  \
      return fail;                                                                     \
    }                                                                                  \
    ret sealkit_result = sealkit_next args;                                            \
    pl::seal_what_glibc_loaded();                                                      \
    return sealkit_result;                                                             \
  }

#define SEALKIT_SEAL_AFTER_VOID(name, params, args)                  \
  extern "C" __attribute__((visibility("default"))) void name params { \
    static constinit std::atomic<void(*) params> next{nullptr};      \
    if (const auto sealkit_next = pl::next_function(next, #name)) sealkit_next args; \
    pl::seal_what_glibc_loaded();                                    \
  }

// passwd, group, shadow
SEALKIT_SEAL_AFTER(passwd*, getpwnam, (const char* n), (n), nullptr)
SEALKIT_SEAL_AFTER(passwd*, getpwuid, (uid_t u), (u), nullptr)
SEALKIT_SEAL_AFTER(int, getpwnam_r, (const char* n, passwd* p, char* b, size_t s, passwd** r), (n, p, b, s, r), ENOSYS)
SEALKIT_SEAL_AFTER(int, getpwuid_r, (uid_t u, passwd* p, char* b, size_t s, passwd** r), (u, p, b, s, r), ENOSYS)
SEALKIT_SEAL_AFTER(passwd*, getpwent, (), (), nullptr)
SEALKIT_SEAL_AFTER(int, getpwent_r, (passwd* p, char* b, size_t s, passwd** r), (p, b, s, r), ENOSYS)
SEALKIT_SEAL_AFTER_VOID(setpwent, (), ())
SEALKIT_SEAL_AFTER(group*, getgrnam, (const char* n), (n), nullptr)
SEALKIT_SEAL_AFTER(group*, getgrgid, (gid_t g), (g), nullptr)
SEALKIT_SEAL_AFTER(int, getgrnam_r, (const char* n, group* g, char* b, size_t s, group** r), (n, g, b, s, r), ENOSYS)
SEALKIT_SEAL_AFTER(int, getgrgid_r, (gid_t i, group* g, char* b, size_t s, group** r), (i, g, b, s, r), ENOSYS)
SEALKIT_SEAL_AFTER(group*, getgrent, (), (), nullptr)
SEALKIT_SEAL_AFTER(int, getgrent_r, (group* g, char* b, size_t s, group** r), (g, b, s, r), ENOSYS)
SEALKIT_SEAL_AFTER_VOID(setgrent, (), ())
SEALKIT_SEAL_AFTER(int, getgrouplist, (const char* u, gid_t g, gid_t* gs, int* n), (u, g, gs, n), -1)
SEALKIT_SEAL_AFTER(int, initgroups, (const char* u, gid_t g), (u, g), -1)
SEALKIT_SEAL_AFTER(spwd*, getspnam, (const char* n), (n), nullptr)
SEALKIT_SEAL_AFTER(int, getspnam_r, (const char* n, spwd* p, char* b, size_t s, spwd** r), (n, p, b, s, r), ENOSYS)

// hosts, services, protocols, networks
SEALKIT_SEAL_AFTER(int, getaddrinfo, (const char* n, const char* s, const addrinfo* h, addrinfo** r), (n, s, h, r),
                   EAI_SYSTEM)
SEALKIT_SEAL_AFTER(int, getnameinfo,
                   (const sockaddr* a, socklen_t l, char* h, socklen_t hl, char* s, socklen_t sl, int flags),
                   (a, l, h, hl, s, sl, flags), EAI_SYSTEM)
SEALKIT_SEAL_AFTER(hostent*, gethostbyname, (const char* n), (n), nullptr)
SEALKIT_SEAL_AFTER(hostent*, gethostbyname2, (const char* n, int af), (n, af), nullptr)
SEALKIT_SEAL_AFTER(hostent*, gethostbyaddr, (const void* a, socklen_t l, int t), (a, l, t), nullptr)
SEALKIT_SEAL_AFTER(int, gethostbyname_r, (const char* n, hostent* h, char* b, size_t s, hostent** r, int* e),
                   (n, h, b, s, r, e), ENOSYS)
SEALKIT_SEAL_AFTER(int, gethostbyname2_r,
                   (const char* n, int af, hostent* h, char* b, size_t s, hostent** r, int* e),
                   (n, af, h, b, s, r, e), ENOSYS)
SEALKIT_SEAL_AFTER(int, gethostbyaddr_r,
                   (const void* a, socklen_t l, int t, hostent* h, char* b, size_t s, hostent** r, int* e),
                   (a, l, t, h, b, s, r, e), ENOSYS)
SEALKIT_SEAL_AFTER(servent*, getservbyname, (const char* n, const char* p), (n, p), nullptr)
SEALKIT_SEAL_AFTER(servent*, getservbyport, (int port, const char* p), (port, p), nullptr)
SEALKIT_SEAL_AFTER(protoent*, getprotobyname, (const char* n), (n), nullptr)
SEALKIT_SEAL_AFTER(protoent*, getprotobynumber, (int p), (p), nullptr)
SEALKIT_SEAL_AFTER(netent*, getnetbyname, (const char* n), (n), nullptr)

// gconv
SEALKIT_SEAL_AFTER(iconv_t, iconv_open, (const char* to, const char* from), (to, from), reinterpret_cast<iconv_t>(-1))

// The unwinder: loaded and sealed before the call.
extern "C" __attribute__((visibility("default"))) int pthread_cancel(pthread_t t) {
  static constinit std::atomic<int (*)(pthread_t)> next{nullptr};
  const auto f = pl::next_function(next, "pthread_cancel");
  if (f == nullptr) return ENOSYS;
  pl::seal_unwinder_before_use();
  return f(t);
}

extern "C" __attribute__((visibility("default"))) int backtrace(void** buffer, int size) {
  static constinit std::atomic<int (*)(void**, int)> next{nullptr};
  const auto f = pl::next_function(next, "backtrace");
  if (f == nullptr) return 0;
  pl::seal_unwinder_before_use();
  return f(buffer, size);
}

extern "C" __attribute__((visibility("default"), noreturn)) void pthread_exit(void* value) {
  static constinit std::atomic<void (*)(void*)> next{nullptr};
  pl::seal_unwinder_before_use();
  if (const auto f = pl::next_function(next, "pthread_exit")) f(value);
  __builtin_trap();  // libc without pthread_exit: cannot happen with glibc, and must not return
}
