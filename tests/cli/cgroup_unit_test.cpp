// The unit `sealkit status` names for a process (cli/machine/processes.hpp,
// unit_of_cgroup), read from a real /proc/PID/cgroup: a child moved into
// cgroups laid out as systemd lays them out, in a scratch subtree of the
// machine's cgroup v2 hierarchy (root only). A unit below a user's service
// manager is the user's to name (systemd-run --user --unit=sshd): it must not
// read as the system unit of the same name.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "cli/machine/processes.hpp"
#include "core/proc_maps.hpp"

namespace {

namespace fs = std::filesystem;

// Where cgroup2 is mounted, from /proc/self/mountinfo; empty when nowhere.
std::string cgroup2_mount() {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    const std::size_t dash = line.find(" - ");
    if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) continue;
    std::istringstream f(line);
    std::string id, parent, dev, root, point;
    f >> id >> parent >> dev >> root >> point;
    return point;
  }
  return "";
}

class CgroupUnit : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string mount = cgroup2_mount();
    if (mount.empty()) GTEST_SKIP() << "no cgroup v2 hierarchy is mounted";
    scratch_ = mount + "/sealkit-test-" + std::to_string(::getpid());
    std::error_code ec;
    if (!fs::create_directory(scratch_, ec))
      GTEST_SKIP() << "cannot create a cgroup in " << mount << " (" << ec.message() << "): run as root";
  }
  void TearDown() override {
    if (child_ > 0) {
      ::kill(child_, SIGKILL);
      ::waitpid(child_, nullptr, 0);
    }
    if (scratch_.empty()) return;
    // Deepest first: a cgroup is removed with rmdir, once empty.
    std::vector<fs::path> dirs;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(scratch_, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
      if (it->is_directory()) dirs.push_back(it->path());
    for (auto d = dirs.rbegin(); d != dirs.rend(); ++d) ::rmdir(d->c_str());
    ::rmdir(scratch_.c_str());
  }

  // The unit of a child process moved into `path` (below the scratch cgroup).
  std::string unit_of_child_in(const std::string& path) {
    const fs::path dir = fs::path(scratch_) / path;
    fs::create_directories(dir);
    if (child_ <= 0) {
      child_ = ::fork();
      if (child_ == 0) {
        ::pause();
        ::_exit(0);
      }
    }
    std::ofstream(dir / "cgroup.procs") << child_ << std::flush;
    const auto text = sealkit::core::read_proc_file(("/proc/" + std::to_string(child_) + "/cgroup").c_str());
    if (!text) return "(unreadable)";
    EXPECT_NE(text->find(path), std::string::npos) << *text;
    return sealkit::cli::machine::unit_of_cgroup(*text);
  }

  std::string scratch_;
  pid_t child_ = -1;
};

}  // namespace

TEST_F(CgroupUnit, ASystemUnitIsNamedAlone) {
  EXPECT_EQ(unit_of_child_in("system.slice/ssh.service"), "ssh.service");
  EXPECT_EQ(unit_of_child_in("user.slice/user-65534.slice/session-7.scope"), "session-7.scope");
}

TEST_F(CgroupUnit, AUnitAUserNamedIsNamedWithItsManager) {
  EXPECT_EQ(unit_of_child_in("user.slice/user-65534.slice/user@65534.service/app.slice/ssh.service"),
            "user@65534.service/ssh.service");
  EXPECT_EQ(unit_of_child_in("user.slice/user-65534.slice/user@65534.service/init.scope"),
            "user@65534.service/init.scope");
  EXPECT_EQ(unit_of_child_in("user.slice/user-65534.slice/user@65534.service"), "user@65534.service");
}
