// The system log's socket, /dev/log, taken over inside a test's private mount
// namespace (private_mounts.hpp): the runtime's datagrams arrive here, and the
// host's /dev/log (journald's, rsyslog's, or none) is never touched.
#pragma once

#include <string>
#include <vector>

namespace sealkit::test {

class SyslogReceiver {
 public:
  SyslogReceiver() = default;
  SyslogReceiver(const SyslogReceiver&) = delete;
  SyslogReceiver& operator=(const SyslogReceiver&) = delete;
  ~SyslogReceiver();

  // Once per namespace, after enter_private_mounts: an overlay over /dev
  // (upper and work directories under `scratch`, a tmpfs of the namespace)
  // with /dev's own submounts (pts, shm, mqueue) mounted back. false, with `why`.
  static bool overlay_dev(const std::string& scratch, std::string& why);

  // Binds an AF_UNIX datagram socket at /dev/log (replacing what is there).
  bool listen(std::string& why);
  // Closes the socket and removes /dev/log: no system log at all.
  void stop();
  // The datagrams received so far, oldest first (waits for none).
  std::vector<std::string> take();

 private:
  int fd_ = -1;
};

}  // namespace sealkit::test
