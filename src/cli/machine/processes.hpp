// The running processes that machine-wide sealing has not reached: dynamically
// linked (an object mapped from a ".so" file) without libsealkit-preload.so
// mapped. ld.so reads /etc/ld.so.preload only when a program starts, so these
// are the processes started before the line was written (or in a container
// with an /etc of its own); they are sealed once restarted. Each is named
// with its systemd unit, from /proc/PID/cgroup, so that a service can be
// restarted as a whole.
//
// And the statically linked programs running unsealed, which it never reaches.
//
// And the processes it reached that a seccomp filter keeps from sealing: the
// preload object is mapped but not sealed, and the process has filters
// (Seccomp: 2). Allow-lists written before mseal answer it with ENOSYS
// (systemd's SystemCallFilter=, container managers' lists); `sealkit audit`
// evaluates the filters and says what they answer.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/config.hpp"

namespace sealkit::cli::machine {

// What a process's mappings say about ld.so.preload's reach into it, fed
// each mapping's path in turn: whether ld.so ran (an object mapped from a
// ".so" file: the program is dynamically linked) and whether it mapped
// libsealkit-preload.so. The one rule behind `sealkit status`'s list and
// `sealkit audit`'s process states (cli/audit/process_state.hpp).
struct PreloadReach {
  bool dynamic = false;    // maps a ".so" file by an absolute path
  bool preloaded = false;  // maps libsealkit-preload.so

  void see(std::string_view path) noexcept;
  // ld.so ran in it: the runtime can reach it. Neither: a static program (or
  // a kernel thread or zombie, which map nothing).
  bool linked_dynamically() const noexcept { return dynamic || preloaded; }
  // Dynamically linked, the preload object not mapped: started before the
  // line was written, or under an /etc of its own.
  bool missed() const noexcept { return dynamic && !preloaded; }
};

struct UnsealedProcess {
  pid_t pid = 0;
  std::string comm;
  std::string unit;  // "ssh.service", "session-3.scope"; "-" when none
  long filters = 0;  // seccomp filters (Seccomp_filters:), for `filtered`
};

struct ProcessScan {
  std::vector<UnsealedProcess> unsealed;  // by unit, then pid
  std::vector<UnsealedProcess> filtered;  // the preload object mapped, not sealed, filters: by unit, then pid
  // Statically linked programs whose executable is not sealed: machine-wide
  // sealing never reaches them; `sealkit run -- PROGRAM` seals one it starts.
  std::vector<UnsealedProcess> static_unsealed;  // by unit, then pid
  std::size_t static_programs = 0;        // statically linked processes looked at, sealed or not
  std::size_t dynamic = 0;                // dynamically linked processes looked at
  std::size_t unreadable = 0;             // processes whose maps this user may not read
};

// `admin_config`: the administrator's runtime configuration as the runtime
// uses it (null: none): a program it excludes is not said to be kept from
// sealing by a filter.
ProcessScan processes_without_preload(const rt::Config* admin_config = nullptr);

// The unit a /proc/PID/cgroup text names: the last component of the cgroup
// path that ends in .service or .scope; "-" when none does. A unit below a
// user's service manager is named with it, "user@1000.service/app.service":
// its name is the user's to choose.
std::string unit_of_cgroup(const std::string& cgroup_text);

}  // namespace sealkit::cli::machine
