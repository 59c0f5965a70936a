#include "backend/seccomp/existing_filter.hpp"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>

#include "backend/ask_in_child.hpp"
#include "backend/seccomp/mm_sharers.hpp"

namespace sealkit::backend::seccomp {

namespace {

constexpr int kChildCallsReturned = 0;
constexpr int kChildCallRefused = 1;
constexpr int kChildCannotLookForSharers = 2;

// In the child: raw system calls only.
int child() {
  std::uint32_t action = SECCOMP_RET_ERRNO;
  const long avail = ::syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action);
  // What sealing does, with an empty program: EINVAL, nothing installed.
  sock_fprog empty{0, nullptr};
  const long install = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &empty);
  const bool refused = avail != 0 || (install != 0 && errno != EINVAL);
  // Every call of the look for tasks sharing the address space, as a seal
  // makes them (the child shares nothing: it only has to survive them).
  const bool looked = find_address_space_sharer(false).verdict == SharerVerdict::kNone;
  return refused ? kChildCallRefused : looked ? kChildCallsReturned : kChildCannotLookForSharers;
}

}  // namespace

const char* existing_filter_refuses_seccomp() noexcept {
  if (!under_seccomp_filter()) return nullptr;
  const int answer = ask_in_child(child);
  if (answer == kNoChild)
    return "a seccomp filter is in place and a child to test seccomp(2) under it could not be made or was lost";
  if (answer < 0)
    return "the seccomp filter already in place (a service manager's or container's) kills seccomp(2) calls, or "
           "kcmp(2) or getdents64(2), which finding tasks that share the address space needs";
  if (answer == kChildCannotLookForSharers)
    return "under the seccomp filter already in place, tasks sharing the address space cannot be looked for "
           "(/proc not listed, or not this PID namespace's): sealing by filter cannot rule them out";
  if (answer != kChildCallsReturned)
    return "the seccomp filter already in place (a service manager's or container's) refuses seccomp(2) calls";
  return nullptr;
}

}  // namespace sealkit::backend::seccomp
