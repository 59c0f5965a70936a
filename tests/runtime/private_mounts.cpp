#include "runtime/private_mounts.hpp"

#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace sealkit::test {

namespace {

bool fail(const std::string& what, std::string& why) {
  why = what + (errno ? std::string(": ") + std::strerror(errno) : std::string());
  return false;
}

}  // namespace

bool enter_private_mounts(const std::vector<std::string>& dirs, std::string& scratch, std::string& why) {
  namespace fs = std::filesystem;
  errno = 0;
  if (geteuid() != 0) return fail("needs root: a private mount namespace and overlays", why);
  if (unshare(CLONE_NEWNS) != 0) return fail("unshare(CLONE_NEWNS)", why);
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return fail("making / private", why);
  char tmpl[] = "/tmp/sealkit-private-XXXXXX";
  if (!mkdtemp(tmpl)) return fail("mkdtemp", why);
  scratch = tmpl;
  if (mount("sealkit-test", scratch.c_str(), "tmpfs", 0, "mode=0755") != 0) return fail("tmpfs on " + scratch, why);
  for (std::size_t i = 0; i < dirs.size(); ++i) {
    const std::string upper = scratch + "/.overlay" + std::to_string(i) + "/upper";
    const std::string work = scratch + "/.overlay" + std::to_string(i) + "/work";
    fs::create_directories(upper);
    fs::create_directories(work);
    const std::string opts = "lowerdir=" + dirs[i] + ",upperdir=" + upper + ",workdir=" + work;
    if (mount("overlay", dirs[i].c_str(), "overlay", 0, opts.c_str()) != 0) return fail("overlay on " + dirs[i], why);
  }
  return true;
}

}  // namespace sealkit::test
