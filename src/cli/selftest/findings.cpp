#include "cli/selftest/findings.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/selftest/io_uring.hpp"
#include "core/page.hpp"
#include "sealkit/sealkit.h"

namespace sealkit::cli::selftest {

namespace {

constexpr unsigned char kAttackByte = 0x5a;


// The kernel writes with FOLL_FORCE on behalf of /proc/PID/mem, overriding
// the page protection; mseal guards mappings, not this path.
CallOutcome write_proc_self_mem(const Target& t) {
  int fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
  if (fd < 0) return setup_failure("open /proc/self/mem");
  unsigned char bytes[16];
  std::memset(bytes, kAttackByte, sizeof bytes);
  CallOutcome o = outcome(pwrite(fd, bytes, sizeof bytes, static_cast<off_t>(t.addr)) == sizeof bytes);
  close(fd);
  return o;
}

// A forked copy of this process (seals are inherited) stops under
// PTRACE_TRACEME; this process then pokes a word into its copy of the target.
CallOutcome ptrace_poke(const Target& t) {
  pid_t tracee = fork();
  if (tracee < 0) return setup_failure("fork of the tracee");
  if (tracee == 0) {
    if (ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) _exit(1);
    raise(SIGSTOP);
    _exit(0);
  }
  int status = 0;
  while (waitpid(tracee, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFSTOPPED(status)) {
    errno = ECHILD;
    return setup_failure("the tracee did not stop under PTRACE_TRACEME");
  }
  long word;
  std::memset(&word, kAttackByte, sizeof word);
  CallOutcome o = outcome(ptrace(PTRACE_POKEDATA, tracee, reinterpret_cast<void*>(t.addr), word) == 0);
  if (o.ok) {
    errno = 0;
    long back = ptrace(PTRACE_PEEKDATA, tracee, reinterpret_cast<void*>(t.addr), nullptr);
    if (back == word) o.note.set("the tracee's copy of the memory now holds the poked word");
    else o.note.set("POKEDATA returned 0, but PEEKDATA reads back %#lx", static_cast<unsigned long>(back));
    o.ok = back == word;
  }
  kill(tracee, SIGKILL);
  while (waitpid(tracee, &status, 0) < 0 && errno == EINTR) {
  }
  return o;
}

// userfaultfd fills missing pages. Read-only anonymous pages that were never
// touched are missing, and a seal does not stop UFFDIO_COPY from filling
// them with chosen bytes. The page is a fresh one beside the target, sealed
// exactly when the target is (the target's own pages are all present).
CallOutcome userfaultfd_fill(const Target& t) {
  const std::size_t ps = core::page_size();
  void* page = mmap(nullptr, ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return setup_failure("mmap of a fresh read-only page");
  if (t.sealed && sealkit_mseal(page, ps, 0) != 0) return setup_failure("sealkit_mseal of the fresh page");
  int uffd = static_cast<int>(syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY));
  if (uffd < 0) return setup_failure("userfaultfd");
  uffdio_api api{};
  api.api = UFFD_API;
  if (ioctl(uffd, UFFDIO_API, &api) != 0) return setup_failure("UFFDIO_API");
  uffdio_register reg{};
  reg.range = {reinterpret_cast<std::uintptr_t>(page), ps};
  reg.mode = UFFDIO_REGISTER_MODE_MISSING;
  if (ioctl(uffd, UFFDIO_REGISTER, &reg) != 0) {
    CallOutcome o = outcome(false);
    o.note.set("UFFDIO_REGISTER refused");
    return o;
  }
  void* source = mmap(nullptr, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (source == MAP_FAILED) return setup_failure("mmap of the source page");
  std::memset(source, kAttackByte, ps);
  uffdio_copy copy{};
  copy.dst = reinterpret_cast<std::uintptr_t>(page);
  copy.src = reinterpret_cast<std::uintptr_t>(source);
  copy.len = ps;
  CallOutcome o = outcome(ioctl(uffd, UFFDIO_COPY, &copy) == 0);
  if (o.ok) {
    o.ok = *static_cast<volatile unsigned char*>(page) == kAttackByte;
    o.note.set(o.ok ? "the read-only page now holds the copied bytes" : "UFFDIO_COPY returned 0 but the page differs");
  }
  return o;
}

CallOutcome no_op(const Target&) {
  CallOutcome o;
  o.ok = true;
  return o;
}

struct Words {
  const char* works;    // status when the sealed call succeeded
  const char* refused;  // status when it was refused
};

Finding interpret(Finding f, const std::string& action, Words words, const ChildResult& sealed,
                  const ChildResult& control) {
  f.sealed = sealed;
  f.control = control;
  auto note = [](const ChildResult& r) { return r.detail.empty() ? std::string() : " (" + r.detail + ")"; };
  if (!control.ran || !control.ok) {
    f.status = "not testable here";
    f.detail = !control.ran ? "the unsealed control could not run: " + control.detail
                            : "even without a seal, " + action + " failed with " + errno_name(control.err) +
                                  note(control);
  } else if (!sealed.ran) {
    f.status = "not testable here";
    f.detail = "the sealed run could not run: " + sealed.detail;
  } else if (sealed.ok) {
    f.status = words.works;
    f.detail = action + " succeeded on sealed read-only memory" + note(sealed) +
               (sealed.intact ? "" : "; the sealed memory changed");
  } else {
    f.status = words.refused;
    f.detail = action + " was refused on sealed read-only memory with " + errno_name(sealed.err) +
               (sealed.intact ? ", memory unchanged" : ", yet the memory changed") +
               "; without the seal it succeeded";
  }
  return f;
}

Finding probe(Finding f, const std::string& action, Words words, PrimitiveFn fn) {
  ChildResult sealed = run_in_child(MappingClass::kAnonPrivateRo, true, fn);
  ChildResult control = run_in_child(MappingClass::kAnonPrivateRo, false, fn);
  return interpret(std::move(f), action, words, sealed, control);
}

}  // namespace

std::vector<Finding> probe_not_covered() {
  const Words words{"not covered", "blocked"};
  std::vector<Finding> out;
  out.push_back(probe({"proc_self_mem", "/proc/self/mem"}, "a 16-byte write through /proc/self/mem", words,
                      write_proc_self_mem));
  out.push_back(probe({"ptrace", "ptrace"}, "PTRACE_POKEDATA into a traced copy of the process", words, ptrace_poke));
  out.push_back(probe({"userfaultfd", "userfaultfd"}, "UFFDIO_COPY into a never-touched page", words,
                      userfaultfd_fill));
  return out;
}

Finding probe_io_uring() {
  Finding f{"io_uring_madvise", "io_uring IORING_OP_MADVISE"};
  f = probe(std::move(f), "IORING_OP_MADVISE(MADV_DONTNEED)", {"bypasses seals", "honours seals"},
            io_uring_madvise_dontneed);
  if (f.status == "not testable here")
    f.detail += " (/proc/sys/kernel/io_uring_disabled: " + io_uring_disabled_setting() + ")";
  return f;
}

// Whether sealkit_mseal works here at all: a child seals a page.
bool kernel_can_seal(std::string& why) {
  ChildResult r = run_in_child(MappingClass::kAnonPrivateRw, true, no_op);
  if (!r.ran) why = r.detail;
  return r.ran;
}

}  // namespace sealkit::cli::selftest
