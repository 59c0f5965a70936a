// A process for `sealkit audit`'s filter tests (audit_filters_test.cpp).
//
//   filter_seal_target seal     seals an anonymous mapping and its own text through the library
//                               (the caller sets SEALKIT_BACKEND=seccomp), leaves a control mapping
//   filter_seal_target allow    installs a seccomp filter that allows everything, seals nothing
//   filter_seal_target deny     installs a sandbox-like filter: mprotect, munmap, mremap and mmap with
//                               MAP_FIXED fail with EPERM everywhere (no seal, memory management forbidden)
//   filter_seal_target plain    no filter
//   filter_seal_target vfork    installs the allow-everything filter, then vfork()s: the child says
//                               "ready" and waits for its stdin to close, so the parent stays blocked in
//                               vfork (it cannot stop for a tracer) until then; both then exit 0
//
// Then it prints one line per VMA of /proc/self/maps, "BEGIN END ANSWER"
// (hex, hex, sealkit_is_sealed's answer for the VMA: 1, 0 or -1), then
// "sealed BEGIN END" and "control BEGIN END" for its two mappings, then
// "ready", and waits for SIGKILL.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "sealkit/sealkit.h"

namespace {

struct Vma {
  std::uintptr_t begin = 0, end = 0;
};

std::vector<Vma> own_vmas() {
  std::vector<Vma> out;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    Vma v;
    if (std::sscanf(line.c_str(), "%" SCNxPTR "-%" SCNxPTR, &v.begin, &v.end) == 2) out.push_back(v);
  }
  return out;
}

int install(sock_filter* insns, unsigned short length) {
  sock_fprog prog{length, insns};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
  return static_cast<int>(::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog));
}

int install_allow_all() {
  sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  return install(allow, 1);
}

// What a user may give any process of theirs to make an audit of it costly:
// seven filters (the kernel's limit of 32768 instructions on a path) that
// each load an argument 2045 times and then allow, so that no two addresses
// can share an answer and each call the audit asks about runs them all.
int install_costly() {
  static sock_filter costly[4091];
  std::size_t n = 0;
  while (n + 2 < sizeof costly / sizeof costly[0]) {
    costly[n++] = BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0]));
    costly[n++] = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 0);
  }
  costly[n++] = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  for (int i = 0; i < 7; ++i)
    if (install(costly, static_cast<unsigned short>(n)) != 0) return -1;
  return 0;
}

// Both ABIs: a 64-bit process can still make i386 calls with int 0x80, and
// the audit counts memory below 8 GiB sealed only if those are refused too.
int install_deny_memory_management() {
  constexpr std::uint32_t kI386Mmap = 90, kI386Munmap = 91, kI386Mprotect = 125, kI386Mremap = 163, kI386Mmap2 = 192;
  sock_filter deny[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 6, 0),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),  // x86_64 (and anything else)
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mprotect, 12, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_munmap, 11, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mremap, 10, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 7, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),  // i386
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kI386Mprotect, 6, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kI386Munmap, 5, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kI386Mremap, 4, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kI386Mmap, 3, 0),  // old mmap: its arguments are in memory
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kI386Mmap2, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[3])),  // mmap, mmap2: the flags
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, MAP_FIXED, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  return install(deny, sizeof deny / sizeof deny[0]);
}

// The child shares the parent's memory until it exits: raw system calls only,
// no stdio, no return from this frame.
int vfork_and_wait() {
  std::fflush(stdout);
  const pid_t child = ::vfork();
  if (child == 0) {
    static const char ready[] = "ready\n";
    ::syscall(SYS_write, 1, ready, sizeof ready - 1);
    char c;
    long r;
    while ((r = ::syscall(SYS_read, 0, &c, 1)) > 0 || (r < 0 && errno == EINTR)) {
    }
    ::syscall(SYS_exit_group, 0);
  }
  if (child < 0) return 7;
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 8;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::string mode = argv[1];
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  // Three pages sealed and two left alone, with a PROT_NONE page between so
  // that the kernel cannot merge the two mappings into one VMA.
  auto* region = static_cast<char*>(::mmap(nullptr, 6 * page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (region == MAP_FAILED || ::mprotect(region + 3 * page, page, PROT_NONE) != 0) return 3;
  char* sealed = region;
  char* control = region + 4 * page;
  if (mode == "seal") {
    if (sealkit_mseal(sealed, 3 * page, 0) != 0) {
      std::perror("sealkit_mseal of the anonymous mapping");
      return 4;
    }
    // Its own text: the VMA holding main().
    const auto here = reinterpret_cast<std::uintptr_t>(&main);
    for (const Vma& v : own_vmas()) {
      if (here >= v.begin && here < v.end && sealkit_mseal(reinterpret_cast<void*>(v.begin), v.end - v.begin, 0) != 0) {
        std::perror("sealkit_mseal of the text");
        return 5;
      }
    }
  } else if (mode == "allow") {
    if (install_allow_all() != 0) {
      std::perror("seccomp");
      return 6;
    }
  } else if (mode == "costly") {
    if (install_costly() != 0) {
      std::perror("seccomp");
      return 6;
    }
  } else if (mode == "vfork") {
    if (install_allow_all() != 0) {
      std::perror("seccomp");
      return 6;
    }
  } else if (mode != "plain" && mode != "deny") {
    return 2;
  }
  for (const Vma& v : own_vmas()) {
    const int answer = sealkit_is_sealed(reinterpret_cast<void*>(v.begin), v.end - v.begin);
    std::printf("%" PRIxPTR " %" PRIxPTR " %d\n", v.begin, v.end, answer);
  }
  std::printf("sealed %" PRIxPTR " %" PRIxPTR "\n", reinterpret_cast<std::uintptr_t>(sealed),
              reinterpret_cast<std::uintptr_t>(sealed + 3 * page));
  std::printf("control %" PRIxPTR " %" PRIxPTR "\n", reinterpret_cast<std::uintptr_t>(control),
              reinterpret_cast<std::uintptr_t>(control + 2 * page));
  std::printf("backend %s\n", sealkit_backend());
  // Last: after it no mmap(MAP_FIXED) or munmap works, which a sanitizer runtime needs.
  if (mode == "deny" && install_deny_memory_management() != 0) {
    std::perror("seccomp");
    return 6;
  }
  if (mode == "vfork") return vfork_and_wait();
  std::printf("ready\n");
  std::fflush(stdout);
  for (;;) ::pause();
}
