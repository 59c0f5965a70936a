// Makes this process and everything it starts see a kernel without
// PROCMAP_QUERY (before 6.11, the kernels the seccomp backend is for): a
// seccomp filter answers the ioctl with ENOTTY, as those kernels do, so the
// library and the supervisor take their /proc/PID/maps text path. Sets
// no_new_privs. For a forked child of a test, or a benchmark run.
#pragma once

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

#include "core/kernel_abi.hpp"

namespace sealkit::test {

// 0, or the errno of prctl or seccomp.
inline int refuse_procmap_query() {
  const auto cmd = static_cast<std::uint32_t>(kabi::kProcmapQueryIoctl);
  sock_filter insns[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 5),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[1])),  // the command's low word
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, cmd, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOTTY),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof insns / sizeof insns[0]), insns};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) return errno;
  return 0;
}

}  // namespace sealkit::test
