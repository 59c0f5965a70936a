#include "cli/run/backend.hpp"

#include "backend/kernel.hpp"
#include "backend/seccomp/install.hpp"
#include "backend/seccomp/sealer.hpp"

namespace sealkit::cli::run_backend {

std::string choose_backend(const std::string& requested, std::string& why) {
  if (requested != "auto") return requested;  // explicit: kernel, or seccomp with its consequences accepted
  if (backend::kernel::available()) return "kernel";
  if (backend::seccomp::unusable_reason() != nullptr) return "kernel";  // nothing else here: the runtime logs ENOSYS
  // With CAP_SYS_ADMIN the filter needs no no_new_privs: nothing changes for
  // the program but the sealing, so auto may pick it.
  if (backend::seccomp::has_cap_sys_admin()) return "seccomp";
  why =
      "this kernel has no mseal(2); sealing here needs the seccomp backend, which sets no_new_privs for the program "
      "and everything it starts, forever: setuid and setgid programs and file capabilities no longer raise "
      "privileges inside it (sudo, su, passwd stop working). Pass --backend seccomp to accept that, or --backend "
      "kernel to run it unsealed (docs/runtime.md, \"The runtime on the seccomp backend\")";
  return "";
}

}  // namespace sealkit::cli::run_backend
