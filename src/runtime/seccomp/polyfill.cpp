#include "runtime/seccomp/polyfill.hpp"

#include <signal.h>
#include <sys/ucontext.h>

#include "core/mseal_args.hpp"
#include "runtime/seccomp/collector.hpp"
#include "runtime/seccomp/install.hpp"
#include "runtime/sys.hpp"

#if defined(__x86_64__)
// The restorer the kernel returns to from the handler (SA_RESTORER is
// mandatory on x86_64): rt_sigreturn, which restores the registers from the
// ucontext, including the rax the handler wrote.
extern "C" void sealkit_rt_sigreturn() __attribute__((visibility("hidden")));
#define SEALKIT_STRINGIFY2(x) #x
#define SEALKIT_STRINGIFY(x) SEALKIT_STRINGIFY2(x)
__asm__(
    ".text\n"
    ".globl sealkit_rt_sigreturn\n"
    ".hidden sealkit_rt_sigreturn\n"
    ".type sealkit_rt_sigreturn,@function\n"
    "sealkit_rt_sigreturn:\n"
    "  movq $" SEALKIT_STRINGIFY(__NR_rt_sigreturn) ", %rax\n"
    "  syscall\n"
    "  hlt\n"
    ".size sealkit_rt_sigreturn, .-sealkit_rt_sigreturn\n");
#endif

namespace sealkit::rt::seccomp {

namespace {

// policy_inherited()'s question: mseal(0, 0, flags) with flags no kernel
// accepts (the kernel's answer is EINVAL, or ENOSYS before 6.10), and the
// handler's answer, a value mseal never returns.
constexpr std::uint64_t kPolicyProbe = 0x5ea1'5ea1'5ea1'5ea1ull;
constexpr long kPolicyProbeAnswer = 0x5ea1;

#if defined(__x86_64__)
// The kernel's struct sigaction for rt_sigaction (not glibc's).
struct KernelSigaction {
  void (*handler)(int, siginfo_t*, void*);
  unsigned long flags;
  void (*restorer)();
  std::uint64_t mask;
};

void on_sigsys(int, siginfo_t* info, void* context) {
  greg_t* regs = static_cast<ucontext_t*>(context)->uc_mcontext.gregs;
  constexpr int kSysSeccomp = 1;  // si_code of a seccomp trap
  const unsigned nr = static_cast<unsigned>(info->si_syscall) & ~static_cast<unsigned>(__X32_SYSCALL_BIT);
  if (info->si_code != kSysSeccomp || info->si_errno != static_cast<int>(kTrapData) || nr != __NR_mseal) {
    // Not our trap (a filter an earlier image installed with RET_TRAP): the
    // call did not run; say so as a kernel without it would.
    regs[REG_RAX] = -ENOSYS;
    return;
  }
  if (regs[REG_RDI] == 0 && regs[REG_RSI] == 0 && static_cast<std::uint64_t>(regs[REG_RDX]) == kPolicyProbe) {
    regs[REG_RAX] = kPolicyProbeAnswer;  // policy_inherited(): the trap is in place
    return;
  }
  regs[REG_RAX] = polyfill_mseal(static_cast<std::uint64_t>(regs[REG_RDI]), static_cast<std::uint64_t>(regs[REG_RSI]),
                                 static_cast<std::uint64_t>(regs[REG_RDX]));
}
#endif

}  // namespace

long polyfill_mseal(std::uint64_t addr, std::uint64_t len, std::uint64_t flags) {
  const auto args = core::check_mseal_args<std::uint64_t>(addr, len, flags, sys::kPage);
  if (args.error != 0) return -args.error;
  if (args.empty()) return 0;
  Collector c;
  if (!c.begin()) return -ENOMEM;
  const AddStatus st = c.add(core::Range{static_cast<std::uintptr_t>(args.start), static_cast<std::uintptr_t>(args.end)});
  if (st != AddStatus::kOk) return -ENOMEM;  // a page not mapped (or more VMAs than one filter holds)
  const FilterResult r = c.install(false);
  return r.error == 0 ? 0 : -static_cast<long>(r.error);
}

bool policy_inherited() {
#if defined(__x86_64__)
  return sys::call(__NR_mseal, 0, 0, static_cast<long>(kPolicyProbe)) == kPolicyProbeAnswer;
#else
  return false;
#endif
}

const void* sigsys_handler_in_place() {
#if defined(__x86_64__)
  KernelSigaction old{};
  if (sys::call(__NR_rt_sigaction, SIGSYS, 0, reinterpret_cast<long>(&old), 8) != 0) return nullptr;
  return reinterpret_cast<const void*>(old.handler);
#else
  return nullptr;
#endif
}

void restore_sigsys(const void* inherited) {
#if defined(__x86_64__)
  KernelSigaction act{};
  act.handler = reinterpret_cast<decltype(act.handler)>(const_cast<void*>(inherited));
  sys::call(__NR_rt_sigaction, SIGSYS, reinterpret_cast<long>(&act), 0, 8);
#else
  (void)inherited;
#endif
}

bool install_polyfill() {
#if defined(__x86_64__)
  KernelSigaction act{};
  act.handler = on_sigsys;
  act.flags = SA_SIGINFO | 0x04000000 /* SA_RESTORER */;
  act.restorer = sealkit_rt_sigreturn;
  act.mask = ~std::uint64_t{0};  // nothing else runs on this thread meanwhile (SIGKILL/SIGSTOP stay unblockable)
  return sys::call(__NR_rt_sigaction, SIGSYS, reinterpret_cast<long>(&act), 0, 8) == 0;
#else
  return false;
#endif
}

}  // namespace sealkit::rt::seccomp
