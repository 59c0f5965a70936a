// Checks the preload object's way of calling a function with a return
// address inside another object (src/runtime/preload/as_caller.hpp), on real
// code of this program and of libc: the callee sees an address in the
// caller's object, gets its three arguments, and its result and every
// callee-saved register come back. Built for both ELF classes (the two
// assembly paths); prints one line per failed check and exits 1, or exits 0.
#include <dlfcn.h>

#include <cstdio>
#include <cstring>

#include "runtime/preload/as_caller.hpp"

namespace {

using sealkit::rt::preload::call_returning_through;
using sealkit::rt::preload::return_through;

int failures = 0;

void check(bool ok, const char* what) {
  if (!ok) {
    std::printf("FAILED %s\n", what);
    ++failures;
  }
}

const void* g_seen_return = nullptr;
long g_args[3];

extern "C" __attribute__((noinline, used)) long callee(long a0, long a1, long a2) {
  g_seen_return = __builtin_return_address(0);
  g_args[0] = a0;
  g_args[1] = a1;
  g_args[2] = a2;
  // Clobber what the ABI lets a callee clobber, and use the callee-saved
  // registers too (the compiler saves and restores them).
  volatile long sink = a0 * 7 + a1 * 5 + a2 * 3;
  return sink;
}

// Every callee-saved register set to a known value, the call made through
// `through`, and each register compared after: 0 when all came back.
extern "C" long sealkit_call_returning_through(long, long, long, const void*, const void*);
extern "C" long check_callee_saved(const void* through, const void* fn);
#if defined(__x86_64__)
asm(R"(
  .text
  .globl check_callee_saved
  .type check_callee_saved, @function
check_callee_saved:
  push %rbx
  push %rbp
  push %r12
  push %r13
  push %r14
  push %r15
  sub $8, %rsp
  mov %rdi, %r8
  mov %rsi, %rcx
  mov $1, %edi
  mov $2, %esi
  mov $3, %edx
  movabs $0x1111111111111111, %rbx
  movabs $0x2222222222222222, %rbp
  movabs $0x3333333333333333, %r12
  movabs $0x4444444444444444, %r13
  movabs $0x5555555555555555, %r14
  movabs $0x6666666666666666, %r15
  call sealkit_call_returning_through
  mov $1, %eax
  movabs $0x1111111111111111, %rdx
  cmp %rdx, %rbx
  jne 1f
  movabs $0x2222222222222222, %rdx
  cmp %rdx, %rbp
  jne 1f
  movabs $0x3333333333333333, %rdx
  cmp %rdx, %r12
  jne 1f
  movabs $0x4444444444444444, %rdx
  cmp %rdx, %r13
  jne 1f
  movabs $0x5555555555555555, %rdx
  cmp %rdx, %r14
  jne 1f
  movabs $0x6666666666666666, %rdx
  cmp %rdx, %r15
  jne 1f
  xor %eax, %eax
1:
  add $8, %rsp
  pop %r15
  pop %r14
  pop %r13
  pop %r12
  pop %rbp
  pop %rbx
  ret
  .size check_callee_saved, .-check_callee_saved
)");
#elif defined(__i386__)
asm(R"(
  .text
  .globl check_callee_saved
  .type check_callee_saved, @function
check_callee_saved:
  push %ebp
  push %ebx
  push %esi
  push %edi
  mov 20(%esp), %eax
  mov 24(%esp), %ecx
  sub $8, %esp
  push %eax
  push %ecx
  push $3
  push $2
  push $1
  mov $0x11111111, %ebx
  mov $0x22222222, %ebp
  mov $0x33333333, %esi
  mov $0x44444444, %edi
  call sealkit_call_returning_through
  add $28, %esp
  mov $1, %eax
  cmp $0x11111111, %ebx
  jne 1f
  cmp $0x22222222, %ebp
  jne 1f
  cmp $0x33333333, %esi
  jne 1f
  cmp $0x44444444, %edi
  jne 1f
  xor %eax, %eax
1:
  pop %edi
  pop %esi
  pop %ebx
  pop %ebp
  ret
  .size check_callee_saved, .-check_callee_saved
)");
#endif

__attribute__((noinline)) const void* my_return_address() { return __builtin_return_address(0); }

const void* base_of(const void* p) {
  Dl_info info{};
  return dladdr(p, &info) ? info.dli_fbase : nullptr;
}

void call_through(const void* caller, const char* what) {
  const void* through = return_through(caller);
  if (!through) {
    std::printf("FAILED no return bytes next to %s\n", what);
    ++failures;
    return;
  }
  check(base_of(through) == base_of(caller), "the bytes returned through are in the caller's object");
  // Values that live across the call in callee-saved registers.
  volatile long keep[6] = {11, 22, 33, 44, 55, 66};
  long k0 = keep[0], k1 = keep[1], k2 = keep[2], k3 = keep[3], k4 = keep[4], k5 = keep[5];
  long total = 0;
  for (long i = 0; i < 1000; ++i) {
    const long r = call_returning_through(through, reinterpret_cast<const void*>(&callee), i, i + 1, i + 2);
    total += r;
    k0 += i;
    k1 ^= r;
    k2 += k0;
    k3 -= k1;
    k4 += k2 ^ k3;
    k5 += k4;
    if (r != i * 7 + (i + 1) * 5 + (i + 2) * 3 || g_args[0] != i || g_args[1] != i + 1 || g_args[2] != i + 2) {
      std::printf("FAILED %s: call %ld gave %ld with arguments %ld %ld %ld\n", what, i, r, g_args[0], g_args[1],
                  g_args[2]);
      ++failures;
      return;
    }
  }
  check(g_seen_return == through, "the callee's return address is the bytes returned through");
  check(check_callee_saved(through, reinterpret_cast<const void*>(&callee)) == 0, "callee-saved registers kept");
  // The same computation without the calls in between.
  long e0 = 11, e1 = 22, e2 = 33, e3 = 44, e4 = 55, e5 = 66;
  for (long i = 0; i < 1000; ++i) {
    const long r = i * 7 + (i + 1) * 5 + (i + 2) * 3;
    e0 += i;
    e1 ^= r;
    e2 += e0;
    e3 -= e1;
    e4 += e2 ^ e3;
    e5 += e4;
  }
  check(k0 == e0 && k1 == e1 && k2 == e2 && k3 == e3 && k4 == e4 && k5 == e5, "values kept across the calls");
  check(total > 0, "results summed");
}

}  // namespace

int main() {
  call_through(my_return_address(), "this program's call");
  // Any code address of libc stands for a caller there.
  call_through(reinterpret_cast<const char*>(&std::strlen) + 1, "libc's strlen");
  check(sealkit::rt::preload::found_the_same_by_any_caller("/usr/lib/x.so"), "an absolute path");
  check(sealkit::rt::preload::found_the_same_by_any_caller("./x.so"), "a relative path");
  check(sealkit::rt::preload::found_the_same_by_any_caller(nullptr), "the program itself");
  check(!sealkit::rt::preload::found_the_same_by_any_caller("x.so"), "a bare name");
  check(!sealkit::rt::preload::found_the_same_by_any_caller("$ORIGIN/x.so"), "$ORIGIN");
  check(!sealkit::rt::preload::found_the_same_by_any_caller("/opt/$LIB/x.so"), "$LIB in a path");
  return failures ? 1 : 0;
}
