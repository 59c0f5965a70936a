#include "runtime/mseal_gate.hpp"

#include <linux/prctl.h>
#include <linux/seccomp.h>

#include "runtime/sys.hpp"

namespace sealkit::rt {

namespace {

constexpr long kWall = 0x40000000;  // __WALL: the child sends no exit signal

constinit bool g_open = true;
constinit long g_filters_asked = -1;  // Seccomp_filters when the child last asked
constexpr long kNotSeen = -2;
constinit long g_filters_at_start = kNotSeen;  // Seccomp_filters at start-up (0: no filter)

// "Seccomp_filters:\t<n>" of /proc/self/status (Linux 5.9+), or -1.
long filter_count() {
  const int fd = sys::open_read("/proc/self/status");
  if (fd < 0) return -1;
  char buf[4096];
  long used = 0, n;
  while (used < static_cast<long>(sizeof buf) - 1 &&
         (n = sys::read(fd, buf + used, sizeof buf - 1 - static_cast<std::size_t>(used))) > 0)
    used += n;
  sys::call(__NR_close, fd);
  buf[used > 0 ? used : 0] = '\0';
  static constexpr char kKey[] = "\nSeccomp_filters:\t";
  for (long i = 0; i + static_cast<long>(sizeof kKey) - 1 <= used; ++i) {
    long k = 0;
    while (kKey[k] != '\0' && buf[i + k] == kKey[k]) ++k;
    if (kKey[k] != '\0') continue;
    long v = 0, at = i + k;
    if (buf[at] < '0' || buf[at] > '9') return -1;
    for (; buf[at] >= '0' && buf[at] <= '9' && v < 1000000; ++at) v = v * 10 + (buf[at] - '0');
    return v;
  }
  return -1;
}

// The child: SIGSYS at its default (a TRAP then ends the child, as it would
// end the process; a handler the program installed is not run), mseal(0, 0,
// 0), exit. True when it came back from the call. The child is not dumpable
// (a flag of its own copy of the address space): the SIGSYS that ends it
// would otherwise write a core file, a copy of the host's memory, for a
// process that never crashed.
bool survives_mseal() {
  const long pid = sys::call(__NR_clone, 0, 0, 0, 0);
  if (pid == 0) {
    sys::call(__NR_prctl, PR_SET_DUMPABLE, 0);
    const long dfl[4] = {0, 0, 0, 0};  // SIG_DFL, no flags, no restorer, empty mask (any layout)
    sys::call(__NR_rt_sigaction, 31 /* SIGSYS */, reinterpret_cast<long>(dfl), 0, 8);
    sys::mseal(0, 0);
    sys::call(__NR_exit_group, 0);
    __builtin_unreachable();
  }
  if (sys::failed(pid)) return false;  // cannot tell: do not risk the call
  int status = 0;
  long r;
  do r = sys::call(__NR_wait4, pid, reinterpret_cast<long>(&status), kWall, 0);
  while (r == -EINTR);
  return r == pid && (status & 0x7f) == 0;  // exited normally, not killed by a signal
}

}  // namespace

void mseal_gate_startup() {
  if (g_filters_at_start != kNotSeen) return;
  g_filters_at_start = sys::call(__NR_prctl, PR_GET_SECCOMP) == SECCOMP_MODE_FILTER ? filter_count() : 0;
}

bool mseal_gate_open() {
  mseal_gate_startup();
  if (sys::call(__NR_prctl, PR_GET_SECCOMP) != SECCOMP_MODE_FILTER) return g_open = true;
  const long filters = filter_count();
  // A filter the program installed itself since it started (its own sandbox,
  // as QEMU's -sandbox spawn=deny) may kill the child's clone or wait4 as
  // readily as mseal: neither is risked, nothing more is sealed.
  if (filters != g_filters_at_start) return g_open = false;
  if (filters < 0 || filters != g_filters_asked) {
    g_open = survives_mseal();
    g_filters_asked = filters;
  }
  return g_open;
}

void mseal_gate_trust_own_filter() {
  mseal_gate_startup();
  // As if the process had started under it: its answer for mseal is the one
  // the filters before it gave.
  g_filters_at_start = g_filters_asked = filter_count();
}

long gated_mseal(std::uintptr_t start, std::size_t len) { return g_open ? sys::mseal(start, len) : -EPERM; }

}  // namespace sealkit::rt
