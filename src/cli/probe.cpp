// `sealkit probe`: what this machine offers for sealing. Every fact is tested
// on the running kernel, never inferred from a version number.
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "backend/kernel.hpp"
#include "backend/seccomp/sealer.hpp"
#include "cli/command.hpp"
#include "cli/machine/kernel_facts.hpp"
#include "cli/output.hpp"
#include "core/kernel_abi.hpp"
#include "sealkit/sealkit.h"

namespace sealkit::cli {

namespace {

struct Fact {
  std::string key;
  std::string label;
  nlohmann::json value;  // bool, string or null (unknown)
  std::string detail;
};

std::string kernel_release() {
  struct utsname u {};
  if (uname(&u) != 0) return "unknown";
  return u.release;
}

Fact from(const char* key, const char* label, const machine::KernelFact& k) {
  return {key, label, k.value ? nlohmann::json(*k.value) : nlohmann::json(nullptr), k.detail};
}

// Install an allow-everything filter in a child process (filters cannot be
// removed, so never in this one).
Fact seccomp_works() {
  Fact f{"seccomp_filter", "seccomp filters can be installed", false, ""};
  pid_t pid = fork();
  if (pid < 0) {
    f.value = nullptr;
    f.detail = std::string("fork failed: ") + std::strerror(errno);
    return f;
  }
  if (pid == 0) {
    sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    sock_fprog prog{1, allow};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(10);
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0) _exit(20 + (errno & 0x3f));
    _exit(0);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    f.value = true;
    f.detail = "a child process installed a filter with no_new_privs and TSYNC";
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == 10) {
    f.detail = "prctl(PR_SET_NO_NEW_PRIVS) failed";
  } else if (WIFEXITED(status) && WEXITSTATUS(status) >= 20) {
    f.detail = std::string("seccomp(SECCOMP_SET_MODE_FILTER) failed: ") + std::strerror(WEXITSTATUS(status) - 20);
  } else if (WIFSIGNALED(status)) {
    f.detail = std::string("the test child was killed by SIG") +
               (sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : std::to_string(WTERMSIG(status))) +
               (prctl(PR_GET_SECCOMP) == SECCOMP_MODE_FILTER ? " (this process runs under a seccomp filter)" : "");
  } else {
    f.detail = "the test child did not exit normally";
  }
  return f;
}

// PROCMAP_QUERY makes sealkit_is_sealed cheap on ranges of many VMAs.
Fact procmap_query() {
  Fact f{"procmap_query", "PROCMAP_QUERY ioctl on /proc/self/maps", false, ""};
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    f.value = nullptr;
    f.detail = std::string("cannot open /proc/self/maps: ") + std::strerror(errno);
    return f;
  }
  kabi::ProcmapQuery q{};
  q.size = sizeof q;
  q.query_flags = kabi::kProcmapQueryCoveringOrNextVma;
  q.query_addr = reinterpret_cast<std::uintptr_t>(&fd);
  if (ioctl(fd, kabi::kProcmapQueryIoctl, &q) == 0) {
    f.value = true;
    f.detail = "supported (Linux 6.11+)";
  } else {
    f.detail = std::string("not supported: ") + std::strerror(errno);
  }
  close(fd);
  return f;
}

int run_probe(bool json) {
  std::vector<Fact> facts;
  facts.push_back({"kernel_release", "kernel release", kernel_release(), "uname -r"});
  facts.push_back({"glibc_version", "glibc version", gnu_get_libc_version(), "gnu_get_libc_version()"});
  Fact ms = from("mseal", "mseal(2) seals memory", machine::mseal_seals());
  facts.push_back(ms);
  facts.push_back(from("system_mappings_sealed", "kernel seals system mappings", machine::kernel_seals_system_mappings()));
  facts.push_back(seccomp_works());
  facts.push_back(procmap_query());
  // mseal does not cover writes through /proc/PID/mem (docs/security.md): whether this kernel refuses them.
  facts.push_back(from("proc_mem_writes_blocked", "writes through /proc/PID/mem refused",
                       machine::proc_mem_writes_blocked()));
  std::string force_detail;
  const std::string force = machine::proc_mem_force_override(force_detail);
  facts.push_back({"proc_mem_force_override", "proc_mem.force_override", force, force_detail});
  facts.push_back({"seal_probe", "one-syscall seal query verified", backend::kernel::probe_reliable(),
                   "same-size mremap answers EPERM on a sealed VMA (used by sealkit_is_sealed)"});
  const char* no_seccomp = backend::seccomp::unusable_reason();
  facts.push_back({"seccomp_backend", "seccomp backend usable", no_seccomp == nullptr,
                   no_seccomp ? no_seccomp : "seccomp-BPF filters with SECCOMP_RET_ERRNO (sets no_new_privs at the "
                                             "first seal unless CAP_SYS_ADMIN)"});
  facts.push_back({"backend", "sealkit backend", sealkit_backend(),
                   "what libsealkit seals with here (SEALKIT_BACKEND: kernel, seccomp or auto)"});
  facts.push_back({"backend_if_seccomp", "backend with SEALKIT_BACKEND=seccomp", no_seccomp ? "none" : "seccomp",
                   "what libsealkit would seal with when the filter is forced"});
  facts.push_back({"version", "sealkit version", sealkit_version(), ""});

  const bool can_seal = ms.value == true;
  if (json) {
    nlohmann::json j;
    j["facts"] = nlohmann::json::object();
    for (const Fact& f : facts) j["facts"][f.key] = {{"value", f.value}, {"detail", f.detail}};
    j["can_seal"] = can_seal;
    print_json(j);
  } else {
    std::vector<std::vector<std::string>> rows{{"FACT", "VALUE", "HOW WE KNOW"}};
    for (const Fact& f : facts) {
      std::string v = f.value.is_boolean() ? (f.value.get<bool>() ? "yes" : "no")
                       : f.value.is_null() ? "unknown"
                                           : f.value.get<std::string>();
      rows.push_back({f.label, v, f.detail});
    }
    print_table(rows);
    if (!can_seal && prctl(PR_GET_SECCOMP) == SECCOMP_MODE_FILTER)
      std::cout << "\nmseal(2) is refused here: this process runs under a seccomp filter (a service manager's or "
                   "container's), which may answer for the kernel.\n";
    else if (!can_seal)
      std::cout << "\nThis kernel cannot seal memory (mseal(2) needs Linux 6.10 or later on 64-bit).\n";
  }
  return can_seal ? kExitOk : kExitFinding;
}

}  // namespace

Runner add_probe(CLI::App& app) {
  auto* sub = app.add_subcommand("probe", "Test what this machine offers for memory sealing");
  auto json = std::make_shared<bool>(false);
  sub->add_flag("--json", *json, "Print the facts as JSON");
  sub->footer("Exit status: 0 the kernel can seal, 1 it cannot, 2 an error.");
  return [json] { return run_probe(*json); };
}

}  // namespace sealkit::cli
