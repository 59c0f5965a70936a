#include "cli/machine/processes.hpp"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cerrno>
#include <sstream>
#include <string_view>

#include "cli/machine/preload_file.hpp"
#include "core/proc_maps.hpp"
#include "core/proc_status.hpp"

namespace sealkit::cli::machine {

namespace {

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

// Whether the runtime sealed in `pid`: it seals its own object first of all,
// so the object's VMAs carry the kernel's "sl" flag.
bool preload_sealed(const std::string& dir) {
  auto smaps = core::read_proc_file((dir + "/smaps").c_str());
  if (!smaps) return true;  // gone or unreadable: not said to be kept from sealing
  bool found = false, sealed = false;
  core::for_each_smaps_entry(*smaps, [&](const core::SmapsEntry& e) {
    PreloadReach reach;
    reach.see(e.map.path);
    if (!reach.preloaded) return true;
    found = true;
    sealed = e.has_vmflags && e.sealed;
    return !sealed;
  });
  return !found || sealed;
}

// A static program's executable (the mapping /proc/PID/exe names) shows
// sealed in smaps: `sealkit run` sealed it (run/static_seal.hpp), or it
// sealed itself.
bool executable_sealed(const std::string& dir) {
  char buf[4096];
  const ssize_t n = ::readlink((dir + "/exe").c_str(), buf, sizeof buf);
  if (n <= 0 || static_cast<std::size_t>(n) >= sizeof buf) return false;
  const std::string_view exe(buf, static_cast<std::size_t>(n));
  auto smaps = core::read_proc_file((dir + "/smaps").c_str());
  if (!smaps) return false;
  bool sealed = false;
  core::for_each_smaps_entry(*smaps, [&](const core::SmapsEntry& e) {
    sealed = e.map.path == exe && e.has_vmflags && e.sealed;
    return !sealed;
  });
  return sealed;
}

void name_process(UnsealedProcess& p, const std::string& dir) {
  if (auto comm = core::read_proc_file((dir + "/comm").c_str(), 64)) {
    p.comm = *comm;
    if (!p.comm.empty() && p.comm.back() == '\n') p.comm.pop_back();
  }
  auto cgroup = core::read_proc_file((dir + "/cgroup").c_str(), 65536);
  p.unit = cgroup ? unit_of_cgroup(*cgroup) : "-";
}

bool by_unit_then_pid(const UnsealedProcess& a, const UnsealedProcess& b) {
  return a.unit != b.unit ? a.unit < b.unit : a.pid < b.pid;
}

}  // namespace

void PreloadReach::see(std::string_view path) noexcept {
  const std::size_t slash = path.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  if (name == kPreloadObject) preloaded = true;
  if (!path.empty() && path.front() == '/' && name.find(".so") != std::string_view::npos) dynamic = true;
}

std::string unit_of_cgroup(const std::string& cgroup_text) {
  // cgroup v2 ("0::/system.slice/ssh.service") first; under v1 the name=systemd hierarchy says the same.
  std::istringstream lines(cgroup_text);
  std::string line, best = "-";
  int best_rank = 0;
  while (std::getline(lines, line)) {
    const std::size_t c1 = line.find(':'), c2 = line.find(':', c1 + 1);
    if (c1 == std::string::npos || c2 == std::string::npos) continue;
    const std::string_view controllers = std::string_view(line).substr(c1 + 1, c2 - c1 - 1);
    const int rank = controllers.empty() ? 2 : controllers == "name=systemd" ? 1 : 0;
    if (rank == 0 || rank <= best_rank) continue;
    std::string_view path = std::string_view(line).substr(c2 + 1);
    // Below a user's service manager (user@UID.service) the user names the
    // units (systemd-run --user --unit=sshd): such a unit is shown under its
    // manager, never as a system unit of the same name.
    std::string_view unit, manager;
    while (!path.empty()) {
      const std::size_t slash = path.find('/');
      const std::string_view part = path.substr(0, slash);
      if (manager.empty() && part.substr(0, 5) == "user@" && ends_with(part, ".service")) manager = part;
      if (ends_with(part, ".service") || ends_with(part, ".scope")) unit = part;
      path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    }
    best = unit.empty() ? "-" : manager.empty() || manager == unit ? std::string(unit)
                                                                   : std::string(manager) + "/" + std::string(unit);
    best_rank = rank;
  }
  return best;
}

ProcessScan processes_without_preload(const rt::Config* admin_config) {
  ProcessScan scan;
  DIR* proc = ::opendir("/proc");
  if (!proc) return scan;
  const pid_t self = ::getpid();
  while (const dirent* d = ::readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(d->d_name, &end, 10);
    if (pid <= 0 || *end != '\0' || pid == self) continue;
    const std::string dir = "/proc/" + std::string(d->d_name);
    auto maps = core::read_proc_file((dir + "/maps").c_str());
    if (!maps) {
      if (errno == EACCES || errno == EPERM) ++scan.unreadable;
      continue;  // gone
    }
    PreloadReach reach;
    bool maps_a_file = false;
    core::for_each_maps_entry(*maps, [&](const core::MapsEntry& e) {
      reach.see(e.path);
      maps_a_file |= !e.path.empty() && e.path.front() == '/';
      return !reach.preloaded;
    });
    if (!reach.linked_dynamically()) {
      // A kernel thread or a zombie maps nothing; a static program maps its
      // executable and no ".so": ld.so never runs in it.
      if (!maps_a_file) continue;
      ++scan.static_programs;
      if (executable_sealed(dir)) continue;
      UnsealedProcess p;
      p.pid = static_cast<pid_t>(pid);
      name_process(p, dir);
      scan.static_unsealed.push_back(std::move(p));
      continue;
    }
    ++scan.dynamic;
    UnsealedProcess p;
    p.pid = static_cast<pid_t>(pid);
    if (reach.preloaded) {
      // Only processes with filters pay for their smaps.
      const auto status = core::read_seccomp_status(p.pid);
      if (!status || status->mode != 2 || preload_sealed(dir)) continue;
      if (admin_config != nullptr && admin_config->has_program_patterns()) {
        char exe[4096];
        const ssize_t n = ::readlink((dir + "/exe").c_str(), exe, sizeof exe);
        if (n > 0 && static_cast<std::size_t>(n) < sizeof exe &&
            admin_config->program_excluded(std::string_view(exe, static_cast<std::size_t>(n))))
          continue;  // excluded on purpose, not kept from sealing
      }
      p.filters = status->filters;
      name_process(p, dir);
      scan.filtered.push_back(std::move(p));
      continue;
    }
    name_process(p, dir);
    scan.unsealed.push_back(std::move(p));
  }
  ::closedir(proc);
  std::sort(scan.unsealed.begin(), scan.unsealed.end(), by_unit_then_pid);
  std::sort(scan.filtered.begin(), scan.filtered.end(), by_unit_then_pid);
  std::sort(scan.static_unsealed.begin(), scan.static_unsealed.end(), by_unit_then_pid);
  return scan;
}

}  // namespace sealkit::cli::machine
