#include "runtime/seccomp/install.hpp"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <atomic>
#include <new>

#include "backend/seccomp/install.hpp"
#include "backend/seccomp/mm_sharers.hpp"
#include "backend/seccomp/registration.hpp"
#include "runtime/process_info.hpp"
#include "runtime/sys.hpp"
#include "runtime/text_out.hpp"

namespace sealkit::rt::seccomp {

namespace {

namespace bs = backend::seccomp;

std::atomic<std::size_t> g_installed{0};
std::atomic<int> g_supervisor_fd{-1};
// Whether g_supervisor_fd is the supervisor's: 0 not asked yet, 1 yes, 2 no.
std::atomic<int> g_supervisor_trust{0};
bool g_supervisor_quiet = false;
std::atomic<std::uint64_t> g_task_size{0};

constexpr std::uint32_t kX32Bit = __X32_SYSCALL_BIT;  // <asm/unistd.h>

bool address_space_shared(bool unbound_only) {
  return bs::find_address_space_sharer(unbound_only).verdict != bs::SharerVerdict::kNone;
}

sock_filter stmt(std::uint16_t code, std::uint32_t k) { return sock_filter{code, 0, 0, k}; }
sock_filter jeq(std::uint32_t k, std::uint8_t jt, std::uint8_t jf) {
  return sock_filter{BPF_JMP | BPF_JEQ | BPF_K, jt, jf, k};
}

constexpr std::size_t kPolicyLength = 12;
constexpr std::uint32_t kI386IoUringSetup = 425;  // the same number in arch/x86/entry/syscalls/syscall_32.tbl

// The process policy, ahead of the ranges' program (which starts again with
// its own arch check, so every jump here is forward and short) or alone, with
// a RET ALLOW after it: syscall 462
// traps to the polyfill, io_uring_setup gets ENOSYS, for the x86_64 ABI (x32
// bit masked) and for the i386 one, which a 64-bit process reaches with int
// 0x80 (an io_uring made that way discards memory behind every filter).
// Only arch and nr are read: the kernel's action cache still skips this
// filter for every other call. The i386 mseal is not trapped (the polyfill
// decodes x86_64 arguments): it is ENOSYS where the kernel has no mseal.
// __NR_mseal and __NR_io_uring_setup are the x86_64 numbers here: only an
// x86_64 build installs this (kSupported).
void write_policy(sock_filter* p) {
  p[0] = stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch));
  p[1] = jeq(AUDIT_ARCH_X86_64, 0, 5);  // i386 at p[7]
  p[2] = stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr));
  p[3] = stmt(BPF_ALU | BPF_AND | BPF_K, ~kX32Bit);
  p[4] = jeq(__NR_mseal, 5, 0);             // -> p[10] TRAP
  p[5] = jeq(__NR_io_uring_setup, 5, 0);    // -> p[11] ENOSYS
  p[6] = stmt(BPF_JMP | BPF_JA, 5);                                   // -> p[12]: the program
  p[7] = jeq(AUDIT_ARCH_I386, 0, 4);                                  // other ABIs: the program (which passes them)
  p[8] = stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr));
  p[9] = jeq(kI386IoUringSetup, 1, 2);                                // -> p[11] ENOSYS, else p[12]
  p[10] = stmt(BPF_RET | BPF_K, SECCOMP_RET_TRAP | kTrapData);
  p[11] = stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
}

struct Scratch {
  bs::BuildWorkspace work;
  bs::Program program;
};

// The library's installer (TSYNC; no_new_privs set first unless the thread
// has CAP_SYS_ADMIN): 0 or an errno value, the no_new_privs step in `r`.
int install_program(const bs::Program& prog, FilterResult& r) {
  const bs::InstallOutcome o = bs::install(prog);
  r.set_no_new_privs = r.set_no_new_privs || o.set_no_new_privs;
  return o.error;
}

