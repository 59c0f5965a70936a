#include "cli/machine/installation.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/machine/command.hpp"
#include "cli/machine/preload_file.hpp"
#include "runtime/trusted_file.hpp"

namespace sealkit::cli::machine {

namespace {

namespace fs = std::filesystem;

std::string mode_text(mode_t m) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

// The object opened by the runtime's own trust rule; -1 with `why` filled.
int open_object(const ClassObject& c, std::string& why) {
  rt::TrustProblem problem;
  const int fd = rt::open_trusted(c.object.c_str(), rt::Owners::kRoot, 0, problem);
  if (fd < 0) {
    why = (problem.part.size() == c.object.size() ? c.object : std::string(problem.part)) + " " + problem.what;
  }
  return fd;
}

std::string ldconfig_path() { return find_program({"/sbin/ldconfig", "/usr/sbin/ldconfig"}); }

}  // namespace

bool find_installation(Installation& out, std::string& error) {
  out = {};
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) {
    error = "cannot read /proc/self/exe: " + ec.message();
    return false;
  }
  out.prefix = exe.parent_path().parent_path().string();
  out.line_file = out.prefix + "/" SEALKIT_INSTALL_DATADIR "/sealkit/ld.so.preload";
  std::ifstream in(out.line_file);
  if (!in) {
    error = out.line_file + " not found: this sealkit (" + exe.string() +
            ") is not an installed one; install it first (cmake --install BUILD --prefix /usr) and run the installed "
            "sealkit";
    return false;
  }
  std::stringstream s;
  s << in.rdbuf();
  out.line = s.str();
  const std::vector<std::string> names = preload_names(out.line);
  if (names.size() != 1 || out.line.back() != '\n' || out.line.find('#') != std::string::npos ||
      !is_sealkit_entry(names[0])) {
    error = out.line_file + " should hold one line naming libsealkit-preload.so; reinstall sealkit";
    return false;
  }
  out.name = names[0];
  const std::string lib_form = out.prefix + "/$LIB/sealkit/" + std::string(kPreloadObject);
  if (out.name == kPreloadObject) {
    out.bare = true;
  } else if (out.name != lib_form) {
    error = out.line_file + " names " + out.name + ", but this sealkit is installed under " + out.prefix +
            " (expected " + lib_form + " or the bare name for /usr); reinstall sealkit";
    return false;
  }
  auto add = [&](const char* label, int elf_class, const std::string& libdir) {
    ClassObject c{label, elf_class, out.prefix + "/" + libdir + "/sealkit/" + std::string(kPreloadObject), ""};
    if (out.bare) c.link = out.prefix + "/" + libdir + "/" + std::string(kPreloadObject);
    out.classes.push_back(c);
  };
  add("64-bit", ELFCLASS64, SEALKIT_RUNTIME_LIBDIR);
#if defined(__x86_64__)
  // Every 32-bit program's ld.so reads the same /etc/ld.so.preload.
  struct stat st {};
  if (::stat("/lib/ld-linux.so.2", &st) == 0) {
    add("32-bit", ELFCLASS32, SEALKIT_RUNTIME_LIBDIR_I386);
  } else {
    out.without_32_bit = "no i386 ld.so (/lib/ld-linux.so.2) on this machine: no 32-bit program reads the line";
  }
#else
  out.without_32_bit = "not an x86_64 machine: sealkit builds no 32-bit objects here";
#endif
  return true;
}

