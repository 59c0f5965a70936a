// A 64-bit process for `sealkit audit`'s int 0x80 test (audit_filters_test.cpp,
// AFilterThatIgnoresInt80DoesNotSealLowMemory). Two read-only pages below 4 GiB,
// each refused to the x86_64 calls mseal guards:
//   "sealed"  sealed through the library (the caller sets SEALKIT_BACKEND=seccomp):
//             its filter guards the i386 ABI too;
//   "control" refused by a hand-written filter that looks at the x86_64 ABI only
//             (what the generator did before it guarded int 0x80): an i386
//             mprotect through int 0x80 still changes it.
// It checks both claims on itself, prints "sealed BEGIN END", "control BEGIN
// END" and "ready", and waits for SIGKILL. Exit 3 when a check fails.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <initializer_list>

#include "sealkit/sealkit.h"

namespace {

constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kSealed = 0x3000'0000, kControl = 0x3100'0000;

// An i386 mprotect through int $0x80: 0 or the errno.
int i386_mprotect(std::uint64_t addr, std::uint64_t len, std::uint64_t prot) {
  std::uint64_t ret = 125;  // i386 mprotect
  asm volatile("int $0x80" : "+a"(ret) : "b"(addr), "c"(len), "d"(prot) : "memory");
  const auto r = static_cast<std::uint32_t>(ret);
  return r >= 0xfffff001u ? static_cast<int>(0u - r) : 0;
}

bool install_x86_64_only_filter(std::uint32_t begin, std::uint32_t end) {
  const sock_filter insns[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 12),  // any other ABI: allowed
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mprotect, 4, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_munmap, 3, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mremap, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mmap, 1, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_madvise, 0, 6),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0]) + 4),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 4),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])),
      BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, end, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, begin, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof insns / sizeof insns[0]), const_cast<sock_filter*>(insns)};
  return ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0;
}

}  // namespace

int main() {
  for (std::uint64_t at : {kSealed, kControl}) {
    void* want = reinterpret_cast<void*>(at);
    if (::mmap(want, kPage, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != want) return 3;
  }
  // The library's seal first (it sets no_new_privs if it must), then the hand-written filter.
  if (sealkit_mseal(reinterpret_cast<void*>(kSealed), kPage, 0) != 0) return 3;
  ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  if (!install_x86_64_only_filter(kControl, kControl + kPage)) return 3;
  for (std::uint64_t at : {kSealed, kControl}) {
    if (::mprotect(reinterpret_cast<void*>(at), kPage, PROT_READ) == 0 || errno != EPERM) return 3;
  }
  if (i386_mprotect(kSealed, kPage, PROT_READ) != EPERM) return 3;
  if (i386_mprotect(kControl, kPage, PROT_READ) != 0) return 3;  // the hole the hand-written filter leaves
  std::printf("sealed %llx %llx\n", static_cast<unsigned long long>(kSealed),
              static_cast<unsigned long long>(kSealed + kPage));
  std::printf("control %llx %llx\nready\n", static_cast<unsigned long long>(kControl),
              static_cast<unsigned long long>(kControl + kPage));
  std::fflush(stdout);
  for (;;) ::pause();
}
