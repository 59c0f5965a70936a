#include "cli/machine/canary.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <sstream>

#include "cli/machine/command.hpp"
#include "cli/machine/preload_file.hpp"
#include "core/proc_maps.hpp"
#include "core/read_fd.hpp"

#if SEALKIT_HAVE_CANARY_I386
extern "C" const unsigned char sealkit_canary_i386_begin[];
extern "C" const unsigned char sealkit_canary_i386_end[];
#endif

namespace sealkit::cli::machine {

namespace {

namespace fs = std::filesystem;

// The most of the namespaced child's report read: a line per canary, each
// under a KiB.
constexpr std::size_t kMaxReport = std::size_t{1} << 20;

struct Nobody {
  uid_t uid = 65534;
  gid_t gid = 65534;
};

Nobody nobody() {
  Nobody n;
  if (const passwd* pw = ::getpwnam("nobody")) {
    n.uid = pw->pw_uid;
    n.gid = pw->pw_gid;
  }
  return n;
}

std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\t') c = ' ';
  }
  if (s.size() > 400) s = s.substr(0, 400) + "...";
  return s;
}

bool write_whole(const std::string& path, const void* data, std::size_t size, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  const auto* p = static_cast<const char*>(data);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd, p + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  const bool ok = done == size && ::fchown(fd, 0, 0) == 0 && ::fchmod(fd, mode) == 0;
  return ::close(fd) == 0 && ok;
}

bool copy_file(const std::string& from, const std::string& to, mode_t mode) {
  std::error_code ec;
  if (!fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec)) return false;
  return ::chown(to.c_str(), 0, 0) == 0 && ::chmod(to.c_str(), mode) == 0;
}

// What one canary's output shows: `program` is the path smaps gives its file.
CanaryResult judge(const std::string& name, const Ran& r, const std::string& program, const Nobody* setuid_by) {
  CanaryResult c{name, Outcome::kFailed, ""};
  if (r.status != 0) {
    c.detail = "exited with status " + std::to_string(r.status) + (r.err.empty() ? "" : ": " + one_line(r.err));
    return c;
  }
  if (!r.err.empty()) {
    c.detail = "printed on stderr: " + one_line(r.err);
    return c;
  }
  if (setuid_by) {
    const std::string uid_line = "\nUid:\t" + std::to_string(setuid_by->uid) + "\t0\t";
    if (r.out.find(uid_line) == std::string::npos) {
      c.detail = "did not run in secure execution (real uid " + std::to_string(setuid_by->uid) +
                 ", effective 0): is sealkit running under no_new_privs, or /tmp on a nosuid mount?";
      return c;
    }
  }
  std::size_t text = 0, text_sealed = 0;
  std::string preload;
  core::for_each_smaps_entry(r.out, [&](const core::SmapsEntry& e) {
    const std::string_view path = e.map.path;
    if (path == program && e.map.exec) {
      ++text;
      if (e.has_vmflags && e.sealed) ++text_sealed;
    }
    const std::size_t slash = path.rfind('/');
    if (slash != std::string_view::npos && path.substr(slash + 1) == kPreloadObject) preload = path;
    return true;
  });
  if (preload.empty()) {
    c.detail = "ld.so did not load " + std::string(kPreloadObject) + " (it is not in the program's smaps)";
  } else if (text == 0) {
    c.detail = "its text (" + program + ") is not in its smaps";
  } else if (text_sealed != text) {
    c.detail = "its text (" + program + ") is not sealed: no \"sl\" in VmFlags";
  } else {
    c.outcome = Outcome::kPassed;
    c.detail = "text sealed, " + preload + " mapped" + (setuid_by ? ", secure execution (uid nobody, euid 0)" : "");
  }
  return c;
}

