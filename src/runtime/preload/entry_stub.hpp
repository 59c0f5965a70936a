// The entry of a wrapper that must see its caller's return address (dlopen,
// dlmopen, dlsym, dlvsym): save the argument registers, ask the plan where
// to go with the caller's return address, and jump there with the caller's
// arguments and return address untouched on the stack. The plan is
// `const void* plan(long* args, const void* caller)`: `args` points at the
// caller's three argument words (saved registers on x86_64, the caller's own
// on i386) and may be rewritten.
#pragma once

namespace sealkit::rt::preload {

// The hand-over between a plan and the wrapper it jumps to, on this thread:
// the bytes to return through (as_caller.hpp) so that libc sees the caller,
// or null to call libc's function directly.
void plan_call_as(const void* through);

// fn(a0, a1, a2) as planned, the plan then cleared.
long call_as_planned(const void* fn, long a0, long a1, long a2);

}  // namespace sealkit::rt::preload

#if defined(__x86_64__)
#define SEALKIT_ENTRY_STUB(name, plan)       \
  ".text\n"                                  \
  ".p2align 4\n"                             \
  ".globl " #name "\n"                       \
  ".type " #name ", @function\n"             \
  #name ":\n"                               \
  "  endbr64\n"                              \
  "  push %rdx\n"                            \
  "  push %rsi\n"                            \
  "  push %rdi\n"                            \
  "  mov %rsp, %rdi\n"                       \
  "  mov 24(%rsp), %rsi\n"                   \
  "  call " #plan "\n"                       \
  "  pop %rdi\n"                             \
  "  pop %rsi\n"                             \
  "  pop %rdx\n"                             \
  "  jmp *%rax\n"                            \
  ".size " #name ", .-" #name "\n"
#elif defined(__i386__)
#define SEALKIT_ENTRY_STUB(name, plan)       \
  ".text\n"                                  \
  ".p2align 4\n"                             \
  ".globl " #name "\n"                       \
  ".type " #name ", @function\n"             \
  #name ":\n"                               \
  "  sub $4, %esp\n"                         \
  "  mov 4(%esp), %eax\n"                    \
  "  push %eax\n"                            \
  "  lea 12(%esp), %eax\n"                   \
  "  push %eax\n"                            \
  "  call " #plan "\n"                       \
  "  add $12, %esp\n"                        \
  "  jmp *%eax\n"                            \
  ".size " #name ", .-" #name "\n"
#else
#error "sealkit preload: write the dlopen entry stubs for this architecture"
#endif
