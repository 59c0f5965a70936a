// The seccomp backend and tasks that share the address space without being
// threads of the process (clone with CLONE_VM and no CLONE_THREAD). A filter
// installed with TSYNC binds the thread group only: such a task made before
// the filter could change sealed memory, so sealkit refuses to seal while one
// exists (EBUSY) and sealkit_is_sealed says 0 while one the filters do not
// bind lives; a task made after a filter inherits it. docs/seccomp.md,
// "Tasks that share the address space". Every test runs in a forked child.
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <signal.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "backend/seccomp/filter.hpp"
#include "backend/seccomp/install.hpp"
#include "lib/clone_vm_task.hpp"
#include "lib/seccomp_child.hpp"
#include "lib/support.hpp"
#include "sealkit/sealkit.h"

namespace sealkit::test {
namespace {

TEST(SeccompSharedMm, ATaskMadeBeforeTheSealMakesItFailWithEbusy) {
  EXPECT_CHILD_PASSES([](ChildReport& r) {
    if (!use_seccomp(r)) return;
    std::byte* p = fresh(r, 1);
    if (!p) return;
    CloneVmTask task;
    if (!CHILD_CHECK_ERRNO(r, task.start())) return;
    const int filters = filters_installed();
    errno = 0;
    CHILD_CHECK(r, fails_with(sealkit_mseal(p, page(), 0), EBUSY));
    CHILD_CHECK(r, filters_installed() == filters);  // nothing installed
    CHILD_CHECK(r, sealkit_is_sealed(p, page()) == 0);
    CHILD_CHECK(r, task.change(p) == 0);  // and the task can indeed change it
    task.stop();
    // Once the task is gone, the same seal works.
    CHILD_CHECK_ERRNO(r, sealkit_mseal(p, page(), 0) == 0);
    CHILD_CHECK(r, sealkit_is_sealed(p, page()) == 1);
    CHILD_CHECK(r, fails_with(::mprotect(p, page(), PROT_READ), EPERM));
  });
}

TEST(SeccompSharedMm, ATaskMadeAfterTheSealInheritsTheFilter) {
  EXPECT_CHILD_PASSES([](ChildReport& r) {
    if (!use_seccomp(r)) return;
    std::byte* p = fresh(r, 2);
    if (!p) return;
    if (!CHILD_CHECK_ERRNO(r, sealkit_mseal(p, page(), 0) == 0)) return;
    CloneVmTask task;
    if (!CHILD_CHECK_ERRNO(r, task.start())) return;
    CHILD_CHECK(r, task.change(p) == EPERM);
    CHILD_CHECK(r, sealkit_is_sealed(p, page()) == 1);
    // A further seal would not bind the task (it exists before that filter): refused.
    errno = 0;
    CHILD_CHECK(r, fails_with(sealkit_mseal(at(p, 1), page(), 0), EBUSY));
    CHILD_CHECK(r, task.change(at(p, 1)) == 0);
    CHILD_CHECK(r, sealkit_is_sealed(p, page()) == 1);  // the first seal still binds everyone
    task.stop();
  });
}

// A filter that went in while such a task already existed (the window
// between sealkit_mseal's look for them and its install, made here by
// installing one directly): sealkit_is_sealed says 0 while the task lives.
TEST(SeccompSharedMm, IsSealedSaysNoWhileATaskTheFilterMissesLives) {
  EXPECT_CHILD_PASSES([](ChildReport& r) {
    if (!use_seccomp(r)) return;
    std::byte* p = fresh(r, 1);
    if (!p) return;
    CloneVmTask task;
    if (!CHILD_CHECK_ERRNO(r, task.start())) return;
    const auto start = reinterpret_cast<std::uintptr_t>(p);
    backend::seccomp::SealedRange range{start, start + page(), true};
    backend::seccomp::Input in;
    in.ranges = &range;
    in.count = 1;
    in.task_size = backend::seccomp::task_size();
    static backend::seccomp::Program program;
    if (!CHILD_CHECK(r, backend::seccomp::build(in, program) == backend::seccomp::BuildStatus::kOk)) return;
    if (!CHILD_CHECK(r, backend::seccomp::install(program).error == 0)) return;
    CHILD_CHECK(r, fails_with(::mprotect(p, page(), PROT_READ), EPERM));  // this thread is bound
    CHILD_CHECK(r, sealkit_is_sealed(p, page()) == 0);
    CHILD_CHECK(r, task.change(p) == 0);  // the task is not
    task.stop();
    CHILD_CHECK(r, sealkit_is_sealed(p, page()) == 1);  // everyone left is bound
  });
}

// kcmp refused, as Docker's default profile refuses it without
// CAP_SYS_PTRACE: the size test (a reservation's size showing up in the
// task's /proc/PID/statm) still finds the task.
TEST(SeccompSharedMm, WithKcmpRefusedTheTaskIsStillFound) {
  EXPECT_CHILD_PASSES([](ChildReport& r) {
    if (!deny_syscall(SYS_kcmp, EPERM)) return r.skip("cannot install a seccomp filter on this architecture");
    if (!use_seccomp(r)) return;
    std::byte* p = fresh(r, 1);
    if (!p) return;
    {
      CloneVmTask task;
      if (!CHILD_CHECK_ERRNO(r, task.start())) return;
      errno = 0;
      CHILD_CHECK(r, fails_with(sealkit_mseal(p, page(), 0), EBUSY));
      CHILD_CHECK(r, task.change(p) == 0);
    }
    CHILD_CHECK_ERRNO(r, sealkit_mseal(p, page(), 0) == 0);  // a forked child, say, is no such task
    CHILD_CHECK(r, sealkit_is_sealed(p, page()) == 1);
  });
}

// kcmp refused while another process of the machine maps and unmaps memory
// all the time (a compiler, a sanitizer's test): the size test must not take
// it for a sharer it cannot decide on, which would refuse every seal (EBUSY).
TEST(SeccompSharedMm, WithKcmpRefusedABusyProcessElsewhereIsNoSharer) {
  EXPECT_CHILD_PASSES([](ChildReport& r) {
    const pid_t churner = ::fork();
    if (!CHILD_CHECK_ERRNO(r, churner >= 0)) return;
    if (churner == 0) {
      for (unsigned n = 1;; n = n % 64 + 1) {
        void* m = ::mmap(nullptr, n * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m != MAP_FAILED) ::munmap(m, n * 4096);
      }
    }
    struct Reap {
      pid_t pid;
      ~Reap() {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
    } reap{churner};
    if (!deny_syscall(SYS_kcmp, EPERM)) return r.skip("cannot install a seccomp filter on this architecture");
    if (!use_seccomp(r)) return;
    for (int i = 0; i < 20; ++i) {
      std::byte* p = fresh(r, 1);
      if (!p) return;
      CHILD_CHECK_ERRNO(r, sealkit_mseal(p, page(), 0) == 0);
    }
  });
}

// A foreign allow-list that kills the process at kcmp (one that names
// seccomp but not kcmp): the library asks in a throwaway child first, so the
// backend is unusable (ENOSYS) and the process lives.
TEST(SeccompSharedMm, AFilterThatKillsAtKcmpLeavesTheBackendUnusableAndTheProcessAlive) {
  EXPECT_CHILD_PASSES([](ChildReport& r) {
#if defined(__x86_64__)
    sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_kcmp, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog prog{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
    if (!CHILD_CHECK_ERRNO(r, ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0)) return;
    if (!CHILD_CHECK_ERRNO(r, ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0)) return;
    choose_again("seccomp");
    CHILD_CHECK(r, std::strcmp(sealkit_backend(), "none") == 0);
    std::byte* p = fresh(r, 1);
    if (!p) return;
    errno = 0;
    CHILD_CHECK(r, fails_with(sealkit_mseal(p, page(), 0), ENOSYS));
#else
    r.skip("the seccomp backend is x86_64's only");
#endif
  });
}

}  // namespace
}  // namespace sealkit::test