// Runs `argv` and judges it; an exec that the kernel refuses as a format it
// does not run (a 32-bit program without ia32 emulation) is a skip.
CanaryResult canary(const std::string& name, const std::vector<std::string>& argv, const std::string& program,
                    const Nobody* as) {
  Ran r;
  std::string error;
  int exec_errno = 0;
  RunAs run_as;
  if (as) run_as = RunAs{true, as->uid, as->gid};
  if (!run_command(argv, r, error, run_as, 30, &exec_errno)) {
    if (exec_errno == ENOEXEC)
      return {name, Outcome::kSkipped, "this kernel does not run 32-bit programs (exec: Exec format error), so none "
                                       "reads the line"};
    return {name, Outcome::kFailed, error};
  }
  return judge(name, r, program, as);
}

// The child's work, in its own mount namespace. Results go to `out` one per
// line: "passed|failed|skipped|error <TAB> name <TAB> detail".
void in_namespace(const CanaryPlan& plan, const std::string& dir, const Nobody& who, int out) {
  auto say = [&](const char* outcome, const std::string& name, const std::string& detail) {
    const std::string line = std::string(outcome) + "\t" + one_line(name) + "\t" + one_line(detail) + "\n";
    (void)!::write(out, line.data(), line.size());
  };
  auto fail = [&](const std::string& what) {
    say("error", "", what + (errno != 0 ? std::string(": ") + std::strerror(errno) : std::string()));
    ::_exit(1);
  };
  if (::unshare(CLONE_NEWNS) != 0) fail("unshare(CLONE_NEWNS)");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) fail("making / private");
  // No MS_NOSUID: the setuid canary must start in secure execution.
  if (::mount("sealkit-canary", dir.c_str(), "tmpfs", 0, "mode=0755") != 0) fail("tmpfs on " + dir);
  const std::string upper = dir + "/etc-upper", work = dir + "/etc-work";
  if (::mkdir(upper.c_str(), 0755) != 0 || ::mkdir(work.c_str(), 0700) != 0) fail("mkdir in " + dir);
  const std::string opts = "lowerdir=/etc,upperdir=" + upper + ",workdir=" + work;
  if (::mount("sealkit-canary", "/etc", "overlay", 0, opts.c_str()) != 0)
    fail("overlay on /etc (a machine whose /etc is already an overlay two levels deep cannot stack another)");
  if (!write_whole(kPreloadFile, plan.preload_text.data(), plan.preload_text.size(), 0644))
    fail(std::string("writing the namespace's ") + kPreloadFile);
  if (plan.rebuild_cache) {
    struct stat st {};
    if (::stat("/var/cache/ldconfig", &st) == 0 &&
        ::mount("sealkit-canary", "/var/cache/ldconfig", "tmpfs", 0, "mode=0700") != 0)
      fail("tmpfs on /var/cache/ldconfig");
    std::string error;
    const std::string ldconfig = find_program({"/sbin/ldconfig", "/usr/sbin/ldconfig"});
    Ran r;
    if (ldconfig.empty() || !run_command({ldconfig}, r, error, {}, 120) || r.status != 0) {
      errno = 0;
      fail("ldconfig in the namespace: " + (ldconfig.empty() ? "not found" : error + one_line(r.err)));
    }
  }
  for (std::size_t i = 0; i < plan.setuid_objects.size(); ++i) {
    const std::string copy = dir + "/object" + std::to_string(i) + ".so";
    if (!copy_file(plan.setuid_objects[i], copy, 04644)) fail("copying " + plan.setuid_objects[i]);
    if (::mount(copy.c_str(), plan.setuid_objects[i].c_str(), nullptr, MS_BIND, nullptr) != 0)
      fail("bind-mounting a set-user-ID copy over " + plan.setuid_objects[i]);
  }
  const std::vector<std::string> files = {"/proc/self/status", "/proc/self/smaps"};
  auto args = [&](const std::string& program) {
    std::vector<std::string> a{program};
    a.insert(a.end(), files.begin(), files.end());
    return a;
  };
  auto report = [&](const CanaryResult& c) {
    say(c.outcome == Outcome::kPassed ? "passed" : c.outcome == Outcome::kSkipped ? "skipped" : "failed", c.name,
        c.detail);
  };

  std::error_code ec;
  const std::string cat = fs::canonical("/bin/cat", ec).string();
  if (ec) fail("/bin/cat");
  const std::string setuid_cat = dir + "/cat-setuid";
  if (!copy_file(cat, setuid_cat, 04755)) fail("copying " + cat);
  report(canary("64-bit program (" + cat + ")", args(cat), cat, nullptr));
  report(canary("64-bit setuid program run by nobody (a setuid-root copy of " + cat + ")", args(setuid_cat),
                setuid_cat, &who));
  if (!plan.with_32_bit) return;
