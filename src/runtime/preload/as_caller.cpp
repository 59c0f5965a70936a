// as_caller.hpp has the why.
#include "runtime/preload/as_caller.hpp"
#include "runtime/preload/entry_stub.hpp"

#include <dlfcn.h>

#include <atomic>
#include <cstdint>

#include "core/raw_syscall.hpp"
#include "runtime/sys.hpp"

namespace sealkit::rt::preload {

bool found_the_same_by_any_caller(const char* file) {
  if (file == nullptr) return true;
  bool slash = false;
  for (const char* p = file; *p; ++p) {
    if (*p == '$') return false;
    if (*p == '/') slash = true;
  }
  return slash;
}

#if defined(__x86_64__) || defined(__i386__)

namespace {

// arch_prctl(ARCH_SHSTK_STATUS) (Linux 6.6; newer than the UAPI headers
// Debian 12 ships): bit 0 of the features says the thread runs on a shadow
// stack, which would check the `ret` byte's return against the call that
// entered the wrapper and kill the process. glibc enables it for the whole
// process before any constructor runs, so one answer holds for every thread.
// Only x86_64 has shadow stacks for user space.
bool on_shadow_stack() {
#if defined(__x86_64__)
  constexpr long kArchPrctl = 158, kArchShstkStatus = 0x5005;
  constexpr unsigned long kShstkEnabled = 1;
  static std::atomic<int> answer{-1};  // unknown, then 0 or 1
  int a = answer.load(std::memory_order_relaxed);
  if (a < 0) {
    unsigned long features = 0;
    // Kernels without shadow stacks answer EINVAL: no shadow stack.
    const long rc = core::raw::call(kArchPrctl, kArchShstkStatus, reinterpret_cast<long>(&features));
    a = rc == 0 && (features & kShstkEnabled) ? 1 : 0;
    answer.store(a, std::memory_order_relaxed);
  }
  return a == 1;
#else
  return false;
#endif
}

// glibc's own question (which loaded object holds this address), asked the
// way that takes no lock. Addresses in no object (code made at run time) are
// "the same" as each other: glibc takes both for the program.
bool same_object(const void* a, const void* b) {
  dl_find_object fa, fb;
  const bool in_a = _dl_find_object(const_cast<void*>(a), &fa) == 0;
  const bool in_b = _dl_find_object(const_cast<void*>(b), &fb) == 0;
  if (in_a != in_b) return false;
  return !in_a || fa.dlfo_link_map == fb.dlfo_link_map;
}

constexpr unsigned char kRet = 0xc3;

#if defined(__x86_64__)
// The arguments travel in registers: the byte returned through is the `ret`.
constexpr unsigned kPops = 0;
bool is_pop(unsigned char) { return false; }
#else
// The arguments sit on the stack between the return address and the
// continuation: three one-byte pops (into ebx, ebp, esi, edi, ecx or edx,
// which the wrapper saves or does not need; never eax, which holds the
// result, nor esp) take them off before the `ret`. Every function epilogue
// that restores three callee-saved registers has them.
constexpr unsigned kPops = 3;
bool is_pop(unsigned char b) { return b == 0x59 || b == 0x5a || b == 0x5b || (b >= 0x5d && b <= 0x5f); }
#endif

bool returns_through(const unsigned char* p) {
  if (p[kPops] != kRet) return false;
  for (unsigned i = 0; i < kPops; ++i)
    if (!is_pop(p[i])) return false;
  return true;
}

}  // namespace

void learn_shadow_stack() { on_shadow_stack(); }

const void* return_through(const void* caller) {
  if (caller == nullptr || on_shadow_stack()) return nullptr;
  // Only the page of the call instruction's last byte is known to be mapped
  // (the return address itself may start the next page). Look forward from
  // the return address first: the caller's own epilogue has the caller's
  // unwind information there.
  using sys::kPage;
  const auto ret = reinterpret_cast<std::uintptr_t>(caller);
  const std::uintptr_t page = (ret - 1) & ~(kPage - 1);
  const auto* bytes = reinterpret_cast<const unsigned char*>(page);
  const std::uintptr_t at = ret - page;  // 1..kPage
  constexpr std::uintptr_t kLast = kPage - kPops;  // where a sequence can still start
  for (std::uintptr_t i = at; i < kLast; ++i)
    if (returns_through(bytes + i) && same_object(bytes + i, caller)) return bytes + i;
  for (std::uintptr_t i = at < kLast ? at : kLast; i-- > 0;)
    if (returns_through(bytes + i) && same_object(bytes + i, caller)) return bytes + i;
  return nullptr;
}

#if defined(__x86_64__)
// rdi, rsi, rdx: the arguments; rcx: fn; r8: the `ret` byte. The frame below
// fn's return address holds the continuation (label 1), which the `ret` byte
// returns to; rbp keeps this frame. fn is entered with rsp = 8 mod 16, as
// after a call.
asm(R"(
  .text
  .p2align 4
  .globl sealkit_call_returning_through
  .hidden sealkit_call_returning_through
  .type sealkit_call_returning_through, @function
sealkit_call_returning_through:
  endbr64
  push %rbp
  mov %rsp, %rbp
  sub $8, %rsp
  lea 1f(%rip), %rax
  push %rax
  push %r8
  jmp *%rcx
1:
  leave
  ret
  .size sealkit_call_returning_through, .-sealkit_call_returning_through
)");
#else
// cdecl: a0, a1, a2, fn, the pops-and-ret bytes, above the return address.
// The callee-saved registers the pops overwrite are saved first. fn is
// entered with [bytes][a0][a1][a2][continuation] and esp = 12 mod 16, as
// after a call; the pops take a0..a2, the `ret` goes to label 1, where esp is
// known again.
asm(R"(
  .text
  .p2align 4
  .globl sealkit_call_returning_through
  .hidden sealkit_call_returning_through
  .type sealkit_call_returning_through, @function
sealkit_call_returning_through:
  push %ebp
  push %ebx
  push %esi
  push %edi
  mov 20(%esp), %ebx
  mov 24(%esp), %esi
  mov 28(%esp), %edi
  mov 32(%esp), %ecx
  mov 36(%esp), %edx
  sub $12, %esp
  call 0f
0:
  pop %eax
  add $(1f-0b), %eax
  push %eax
  push %edi
  push %esi
  push %ebx
  push %edx
  jmp *%ecx
1:
  add $12, %esp
  pop %edi
  pop %esi
  pop %ebx
  pop %ebp
  ret
  .size sealkit_call_returning_through, .-sealkit_call_returning_through
)");
#endif

extern "C" long sealkit_call_returning_through(long a0, long a1, long a2, const void* fn, const void* ret_byte);

long call_returning_through(const void* ret_byte, const void* fn, long a0, long a1, long a2) {
  return sealkit_call_returning_through(a0, a1, a2, fn, ret_byte);
}

#else

void learn_shadow_stack() {}

const void* return_through(const void*) { return nullptr; }

long call_returning_through(const void*, const void*, long, long, long) { return 0; }

#endif

namespace {
// What a plan decided for the wrapper it jumps to (entry_stub.hpp).
// Initial-exec: the object is loaded at start-up, its TLS in the static block.
__thread const void* t_return_through __attribute__((tls_model("initial-exec"))) = nullptr;
}  // namespace

void plan_call_as(const void* through) { t_return_through = through; }

long call_as_planned(const void* fn, long a0, long a1, long a2) {
  const void* through = t_return_through;
  t_return_through = nullptr;
  if (through) return call_returning_through(through, fn, a0, a1, a2);
  return reinterpret_cast<long (*)(long, long, long)>(fn)(a0, a1, a2);
}

}  // namespace sealkit::rt::preload