std::vector<Check> check_object(const ClassObject& c) {
  std::vector<Check> checks;
  std::string why;
  const int fd = open_object(c, why);
  if (fd < 0) {
    const bool missing = why.find("does not exist") != std::string::npos;
    checks.push_back({false, c.label + " preload object " + c.object,
                      why + (missing ? "; install sealkit's " + c.label +
                                           " objects (cmake --install; the 32-bit ones need g++-multilib at build time)"
                                     : "; the runtime's rule: root's, writable by nobody else, no link on the way "
                                       "(chown root, chmod go-w)")});
    return checks;
  }
  unsigned char ident[EI_NIDENT] = {};
  const bool elf = ::pread(fd, ident, sizeof ident, 0) == static_cast<ssize_t>(sizeof ident) &&
                   std::memcmp(ident, ELFMAG, SELFMAG) == 0;
  struct stat st {};
  ::fstat(fd, &st);
  ::close(fd);
  if (!elf || ident[EI_CLASS] != c.elf_class) {
    checks.push_back({false, c.label + " preload object " + c.object,
                      std::string(elf ? "is an ELF object of the other class" : "is not an ELF object") +
                          "; reinstall sealkit"});
    return checks;
  }
  checks.push_back({true, c.label + " preload object " + c.object,
                    "root's, mode " + mode_text(st.st_mode) + ", whole path root's and writable only by root"});
  if (c.link.empty()) return checks;

  struct stat lst {}, target {};
  std::error_code ec;
  const std::string points_to = fs::read_symlink(c.link, ec).string();
  const bool present = ::lstat(c.link.c_str(), &lst) == 0;
  if (!present || !S_ISLNK(lst.st_mode)) {
    checks.push_back({false, c.label + " link " + c.link,
                      (present ? std::string("is not a symbolic link") : std::string("is missing")) +
                          ": ld.so finds the bare name in its trusted directory there; reinstall sealkit "
                          "(cmake --install --prefix /usr makes it)"});
  } else if (lst.st_uid != 0) {
    checks.push_back({false, c.label + " link " + c.link, "is not root's; remove it and reinstall sealkit"});
  } else if (::stat(c.link.c_str(), &target) != 0 || target.st_dev != st.st_dev || target.st_ino != st.st_ino) {
    checks.push_back({false, c.label + " link " + c.link,
                      "points to " + points_to + ", not to sealkit/" + std::string(kPreloadObject) +
                          "; reinstall sealkit"});
  } else {
    checks.push_back({true, c.label + " link " + c.link, "-> " + points_to});
  }
  return checks;
}

std::optional<ObjectMode> object_mode(const ClassObject& c) {
  struct stat st {};
  if (::lstat(c.object.c_str(), &st) != 0) return std::nullopt;
  return ObjectMode{st.st_uid, st.st_gid, st.st_mode};
}

bool set_setuid_bit(const ClassObject& c, bool on, std::string& error) {
  std::string why;
  const int fd = open_object(c, why);
  if (fd < 0) {
    error = why;
    return false;
  }
  struct stat st {};
  bool ok = ::fstat(fd, &st) == 0;
  const mode_t mode = on ? (st.st_mode | S_ISUID) : (st.st_mode & ~S_ISUID);
  if (ok && (st.st_mode & 07777) != (mode & 07777)) ok = ::fchmod(fd, mode & 07777) == 0;
  if (!ok) error = c.object + ": chmod " + (on ? "u+s" : "u-s") + ": " + std::strerror(errno);
  ::close(fd);
  return ok;
}

bool cache_entries(const std::vector<ClassObject>& classes, std::vector<std::string>& resolved, std::string& error) {
  resolved.assign(classes.size(), "");
  const std::string ldconfig = ldconfig_path();
  if (ldconfig.empty()) {
    error = "ldconfig not found in /sbin or /usr/sbin";
    return false;
  }
  Ran r;
  if (!run_command({ldconfig, "-p"}, r, error)) return false;
  if (r.status != 0) {
    error = "ldconfig -p exited with status " + std::to_string(r.status) + ": " + r.err;
    return false;
  }
  // "\tlibsealkit-preload.so (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libsealkit-preload.so"
  std::istringstream lines(r.out);
  std::string line;
  const std::string prefix = std::string(kPreloadObject) + " (";
  while (std::getline(lines, line)) {
    const std::size_t b = line.find_first_not_of(" \t");
    if (b == std::string::npos || line.compare(b, prefix.size(), prefix) != 0) continue;
    const std::size_t arrow = line.find(" => ");
    if (arrow == std::string::npos) continue;
    const std::string path = line.substr(arrow + 4);
    struct stat listed {};
    if (::stat(path.c_str(), &listed) != 0) continue;
    for (std::size_t i = 0; i < classes.size(); ++i) {
      struct stat object {};
      if (resolved[i].empty() && ::stat(classes[i].object.c_str(), &object) == 0 && object.st_dev == listed.st_dev &&
          object.st_ino == listed.st_ino)
        resolved[i] = path;
    }
  }
  return true;
}

bool run_ldconfig(std::string& error) {
  const std::string ldconfig = ldconfig_path();
  if (ldconfig.empty()) {
    error = "ldconfig not found in /sbin or /usr/sbin";
    return false;
  }
  Ran r;
  if (!run_command({ldconfig}, r, error, {}, 120)) return false;
  if (r.status != 0) {
    error = "ldconfig exited with status " + std::to_string(r.status) + ": " + r.err;
    return false;
  }
  return true;
}

}  // namespace sealkit::cli::machine
