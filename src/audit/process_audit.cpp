// audit_process and ElfLayoutCache: reading a live process and the ELF files
// behind its mappings, where anything may vanish or be out of reach.
#include "audit/process_audit.hpp"

#include <elf.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "audit/filter_seals.hpp"
#include "audit/seccomp_filters.hpp"
#include "audit/vma_class.hpp"
#include "backend/seccomp/filter.hpp"
#include "core/bpf_eval.hpp"
#include "core/proc_maps.hpp"
#include "core/read_fd.hpp"
#include "supervisor/supervisor_query.hpp"

namespace sealkit::audit {

using namespace core;

namespace {

constexpr unsigned long kPfKthread = 0x00200000;  // include/linux/sched.h
constexpr int kSmapsAttempts = 3;

bool same_identity(const struct stat& st, const MapsEntry& m) noexcept {
  return S_ISREG(st.st_mode) && major(st.st_dev) == m.dev_major && minor(st.st_dev) == m.dev_minor &&
         static_cast<std::uint64_t>(st.st_ino) == m.inode;
}

// Opens `path` only if it is a regular file with the mapping's identity:
// stat() first, so that a device node that happens to be mapped is never
// opened (an open can have side effects in a driver), fstat() after, so
// that a file swapped in between is caught.
int open_identical(const char* path, const MapsEntry& m) {
  struct stat st;
  if (::stat(path, &st) != 0 || !same_identity(st, m)) return -1;
  int fd = ::open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return -1;
  if (::fstat(fd, &st) != 0 || !same_identity(st, m)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

ElfLookup read_layout(int fd) {
  ElfLookup r;
  unsigned char magic[4] = {};
  if (::pread(fd, magic, sizeof magic, 0) != static_cast<ssize_t>(sizeof magic) || magic[0] != 0x7f ||
      magic[1] != 'E' || magic[2] != 'L' || magic[3] != 'F') {
    r.kind = ElfLookup::Kind::kNotElf;
    return r;
  }
  std::string error;
  auto facts = read_elf_fd(fd, error);
  auto layout = facts ? layout_from_headers(facts->segments, facts->mutable_sections) : std::nullopt;
  if (!layout) {
    r.kind = ElfLookup::Kind::kNotElf;  // malformed, or nothing a loader maps from offset 0
    return r;
  }
  r.kind = ElfLookup::Kind::kElf;
  r.layout = std::make_shared<const ElfLayout>(std::move(*layout));
  return r;
}

// "/proc/PID/NAME" paths. Each file is opened by its full path rather than
// relative to an open /proc/PID: two system calls fewer per process, which
// bench/audit measures; a pid reused between two reads is not guarded
// against (the kernel hands pids out in increasing order, so it needs a
// wrap-around of the pid space within microseconds).
class ProcPaths {
 public:
  explicit ProcPaths(pid_t pid) {
    base_ = std::snprintf(buf_, sizeof buf_, "/proc/%d/", static_cast<int>(pid));
  }
  const char* operator()(const char* name) {
    std::snprintf(buf_ + base_, sizeof buf_ - static_cast<std::size_t>(base_), "%s", name);
    return buf_;
  }

 private:
  char buf_[64];
  int base_ = 0;
};

struct StatLine {
  std::string comm;
  char state = '?';
  unsigned long flags = 0;
};

enum class SmapsRead { kWhole, kImageGone, kImageUnfinished, kFailed };

// What /proc/PID/auxv says: whether exec is still building the address space
// it opens on, and whether the process runs in secure execution.
//
// Unfinished: the kernel fills saved_auxv (create_elf_tables) only after it
// has mapped the program, its interpreter and the vDSO, and before the
// program runs one instruction; until then the vector reads as a lone
// AT_NULL. A list read in between (the new stack alone) is true but is not
// the image's memory. No address space (a kernel thread, a process gone)
// reads as nothing, and is not unfinished: smaps then reads as nothing too,
// and says why.
//
// Secure: AT_SECURE, the kernel's own word that ld.so ran the program in
// secure execution (set-user-ID, set-group-ID, file capabilities, an LSM's
// say) and so ignored LD_AUDIT and LD_PRELOAD. The vector is in the
// process's own word size: read as 64-bit pairs when that parses (small types,
// ending in AT_NULL), else as 32-bit ones.
struct AuxvFacts {
  bool unfinished = false;
  bool secure = false;
};

template <typename Word>
bool find_at_secure(const unsigned char* v, std::size_t n, bool& secure) {
  for (std::size_t at = 0; at + 2 * sizeof(Word) <= n; at += 2 * sizeof(Word)) {
    Word type, value;
    std::memcpy(&type, v + at, sizeof type);
    std::memcpy(&value, v + at + sizeof type, sizeof value);
    if (type == AT_NULL) return true;
    if (type > 4096) return false;  // not this word size: no auxv type is that large
    if (type == AT_SECURE) secure = value != 0;
  }
  return false;  // no AT_NULL: not this word size
}

AuxvFacts read_auxv(const std::string& auxv_path) {
  AuxvFacts f;
  int fd = ::open(auxv_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return f;  // it ended since smaps was opened: smaps reads nothing
  unsigned char v[1024];  // AT_VECTOR_SIZE entries of 16 bytes, and room
  ssize_t n;
  do {
    n = ::read(fd, v, sizeof v);
  } while (n < 0 && errno == EINTR);
  ::close(fd);
  if (n < static_cast<ssize_t>(sizeof(unsigned long))) return f;
  bool all_zero = true;
  for (std::size_t i = 0; i < sizeof(unsigned long); ++i) all_zero = all_zero && v[i] == 0;
  if (all_zero) {
    f.unfinished = true;  // the first entry's type is AT_NULL
    return f;
  }
  const auto len = static_cast<std::size_t>(n);
  bool secure = false;
  if (find_at_secure<std::uint64_t>(v, len, secure) || (secure = false, find_at_secure<std::uint32_t>(v, len, secure)))
    f.secure = secure;
  return f;
}

// The most of one smaps file the audit reads. A process has at most
// vm.max_map_count VMAs (65530 unless raised); an smaps entry is under 1 KiB
// plus its path (at most PATH_MAX, 4 KiB). 65530 entries with the longest
// paths are 330 MiB, and the 262144 VMAs databases have the limit raised to,
// at 1 KiB each, 256 MiB: 1 GiB cuts no real process and bounds what the
// audit allocates.
constexpr std::size_t kMaxSmapsBytes = std::size_t{1} << 30;

// Reads /proc/PID/smaps whole into `buf`, which is kept for the whole run: its
// memory is allocated and faulted in once, not once per process (zero-filling
// and faulting fresh buffers cost more than parsing: bench/audit). The used
// length goes to `len`; kFailed with errno set (EFBIG past kMaxSmapsBytes).
//
// The file is tied to the address space it was opened on, and once that is
// gone (the process exec'd or exited) the next read returns 0, as at the end:
// a list cut short between two reads, with no error, that would be reported
// as the process's whole memory. So at the end the same descriptor is read
// again from the start: the first entry comes back only while that address
// space lives (kImageGone otherwise: read it again from a fresh open). The
// executable's path (`exe_link`, /proc/PID/exe, into `exe`) is read before
// that check, so that it is the one of the image the list is of.
//
// An address space can also be read while exec is still building it: the
// kernel installs the new one before it maps the program into it. So between
// opening smaps and reading it, /proc/PID/auxv (`auxv_path`) must show a
// finished exec (kImageUnfinished otherwise). Opened after smaps, it opens
// either on the same address space or on a later one; a later one means the
// first had finished, since only a running image can exec again.
SmapsRead read_smaps(const std::string& path, const std::string& exe_link, const std::string& auxv_path,
                     std::string& buf, std::size_t& len, std::string& exe, bool& secure) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return SmapsRead::kFailed;
  len = 0;
  const AuxvFacts auxv = read_auxv(auxv_path);
  if (auxv.unfinished) {
    ::close(fd);
    return SmapsRead::kImageUnfinished;
  }
  secure = auxv.secure;
  const std::optional<std::size_t> got = read_fd(fd, buf, kMaxSmapsBytes);
  if (!got) {
    const int e = errno;
    ::close(fd);
    errno = e;
    return SmapsRead::kFailed;
  }
  len = *got;
  char link[4096];
  const ssize_t m = ::readlink(exe_link.c_str(), link, sizeof link);
  exe.assign(link, m > 0 && static_cast<std::size_t>(m) < sizeof link ? static_cast<std::size_t>(m) : 0);
  SmapsRead r = SmapsRead::kWhole;
  if (len != 0) {
    char first;
    ssize_t n;
    do {
      n = ::lseek(fd, 0, SEEK_SET) == 0 ? ::read(fd, &first, 1) : -1;
    } while (n < 0 && errno == EINTR);
    if (n != 1) r = SmapsRead::kImageGone;
  }
  ::close(fd);
  return r;
}

// /proc/PID/stat: "pid (comm) state ppid pgrp session tty tpgid flags ...".
// comm may hold spaces and parentheses: it ends at the last ')'.
std::optional<StatLine> read_stat(ProcPaths& proc, int& err) {
  char buf[1024];
  int fd = ::open(proc("stat"), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    err = errno;
    return std::nullopt;
  }
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  err = errno;
  ::close(fd);
  if (n <= 0) {
    if (n == 0) err = ESRCH;
    return std::nullopt;
  }
  buf[n] = '\0';
  const std::string_view text(buf, static_cast<std::size_t>(n));
  auto open = text.find('(');
  auto close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close + 2 >= text.size()) {
    err = EIO;
    return std::nullopt;
  }
  StatLine s;
  s.comm.assign(text.substr(open + 1, close - open - 1));
  s.state = text[close + 2];
  // Six fields after the state come the flags.
  std::size_t pos = close + 2;
  for (int field = 0; field < 6 && pos != std::string_view::npos; ++field) pos = text.find(' ', pos + 1);
  if (pos != std::string_view::npos) s.flags = std::strtoul(buf + pos + 1, nullptr, 10);
  return s;
}

bool gone_errno(int e) noexcept { return e == ENOENT || e == ESRCH; }
bool denied_errno(int e) noexcept { return e == EACCES || e == EPERM; }

// A process whose smaps read as empty or failed: what it is now.
void explain_no_memory(ProcPaths& proc, ProcessAudit& a) {
  int err = 0;
  auto st = read_stat(proc, err);
  if (!st || st->state == 'X' || st->state == 'x') {
    a.status = AuditStatus::kGone;
    a.detail = "exited while it was read";
  } else if (st->flags & kPfKthread) {
    a.status = AuditStatus::kKernelThread;
  } else if (st->state == 'Z') {
    a.status = AuditStatus::kZombie;
  } else {
    a.status = AuditStatus::kGone;
    a.detail = "no memory left (exiting)";
  }
}

// The parent of `pid` from its status ("PPid:"), 0 when unknown.
pid_t parent_of(pid_t pid) {
  thread_local std::string text;
  if (!read_status_text(pid, text)) return 0;
  const auto at = text.find("\nPPid:\t");
  return at == std::string::npos ? 0 : static_cast<pid_t>(std::strtol(text.c_str() + at + 7, nullptr, 10));
}

constexpr int kSupervisorAncestors = 8;       // how far up the tree a supervisor is looked for
constexpr std::size_t kMaxOtherSupervisors = 16;  // asked beyond the ancestors, at most

// The pids in the names of the supervisors' query sockets
// ("@sealkit-supervisor-PID" in /proc/net/unix: this network namespace's).
// Only candidates: query::ask() addresses only a process running this
// executable and believes only an answer the kernel says came from that pid.
std::vector<pid_t> listening_supervisors() {
  std::vector<pid_t> out;
  auto text = read_proc_file("/proc/net/unix");
  if (!text) return out;
  const std::string prefix = std::string("@") + backend::seccomp::query::kNamePrefix;
  std::string_view rest = *text;
  while (!rest.empty() && out.size() < kMaxOtherSupervisors) {
    const std::size_t eol = rest.find('\n');
    const std::string_view line = rest.substr(0, eol);
    rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);
    const std::size_t at = line.rfind(' ');
    if (at == std::string_view::npos || line.substr(at + 1, prefix.size()) != prefix) continue;
    const std::string_view digits = line.substr(at + 1 + prefix.size());
    long pid = digits.empty() || digits.size() > 9 ? -1 : 0;
    for (char c : digits) pid = pid >= 0 && c >= '0' && c <= '9' ? pid * 10 + (c - '0') : -1;
    if (pid > 1) out.push_back(static_cast<pid_t>(pid));
  }
  return out;
}

// The very programs the supervisor runs for the answer's records: the
// generator's, from the same ranges, ERRNO action. False: a record that does
// not build (then nothing of the answer is used).
bool rebuild(const backend::seccomp::query::Answer& a, SupervisorAnswer& out) {
  namespace gen = backend::seccomp;
  auto program = std::make_unique<gen::Program>();
  for (const auto& ranges : a.records) {
    gen::Input in{ranges.data(), ranges.size(), gen::task_size()};
    if (gen::build(in, *program) != gen::BuildStatus::kOk ||
        !core::bpf::check_seccomp_program(program->insns, program->length).empty()) {
      out.programs.clear();
      return false;
    }
    out.programs.emplace_back(program->insns, program->insns + program->length);
  }
  return true;
}

// Asks the target's ancestors, nearest first, for the supervisor that holds
// its records (supervisor/supervisor_query.hpp); `sealkit run` is the
// program's parent. A daemon the program left behind is served by a
// background supervisor that is no ancestor of it (the daemon was reparented
// when the program exited): then every other supervisor listening here is
// asked, and the one that holds records for the target answers. Records are
// keyed by the target's own token memfds, so no other supervisor has any;
// when none has, the pages stay undecided rather than "not sealed" (the one
// that holds them may be in another network namespace).
//
// Each question waits at most `timeout` (--answer-timeout), spent from the run's
// budget (`waits`, may be null); a supervisor that let one pass unanswered is
// not asked again in this run, so that a stopped supervisor costs the run
// that wait once, not once per process it supervises.
SupervisorAnswer ask_supervisor(pid_t pid, std::chrono::microseconds timeout, WaitBudget* waits) {
  namespace query = backend::seccomp::query;
  const std::string not_asked = "not asked: the audit's time for waiting on processes was spent";
  auto ask = [&](pid_t supervisor) {
    query::Answer a;
    if (!query::runs_this_executable(supervisor)) {
      a.error = "not running this sealkit";  // not a supervisor: no wait, nothing spent
      return a;
    }
    if (waits && waits->silent_supervisors.count(supervisor) != 0) {
      a.error = "did not answer an earlier question in this run";
      return a;
    }
    auto granted = timeout;
    if (waits) granted = waits->grant(granted);
    if (granted <= std::chrono::microseconds(0)) {
      a.error = not_asked;
      return a;
    }
    const auto t0 = WaitBudget::Clock::now();
    a = query::ask(supervisor, pid, static_cast<int>(granted.count() / 1000));
    if (waits) {
      waits->spend(WaitBudget::Clock::now() - t0);
      if (a.error.rfind("no answer within", 0) == 0) waits->silent_supervisors.insert(supervisor);
    }
    return a;
  };
  SupervisorAnswer out;
  out.error = "no supervisor among its ancestors";
  std::vector<pid_t> asked;
  pid_t at = pid;
  for (int level = 0; level < kSupervisorAncestors; ++level) {
    at = parent_of(at);
    if (at <= 1) break;
    query::Answer a = ask(at);
    asked.push_back(at);
    if (a.error == "not running this sealkit" || a.error == "no supervisor socket") continue;
    out.pid = at;
    if (!a.error.empty()) {
      out.error = "supervisor " + std::to_string(at) + ": " + a.error;
      return out;
    }
    out.error = rebuild(a, out) ? "" : "supervisor " + std::to_string(at) + ": a record that does not build";
    return out;
  }
  std::size_t answered_empty = 0;
  for (pid_t other : listening_supervisors()) {
    if (other == pid || std::find(asked.begin(), asked.end(), other) != asked.end()) continue;
    query::Answer a = ask(other);
    if (a.error == not_asked) {
      out.error = "no supervisor among its ancestors; others " + not_asked;
      return out;
    }
    if (!a.error.empty()) continue;
    if (a.records.empty()) {
      ++answered_empty;
      continue;
    }
    out.pid = other;
    out.error = rebuild(a, out) ? "" : "supervisor " + std::to_string(other) + ": a record that does not build";
    return out;
  }
  if (answered_empty != 0)
    out.error = "no supervisor among its ancestors, and none of the " + std::to_string(answered_empty) +
                " others listening holds records for it";
  return out;
}

// After smaps: filters are only ever added, so ones read later than the
// smaps can only seal more of what smaps showed, never less.
void add_filter_seals(pid_t pid, const AuditOptions& options, const std::optional<SeccompStatus>& status,
                      ProcessAudit& a) {
  if (!options.filters_unreadable.empty()) {
    a.filters.reason = options.filters_unreadable;  // status stays not_checked
    return;
  }
  if (!status) {
    a.filters.status = FilterSummary::Status::kUnknown;
    a.filters.reason = "its status shows no State line";
    return;
  }
  FilterReadLimits limits;
  limits.stop_timeout = options.stop_timeout;
  limits.budget = options.waits;
  ProcessFilters filters = read_filters(pid, *status, limits);
  if (filters.status == ProcessFilters::Status::kBusy || filters.status == ProcessFilters::Status::kTimeout) {
    // What it has sealed is not known: skipped, as a process that could not be read at all.
    a.status = filters.status == ProcessFilters::Status::kBusy ? AuditStatus::kBusy : AuditStatus::kTimeout;
    a.detail = std::move(filters.reason);
    return;
  }
  const FilterAbi* abi = nullptr;
  if (filters.status == ProcessFilters::Status::kRead) {
    // The ABI from the executable, not from the stopped thread's arch: that
    // one is i386 only while a 32-bit process is inside a system call.
    std::string why;
    abi = process_abi(pid, why);
    if (!abi) a.filters.reason = why;
  }
  WaitBudget* waits = options.waits;
  const auto timeout = options.answer_timeout;
  std::uint64_t* run = options.filter_run_budget;
  const std::uint64_t budget = run ? std::min(options.filter_budget, *run) : options.filter_budget;
  apply_filter_seals(filters, abi, budget, a, [pid, timeout, waits] { return ask_supervisor(pid, timeout, waits); });
  if (run) *run -= std::min(*run, a.filters.executed);
}

}  // namespace

const char* to_string(FilterSummary::Status s) noexcept {
  switch (s) {
    case FilterSummary::Status::kNotChecked: return "not_checked";
    case FilterSummary::Status::kNone: return "none";
    case FilterSummary::Status::kRead: return "read";
    case FilterSummary::Status::kUnknown: return "unknown";
  }
  return "unknown";
}

bool FilterSummary::refuses_mseal() const noexcept {
  const std::uint32_t action = mseal_ret & SECCOMP_RET_ACTION_FULL;
  return status == Status::kRead && action != SECCOMP_RET_ALLOW && action != SECCOMP_RET_LOG;
}

std::string mseal_answer(std::uint32_t ret) {
  switch (ret & SECCOMP_RET_ACTION_FULL) {
    case SECCOMP_RET_ALLOW: return "allowed";
    case SECCOMP_RET_LOG: return "logged";
    case SECCOMP_RET_ERRNO: {
      const int e = static_cast<int>(ret & SECCOMP_RET_DATA);
      const char* name = ::strerrorname_np(e);
      return name ? name : "errno " + std::to_string(e);
    }
    case SECCOMP_RET_TRAP: return "trap";
    case SECCOMP_RET_USER_NOTIF: return "user_notif";
    case SECCOMP_RET_TRACE: return "trace";
    default: return "kill";
  }
}

const char* to_string(AuditStatus s) noexcept {
  switch (s) {
    case AuditStatus::kOk: return "ok";
    case AuditStatus::kGone: return "gone";
    case AuditStatus::kDenied: return "denied";
    case AuditStatus::kKernelThread: return "kernel_thread";
    case AuditStatus::kZombie: return "zombie";
    case AuditStatus::kTorn: return "torn";
    case AuditStatus::kBusy: return "busy";
    case AuditStatus::kTimeout: return "timeout";
  }
  return "gone";
}

ElfLookup ElfLayoutCache::lookup(pid_t pid, const MapsEntry& m) {
  auto key = std::make_tuple(m.dev_major, m.dev_minor, m.inode);
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  ++files_read_;
  std::string path(m.path);
  int fd = open_identical(path.c_str(), m);
  if (fd < 0) {
    char alt[96];
    std::snprintf(alt, sizeof alt, "/proc/%d/map_files/%lx-%lx", static_cast<int>(pid),
                  static_cast<unsigned long>(m.range.begin), static_cast<unsigned long>(m.range.end));
    fd = open_identical(alt, m);
  }
  ElfLookup r;
  if (fd >= 0) {
    r = read_layout(fd);
    ::close(fd);
  }
  cache_.emplace(key, r);
  return r;
}

ProcessAudit audit_process(pid_t pid, ElfLayoutCache& cache) { return audit_process(pid, cache, AuditOptions{}); }

ProcessAudit audit_process(pid_t pid, ElfLayoutCache& cache, const AuditOptions& options) {
  ProcessAudit a;
  a.pid = pid;
  ProcPaths proc(pid);

  // With filters, status (comm and the seccomp lines in one file); without,
  // comm alone, not stat: the kernel computes much for a stat line, and
  // kernel threads and zombies (the reasons to look at it) show an empty smaps.
  const bool filters = options.filters && options.filters_unreadable.empty();
  std::optional<SeccompStatus> seccomp;
  if (filters) {
    thread_local std::string status_text;
    if (!read_status_text(pid, status_text)) {
      const int e = errno;
      a.status = denied_errno(e) ? AuditStatus::kDenied : AuditStatus::kGone;
      a.detail = std::strerror(e);
      return a;
    }
    a.comm = status_name(status_text).value_or("");
    seccomp = parse_seccomp_status(status_text);
    if (seccomp) a.uid = seccomp->euid;
  } else {
    char comm[64];
    int comm_fd = ::open(proc("comm"), O_RDONLY | O_CLOEXEC);
    ssize_t comm_len = comm_fd < 0 ? -1 : ::read(comm_fd, comm, sizeof comm);
    const int comm_err = errno;
    if (comm_fd >= 0) ::close(comm_fd);
    if (comm_len < 0) {
      a.status = denied_errno(comm_err) ? AuditStatus::kDenied : AuditStatus::kGone;
      a.detail = std::strerror(comm_err);
      return a;
    }
    a.comm.assign(comm, static_cast<std::size_t>(comm_len));
    if (!a.comm.empty() && a.comm.back() == '\n') a.comm.pop_back();
    struct stat dir;
    if (::stat(proc(""), &dir) == 0) a.uid = static_cast<long>(dir.st_uid);
  }
  ElfLookupFn lookup = [&](const MapsEntry& m) { return cache.lookup(pid, m); };
  thread_local std::string buffer;
  thread_local std::string smaps_path, exe_link, auxv_path;
  smaps_path = proc("smaps");
  exe_link = proc("exe");
  auxv_path = proc("auxv");
  for (int attempt = 0; attempt < kSmapsAttempts; ++attempt) {
    std::size_t len = 0;
    const SmapsRead read = read_smaps(smaps_path, exe_link, auxv_path, buffer, len, a.exe, a.secure_exec);
    if (read == SmapsRead::kImageGone) {
      a.detail = "its program changed (exec) or it exited while its smaps was read";
      continue;
    }
    if (read == SmapsRead::kImageUnfinished) {
      a.detail = "it was in the middle of an exec, its program not yet mapped";
      continue;
    }
    if (read == SmapsRead::kFailed) {
      const int e = errno;
      if (denied_errno(e)) {
        a.status = AuditStatus::kDenied;
        a.detail = std::strerror(e);
      } else {
        explain_no_memory(proc, a);
        if (!gone_errno(e) && a.status == AuditStatus::kGone) a.detail = std::strerror(e);
      }
      return a;
    }
    if (len == 0) {
      explain_no_memory(proc, a);
      return a;
    }
    ProcessAudit c = classify_smaps(std::string_view(buffer.data(), len), lookup);
    if (c.status == AuditStatus::kTorn) {
      a.detail = c.detail;
      continue;
    }
    c.pid = a.pid;
    c.comm = std::move(a.comm);
    c.exe = std::move(a.exe);
    c.uid = a.uid;
    c.secure_exec = a.secure_exec;
    if (options.filters) add_filter_seals(pid, options, seccomp, c);
    return c;
  }
  a.status = AuditStatus::kTorn;
  return a;
}

}  // namespace sealkit::audit
