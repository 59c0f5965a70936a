#include "backend/seccomp/install.hpp"

// Raw system calls only (core/raw_syscall.hpp), no libc and no errno: the
// libc-free runtime installs its filters with this same function.
#include <linux/capability.h>
#include <linux/errno.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>

#include <cstdint>

#include "core/raw_syscall.hpp"

namespace sealkit::backend::seccomp {

namespace {

long as_long(const void* p) noexcept { return reinterpret_cast<long>(p); }

}  // namespace

bool has_cap_sys_admin() noexcept {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (core::raw::call(__NR_capget, as_long(&header), as_long(data)) != 0) return false;
  return (data[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective & CAP_TO_MASK(CAP_SYS_ADMIN)) != 0;
}

std::size_t kernel_length(const sock_filter* insns, std::size_t length) noexcept {
  std::size_t total = 3;  // A = 0, X = 0, the context pointer saved
  for (std::size_t i = 0; i < length; ++i) {
    const sock_filter& f = insns[i];
    if (f.code == (BPF_RET | BPF_K)) {
      total += 2;  // mov r0, k; exit
    } else if (BPF_CLASS(f.code) == BPF_JMP && BPF_OP(f.code) != BPF_JA) {
      if (BPF_SRC(f.code) == BPF_K && static_cast<std::int32_t>(f.k) < 0) ++total;  // immediates are signed
      const bool invertible = BPF_OP(f.code) == BPF_JEQ || BPF_OP(f.code) == BPF_JGT || BPF_OP(f.code) == BPF_JGE;
      total += f.jf == 0 || (f.jt == 0 && invertible) ? 1 : 2;
    } else {
      ++total;
    }
  }
  return total;
}

InstallOutcome install(const Program& program, const InstallOptions& options) noexcept {
  namespace raw = core::raw;
  InstallOutcome out;
  sock_fprog fprog{static_cast<unsigned short>(program.length), const_cast<sock_filter*>(program.insns)};
  if (program.length == 0 || program.length > kMaxInstructions) {
    out.error = EINVAL;
    return out;
  }
  out.had_cap_sys_admin = has_cap_sys_admin();
  if (!out.had_cap_sys_admin && raw::call(__NR_prctl, PR_GET_NO_NEW_PRIVS) != 1) {
    if (options.keep_no_new_privs || raw::call(__NR_prctl, PR_SET_NO_NEW_PRIVS, 1) != 0) {
      out.error = EACCES;
      return out;
    }
    out.set_no_new_privs = true;
  }
  const unsigned flags = options.new_listener ? kInstallListenerFlags : kInstallFlags;
  const long r = raw::call(__NR_seccomp, SECCOMP_SET_MODE_FILTER, flags, as_long(&fprog));
  if (options.new_listener) {
    if (r >= 0) {
      out.all_threads = true;
      out.listener_fd = static_cast<int>(r);
    } else {
      out.error = r == -ESRCH ? EAGAIN : r == -EFAULT ? EINVAL : static_cast<int>(-r);
    }
  } else if (r == 0) {
    out.all_threads = true;
  } else if (r > 0) {
    // TSYNC: the id of a thread that could not be synchronized.
    out.error = EAGAIN;
    out.conflicting_thread = static_cast<int>(r);
  } else if (r == -ENOSYS) {
    const long p = raw::call(__NR_prctl, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, as_long(&fprog));
    if (p != 0) out.error = static_cast<int>(-p);
  } else {
    out.error = r == -EFAULT ? EINVAL : static_cast<int>(-r);
  }
  return out;
}

}  // namespace sealkit::backend::seccomp
