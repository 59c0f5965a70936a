// Raw Linux system calls: the one place that knows each architecture's
// calling convention. For code that must not call libc: the injected runtime
// (src/runtime/sys.hpp, which links no libc at all) and the seccomp
// backend's registration client, which runs inside it too. Each call returns
// the kernel's value: -errno on failure; errno is never touched.
//
// The numbers are the kernel's own (UAPI): __NR_* from <asm/unistd.h>, which
// picks the compiled architecture's table (the i386 build of the runtime gets
// the i386 numbers), and the E* error numbers from <asm-generic/errno.h>,
// the same on every architecture the runtime builds for.
#pragma once

#include <asm-generic/errno.h>
#include <asm/unistd.h>

// mseal is 462 in every architecture's table (Linux 6.10); headers older
// than that do not name it.
#ifndef __NR_mseal
#define __NR_mseal 462
#endif

namespace sealkit::core::raw {

#if defined(__x86_64__)
inline long call6(long n, long a, long b, long c, long d, long e, long f) noexcept {
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}
#elif defined(__aarch64__)
inline long call6(long n, long a, long b, long c, long d, long e, long f) noexcept {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
  return x0;
}
#elif defined(__i386__)
// int $0x80 rather than the vDSO's __kernel_vsyscall: the runtime calls nothing
// it did not map itself, and a few slower calls at start-up do not matter.
// Arguments go in ebx, ecx, edx, esi, edi and ebp; ebp cannot be an asm
// operand, so the sixth is pushed while every operand is still addressable and
// loaded from the stack after ebp is saved.
inline long call6(long n, long a, long b, long c, long d, long e, long f) noexcept {
  long ret;
  __asm__ volatile("pushl %7\n\tpushl %%ebp\n\tmovl 4(%%esp), %%ebp\n\tint $0x80\n\tpopl %%ebp\n\taddl $4, %%esp"
                   : "=a"(ret)
                   : "a"(n), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e), "g"(f)
                   : "memory");
  return ret;
}
#else
// No convention written for this architecture yet: every call is ENOSYS. (The
// runtime, which needs real calls, refuses to build here: runtime/sys.hpp.)
inline long call6(long, long, long, long, long, long, long) noexcept { return -ENOSYS; }
#endif

inline long call(long n, long a = 0, long b = 0, long c = 0, long d = 0) noexcept { return call6(n, a, b, c, d, 0, 0); }

inline bool failed(long r) noexcept { return r < 0 && r > -4096; }

}  // namespace sealkit::core::raw
