#include "runtime/syslog_receiver.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace sealkit::test {

namespace {

constexpr const char* kDevLog = "/dev/log";

bool fail(const std::string& what, std::string& why) {
  why = what + (errno ? std::string(": ") + std::strerror(errno) : std::string());
  return false;
}

}  // namespace

bool SyslogReceiver::overlay_dev(const std::string& scratch, std::string& why) {
  namespace fs = std::filesystem;
  errno = 0;
  // The submounts, reachable through these descriptors once the overlay hides them.
  const char* subs[] = {"/dev/pts", "/dev/shm", "/dev/mqueue"};
  int fds[3];
  for (int i = 0; i < 3; ++i) fds[i] = open(subs[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
  const std::string upper = scratch + "/.dev/upper", work = scratch + "/.dev/work";
  fs::create_directories(upper);
  fs::create_directories(work);
  const std::string opts = "lowerdir=/dev,upperdir=" + upper + ",workdir=" + work;
  bool ok = mount("overlay", "/dev", "overlay", 0, opts.c_str()) == 0;
  if (!ok) fail("overlay on /dev", why);
  for (int i = 0; i < 3; ++i) {
    if (fds[i] < 0) continue;
    const std::string from = "/proc/self/fd/" + std::to_string(fds[i]);
    if (ok && mount(from.c_str(), subs[i], nullptr, MS_BIND | MS_REC, nullptr) != 0)
      ok = fail(std::string("bind ") + subs[i], why);
    close(fds[i]);
  }
  return ok;
}

SyslogReceiver::~SyslogReceiver() {
  if (fd_ >= 0) close(fd_);
}

bool SyslogReceiver::listen(std::string& why) {
  stop();
  errno = 0;
  fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) return fail("socket", why);
  // Room for every datagram a test provokes before it reads them.
  const int room = 1 << 20;
  setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &room, sizeof room);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, kDevLog);
  if (bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) return fail("bind /dev/log", why);
  chmod(kDevLog, 0666);  // as journald's: every user's process may log
  return true;
}

void SyslogReceiver::stop() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  unlink(kDevLog);
}

std::vector<std::string> SyslogReceiver::take() {
  std::vector<std::string> lines;
  char buf[8192];
  for (;;) {
    const ssize_t n = fd_ < 0 ? -1 : recv(fd_, buf, sizeof buf, 0);
    if (n < 0) break;
    lines.emplace_back(buf, static_cast<std::size_t>(n));
  }
  return lines;
}

}  // namespace sealkit::test
