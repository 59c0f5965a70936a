#include "fleet/machine_wide_switch.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "runtime/private_mounts.hpp"

namespace sealkit::test {

bool enter_machine_wide_switch(std::string& why) {
  std::string scratch;
  if (!enter_private_mounts({"/etc"}, scratch, why)) return false;
  return set_machine_wide(false, "", why);
}

bool set_machine_wide(bool on, const std::string& preload_object, std::string& why) {
  std::error_code ec;
  if (!on) {
    std::filesystem::remove("/etc/ld.so.preload", ec);
    if (ec) why = "removing this namespace's /etc/ld.so.preload: " + ec.message();
    return !ec;
  }
  std::ofstream out("/etc/ld.so.preload", std::ios::trunc);
  out << preload_object << '\n';
  out.close();
  if (!out) why = std::string("writing this namespace's /etc/ld.so.preload: ") + std::strerror(errno);
  return static_cast<bool>(out);
}

}  // namespace sealkit::test
