#include "backend/seccomp/install.hpp"

#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace sealkit::backend::seccomp {

bool has_cap_sys_admin() noexcept {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  return (data[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective & CAP_TO_MASK(CAP_SYS_ADMIN)) != 0;
}

InstallOutcome install(const Program& program) noexcept {
  InstallOutcome out;
  const int saved_errno = errno;
  sock_fprog fprog{static_cast<unsigned short>(program.length), const_cast<sock_filter*>(program.insns)};
  if (program.length == 0 || program.length > kMaxInstructions) {
    out.error = EINVAL;
    return out;
  }
  out.had_cap_sys_admin = has_cap_sys_admin();
  if (!out.had_cap_sys_admin && ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
      out.error = EACCES;
      errno = saved_errno;
      return out;
    }
    out.set_no_new_privs = true;
  }
  long r = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &fprog);
  if (r == 0) {
    out.all_threads = true;
  } else if (r > 0) {
    // TSYNC: the id of a thread that could not be synchronized.
    out.error = EAGAIN;
    out.conflicting_thread = static_cast<int>(r);
  } else if (errno == ENOSYS) {
    if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) != 0) out.error = errno;
  } else {
    out.error = errno == EFAULT ? EINVAL : errno;
  }
  errno = saved_errno;
  return out;
}

}  // namespace sealkit::backend::seccomp