// Under the supervisor: the policy alone as a filter (when asked), the ranges registered.
FilterResult register_ranges(const SealedRange* ranges, std::size_t n, bool with_policy, int fd) {
  FilterResult r;
  r.supervised = true;
  if (with_policy) {
    bs::Program* prog = static_cast<bs::Program*>(sys::mmap_anon(sizeof(bs::Program)));
    if (prog == nullptr) {
      r.error = ENOMEM;
      return r;
    }
    write_policy(prog->insns);
    prog->insns[kPolicyLength] = stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    prog->length = kPolicyLength + 1;
    r.instructions = prog->length;
    r.kernel_length = bs::kernel_length(*prog);
    const int error = install_program(*prog, r);
    sys::munmap(prog, sizeof(bs::Program));
    if (error != 0) {
      r.error = error;
      return r;
    }
    g_installed.fetch_add(r.kernel_length + bs::kFilterPenalty, std::memory_order_relaxed);
  }
  bs::SealedRange token;
  r.error = bs::registration::register_seal(fd, ranges, n, token);
  r.ranges = n;
  return r;
}

// From now on this process seals with filters of its own: the socket is not
// the supervisor's. One warning.
void refuse_supervisor(int fd, const char* why) {
  int trust = g_supervisor_trust.load(std::memory_order_acquire);
  while (trust != 2) {
    if (g_supervisor_trust.compare_exchange_weak(trust, 2, std::memory_order_acq_rel)) {
      if (!g_supervisor_quiet) {
        TextOut o;
        o.str("SEALKIT_SUPERVISOR_FD=").num(static_cast<std::uint64_t>(fd)).str(" ").str(why)
            .str(": not the sealkit supervisor's socket; sealing with this process's own filters");
        warn(o.view());
      }
      return;
    }
  }
}

// The supervisor's socket, or -1 when there is none or the kernel's word
// (peer credentials, registration.hpp) says it is not the supervisor's: then
// this process seals with filters of its own, as without a supervisor, so
// that a seal is never reported made where nothing enforces it. Asked once,
// at the first seal.
int trusted_supervisor_fd() {
  const int fd = g_supervisor_fd.load(std::memory_order_relaxed);
  if (fd < 0) return -1;
  if (g_supervisor_trust.load(std::memory_order_acquire) == 0) {
    if (const char* why = bs::registration::untrusted_supervisor(fd)) {
      refuse_supervisor(fd, why);
    } else {
      int expected = 0;
      g_supervisor_trust.compare_exchange_strong(expected, 1, std::memory_order_acq_rel);
    }
  }
  return g_supervisor_trust.load(std::memory_order_acquire) == 1 ? fd : -1;
}

}  // namespace

void set_supervisor_fd(int fd, bool quiet) {
  // Closed before the exec (Python's subprocess closes every fd but 0-2 in
  // the child): no supervisor is reachable, and by the first seal the number
  // may name a file this runtime opened itself, which is no impostor's socket.
  if (fd >= 0 && sys::failed(sys::call(__NR_fcntl, fd, 1 /* F_GETFD */))) fd = -1;
  g_supervisor_quiet = quiet;
  g_supervisor_trust.store(0, std::memory_order_relaxed);
  g_supervisor_fd.store(fd, std::memory_order_relaxed);
}

std::uint64_t task_size() {
  std::uint64_t v = g_task_size.load(std::memory_order_relaxed);
  if (v != 0) return v;
  // A hint above 2^47 is honoured only with 5-level paging.
  constexpr std::uint64_t k47 = std::uint64_t{1} << 47;
  v = k47 - 4096;
  const long p = sys::mmap_anon_at(static_cast<std::uintptr_t>(k47 << 1), 4096, 0 /* PROT_NONE */,
                                   0x22 | 0x4000 /* MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE */);
  if (!sys::failed(p)) {
    if (static_cast<std::uint64_t>(p) >= k47) v = (std::uint64_t{1} << 56) - 4096;
    sys::munmap(reinterpret_cast<void*>(p), 4096);
  }
  g_task_size.store(v, std::memory_order_relaxed);
  return v;
}

std::size_t installed_kernel_length() { return g_installed.load(std::memory_order_relaxed); }

