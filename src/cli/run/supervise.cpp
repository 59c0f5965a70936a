#include "cli/run/supervise.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "backend/seccomp/registration.hpp"
#include "backend/seccomp/registration_proto.hpp"
#include "supervisor/supervisor_process.hpp"
#include "cli/run/parent.hpp"

namespace sealkit::cli::run_supervise {

namespace {

namespace sc = backend::seccomp;

}  // namespace

// Already under a supervisor (sealkit run inside sealkit run, or a supervised
// shell starting one): the kernel allows one listener per chain of filters,
// so a second root filter would be EBUSY; the outer supervisor serves this
// program too, through the socket the environment names, when the kernel
// vouches for it (registration::untrusted_supervisor). A variable naming
// anything else is dropped, and this run supervises its program itself.
bool already_supervised() {
  namespace reg = backend::seccomp::registration;
  const int fd = reg::parse_supervisor_fd(std::getenv(reg::kSupervisorFdEnv));
  if (fd >= 0 && reg::untrusted_supervisor(fd) == nullptr) return true;
  ::unsetenv(reg::kSupervisorFdEnv);
  return false;
}

int run(const char* path, char* const argv[], std::string& why) {
  if (already_supervised()) {
    ::execv(path, argv);
    why = "cannot run " + std::string(path) + ": " + std::strerror(errno);
    return 2;
  }
  run_parent::install_forwarding();
  sc::SupervisedChild child = sc::spawn_supervised(path, argv);
  if (child.pid < 0) {
    run_parent::restore_defaults();
    why = "cannot start " + std::string(path) + " under the seccomp supervisor: " + child.step + ": " +
          std::strerror(child.error);
    return 2;
  }
  run_parent::set_child(child.pid);
  run_parent::install_wake_on_child_exit();
  const int status = sc::supervise_until_exit(child);
  run_parent::set_child(0);
  run_parent::restore_defaults();
  // Descendants still running (a daemon the program started) keep their
  // supervisor; sealkit itself ends now, with the program.
  sc::keep_supervising_in_background(child);
  child.supervisor.reset();
  run_parent::end_like(status);
}

}  // namespace sealkit::cli::run_supervise