#if SEALKIT_HAVE_CANARY_I386
  const std::string c32 = dir + "/canary-i386", setuid_c32 = dir + "/canary-i386-setuid";
  const std::size_t size = static_cast<std::size_t>(sealkit_canary_i386_end - sealkit_canary_i386_begin);
  if (!write_whole(c32, sealkit_canary_i386_begin, size, 0755) ||
      !write_whole(setuid_c32, sealkit_canary_i386_begin, size, 04755))
    fail("writing the 32-bit canary");
  report(canary("32-bit program (sealkit's 32-bit canary)", args(c32), c32, nullptr));
  report(canary("32-bit setuid program run by nobody", args(setuid_c32), setuid_c32, &who));
#else
  say("skipped", "32-bit programs",
      "this sealkit was built without its 32-bit canary (no -m32 toolchain: g++-multilib), so no 32-bit program "
      "was tried");
#endif
}

}  // namespace

bool run_canaries(const CanaryPlan& plan, std::vector<CanaryResult>& results, std::string& error) {
  results.clear();
  const Nobody who = nobody();
  char tmpl[] = "/tmp/sealkit-canary-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    error = std::string("cannot make a directory for the canaries under /tmp: ") + std::strerror(errno);
    return false;
  }
  const std::string dir = tmpl;
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    error = std::string("pipe2: ") + std::strerror(errno);
    ::rmdir(dir.c_str());
    return false;
  }
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    error = std::string("fork: ") + std::strerror(errno);
    ::close(p[0]);
    ::close(p[1]);
    ::rmdir(dir.c_str());
    return false;
  }
  if (pid == 0) {
    ::close(p[0]);
    in_namespace(plan, dir, who, p[1]);
    ::_exit(0);
  }
  ::close(p[1]);
  // A line per program of the plan; a child that writes more than the cap
  // is broken and killed, so that the wait below cannot hang on it.
  const std::optional<std::string> text = core::read_fd(p[0], kMaxReport);
  ::close(p[0]);
  if (!text) ::kill(pid, SIGKILL);
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  ::rmdir(dir.c_str());  // its tmpfs went with the namespace
  std::istringstream lines(text.value_or(std::string()));
  std::string line;
  while (std::getline(lines, line)) {
    const std::size_t t1 = line.find('\t'), t2 = line.find('\t', t1 + 1);
    if (t1 == std::string::npos || t2 == std::string::npos) continue;
    const std::string outcome = line.substr(0, t1);
    if (outcome == "error") {
      error = "the canaries could not be set up: " + line.substr(t2 + 1);
      return false;
    }
    results.push_back({line.substr(t1 + 1, t2 - t1 - 1),
                       outcome == "passed" ? Outcome::kPassed : outcome == "skipped" ? Outcome::kSkipped
                                                                                     : Outcome::kFailed,
                       line.substr(t2 + 1)});
  }
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || results.empty()) {
    error = "the canaries' process ended early (" +
            (WIFSIGNALED(st) ? "signal " + std::to_string(WTERMSIG(st)) : "status " + std::to_string(WEXITSTATUS(st))) +
            ")";
    return false;
  }
  return true;
}

}  // namespace sealkit::cli::machine