namespace {
// The filter for `ranges` (only their discard advice when `discard_only`),
// built in scratch memory of its own: `edit` may change the program (an
// errno stops there), `install` puts it in (an errno), unless the kernel's
// budget would refuse it (ENOMEM, nothing installed). r comes back with the
// program's figures and the error; the scratch memory is unmapped on every path.
template <class Edit, class Install>
FilterResult build_and_install(const SealedRange* ranges, std::size_t n, bool discard_only, FilterResult r,
                               Edit&& edit, Install&& install) {
  void* mem = sys::mmap_anon(sizeof(Scratch));
  if (mem == nullptr) {
    r.error = ENOMEM;
    return r;
  }
  auto* s = new (mem) Scratch;
  bs::Input in;
  in.ranges = ranges;
  in.count = n;
  in.task_size = task_size();
  in.discard_only = discard_only;
  bs::Program& prog = s->program;
  const bs::BuildStatus st = bs::build(in, prog, s->work);
  if (st != bs::BuildStatus::kOk) {
    r.error = bs::to_errno(st);
  } else if ((r.error = edit(prog)) == 0) {
    r.ranges = prog.merged_ranges;
    r.discard_ranges = prog.discard_ranges;
    r.instructions = prog.length;
    r.kernel_length = bs::kernel_length(prog);
    const std::size_t cost = r.kernel_length + bs::kFilterPenalty;
    if (installed_kernel_length() + cost > bs::kMaxTotalInstructions) {
      r.error = ENOMEM;  // the kernel would refuse it: nothing installed
    } else {
      r.error = install(prog, r);
      if (r.error == 0) g_installed.fetch_add(cost, std::memory_order_relaxed);
    }
  }
  s->~Scratch();
  sys::munmap(mem, sizeof(Scratch));
  return r;
}
}  // namespace

FilterResult install_filter(const SealedRange* ranges, std::size_t n, bool with_policy, SharerCheck check) {
  FilterResult r;
  if (!kSupported) {
    r.error = ENOSYS;
    return r;
  }
  // Under the supervisor every task has had the root filter since before the
  // program existed, and the supervisor answers by the address space's tokens:
  // tasks sharing it are refused like the program (docs/seccomp-exec.md).
  bool policy_set_no_new_privs = false;
  if (const int fd = trusted_supervisor_fd(); fd >= 0) {
    const FilterResult supervised = register_ranges(ranges, n, with_policy, fd);
    if (supervised.error != EPROTO /* answered, not enforced */) return supervised;
    refuse_supervisor(fd, "answered a registration that nothing enforces");
    with_policy = false;  // in place already: register_ranges installed it first
    policy_set_no_new_privs = supervised.set_no_new_privs;
  }
  r.set_no_new_privs = policy_set_no_new_privs;
  if (check == SharerCheck::kLook && address_space_shared(false)) {
    r.error = EBUSY;
    return r;
  }
  r = build_and_install(
      ranges, n, false, r,
      [&](bs::Program& prog) {
        if (!with_policy) return 0;
        if (prog.length + kPolicyLength > bs::kMaxInstructions) return ENOMEM;  // no room for the policy in one filter
        for (std::size_t i = prog.length; i-- > 0;) prog.insns[i + kPolicyLength] = prog.insns[i];
        write_policy(prog.insns);
        prog.length += kPolicyLength;
        return 0;
      },
      [](const bs::Program& prog, FilterResult& result) {
        return install_program(prog, result);  // EAGAIN: TSYNC named a thread with a filter of its own
      });
  // A task made while this went in: the filter stays (counted), unclaimed.
  if (r.error == 0 && check == SharerCheck::kLook && address_space_shared(true)) r.error = EBUSY;
  return r;
}

FilterResult install_discard_guard(const SealedRange* ranges, std::size_t n) {
  FilterResult r;
  if (!kSupported) {
    r.error = ENOSYS;
    return r;
  }
  return build_and_install(
      ranges, n, true, r, [](bs::Program&) { return 0; },
      [](const bs::Program& prog, FilterResult&) {
        bs::InstallOptions options;
        options.keep_no_new_privs = true;
        return bs::install(prog, options).error;
      });
}

}  // namespace sealkit::rt::seccomp
