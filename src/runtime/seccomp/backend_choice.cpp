#include "runtime/seccomp/backend_choice.hpp"

#include <linux/prctl.h>
#include <linux/seccomp.h>

#include "backend/seccomp/install.hpp"
#include "runtime/seccomp/install.hpp"
#include "runtime/seccomp/polyfill.hpp"
#include "runtime/sys.hpp"

namespace sealkit::rt::seccomp {

namespace {

// auto, in a process that already runs under a seccomp filter: ours, kept
// across execve from an earlier image on this backend (it traps syscall 462:
// asked without the handler, the probe would kill), or someone else's, which
// may kill for any system call it does not list (systemd's SystemCallFilter=
// allow-lists do, and do not list seccomp). So the trap is asked about with
// the handler in place, and seccomp() is never tried under a foreign filter:
// the kernel backend then seals if the filter lets mseal through, and its
// failures are logged otherwise.
Backend choose_under_a_filter() {
  const void* inherited = sigsys_handler_in_place();
  if (install_polyfill()) {
    if (policy_inherited()) return Backend::kSeccomp;
    restore_sigsys(inherited);
  }
  return Backend::kKernel;
}

}  // namespace

Backend choose_backend(std::string_view setting, bool& invalid) {
  invalid = false;
  if (setting == "kernel") return Backend::kKernel;
  // The filter generator guards the x86_64 ABI only (docs/seccomp.md): an
  // i386 process sealed "on the seccomp backend" uses the kernel's mseal where
  // it exists (and its log line says backend "kernel"), as auto would.
  if (setting == "seccomp" && kSupported) return Backend::kSeccomp;
  if (setting == "seccomp") return Backend::kKernel;
  invalid = !setting.empty() && setting != "auto";
  // valgrind emulates neither mseal nor seccomp (and warns on stderr about
  // each call): nothing to choose, and nothing will be sealed (sys.hpp).
  if (rt::sys::under_valgrind()) return Backend::kKernel;
  if (kSupported && sys::call(__NR_prctl, PR_GET_SECCOMP) == SECCOMP_MODE_FILTER) return choose_under_a_filter();
  if (rt::sys::mseal(0, 0) == 0) return Backend::kKernel;
  // SECCOMP_GET_ACTION_AVAIL of SECCOMP_RET_ERRNO: 0 where filters exist.
  std::uint32_t action = SECCOMP_RET_ERRNO;
  if (!kSupported || sys::call(__NR_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, reinterpret_cast<long>(&action)) != 0)
    return Backend::kKernel;
  // As `sealkit run` decides: never turn no_new_privs on unasked. Only when the
  // filter needs no change of it (CAP_SYS_ADMIN, or already set).
  if (backend::seccomp::has_cap_sys_admin() || sys::call(__NR_prctl, PR_GET_NO_NEW_PRIVS) == 1) return Backend::kSeccomp;
  return Backend::kKernel;
}

}  // namespace sealkit::rt::seccomp
