#include "runtime/syslog.hpp"

#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <linux/stat.h>

#include <cstdint>

#include "runtime/sys.hpp"
#include "runtime/text_out.hpp"

namespace sealkit::rt {

namespace {

constexpr long kAfUnix = 1, kSockDgram = 2, kSockCloexec = 02000000;
constexpr long kMsgDontwait = 0x40, kMsgNosignal = 0x4000;
constexpr int kPerProcessLines = 4;
constexpr std::int64_t kSystemFileInterval = 60;  // seconds between two system-file warnings, machine-wide
constexpr const char* kStampDir = "/run/sealkit";
constexpr const char* kStampName = "config-warning";
constexpr std::uint32_t kTypeMask = 0170000, kRegular = 0100000, kDirectory = 0040000;

struct SockaddrUn {
  unsigned short family;
  char path[108];
};

// Whether this process runs under a seccomp filter (prctl(PR_GET_SECCOMP) is
// on every allow-list the runtime must live under: systemd's @system-service,
// Docker's default). Only "yes" is kept: a filter is never removed, but the
// program may install one of its own after start-up (a sandbox, then a
// dlopen), so "no" is asked again before each line, at most five times.
bool g_filtered = false;

bool under_a_filter() {
  if (!g_filtered) g_filtered = sys::call(__NR_prctl, PR_GET_SECCOMP) == SECCOMP_MODE_FILTER;
  return g_filtered;
}

// Warnings this process handed to the system log so far (logged or not).
int g_lines = 0;
// Whether this process took the minute's turn for system-file warnings:
// 0 not asked yet, 1 yes, 2 no. One process logs all of its own (within its cap).
int g_system_file_turn = 0;

// The stamp's rule (syslog.hpp). Every call here is on systemd's @system-service list.
bool take_system_file_turn() {
  if (sys::geteuid() != 0) return false;  // the root processes of the machine will say it
  const long made = sys::call(__NR_mkdirat, sys::kAtFdcwd, reinterpret_cast<long>(kStampDir), 0755);
  if (made != 0 && made != -EEXIST) return false;
  // The directory itself: root's and written by root only, no link.
  const int dir = sys::openat(sys::kAtFdcwd, kStampDir, sys::kOPath | sys::kODirectory | sys::kONofollow | sys::kOCloexec);
  if (dir < 0) return false;
  struct statx st;
  const bool dir_ok = sys::fstatx(dir, STATX_TYPE | STATX_MODE | STATX_UID, &st) == 0 &&
                      (st.stx_mode & kTypeMask) == kDirectory && st.stx_uid == 0 && (st.stx_mode & 022) == 0;
  // A new stamp (O_EXCL: never through a link) is this process's turn. An
  // old one is opened without following a link; O_NONBLOCK: a FIFO in its
  // place cannot hang the process in open.
  constexpr long kFlags = sys::kOWronly | sys::kONofollow | sys::kOCloexec | sys::kONonblock | sys::kONoctty;
  int fd = dir_ok ? sys::openat(dir, kStampName, kFlags | sys::kOCreat | sys::kOExcl, 0644) : -1;
  if (fd >= 0) {
    sys::close(dir);
    sys::close(fd);
    return true;
  }
  if (dir_ok && fd == -EEXIST) fd = sys::openat(dir, kStampName, kFlags);
  sys::close(dir);
  if (fd < 0) return false;
  bool due = false;
  if (sys::fstatx(fd, STATX_TYPE | STATX_UID | STATX_MTIME, &st) == 0 && (st.stx_mode & kTypeMask) == kRegular &&
      st.stx_uid == 0) {
    const std::int64_t now = sys::realtime_s();
    const std::int64_t age = now - st.stx_mtime.tv_sec;
    // A stamp from the future (the clock was set back) does not silence the machine.
    due = age >= kSystemFileInterval || age < 0;
    // futimens(fd, NULL): the stamp says now.
    if (due) due = sys::call(__NR_utimensat, fd, 0, 0, 0) == 0;
  }
  sys::close(fd);
  return due;
}

}  // namespace

bool syslog_send(std::string_view message, int priority) {
  if (under_a_filter()) return false;
  TextOut o;
  o.str("<").num(static_cast<std::uint64_t>(priority)).str(">sealkit[");
  o.num(static_cast<std::uint64_t>(sys::getpid())).str("]: ");
  // One line: a control byte (a newline in a path) would end or forge a record.
  for (char c : message) {
    const auto u = static_cast<unsigned char>(c);
    o.str(u < 0x20 || u == 0x7f ? std::string_view("?") : std::string_view(&c, 1));
  }
  const int fd = static_cast<int>(sys::call(__NR_socket, kAfUnix, kSockDgram | kSockCloexec, 0));
  if (fd < 0) return false;
  SockaddrUn addr{kAfUnix, "/dev/log"};
  bool sent = false;
  if (sys::call(__NR_connect, fd, reinterpret_cast<long>(&addr), static_cast<long>(sizeof addr)) == 0) {
    const std::string_view line = o.view();
    sent = sys::call6(__NR_sendto, fd, reinterpret_cast<long>(line.data()), static_cast<long>(line.size()),
                      kMsgDontwait | kMsgNosignal, 0, 0) == static_cast<long>(line.size());
  }
  sys::close(fd);
  return sent;
}

void warn_to_syslog(std::string_view what, WarningAbout about) {
  // A process that cannot send does not take the minute's turn from one that can.
  if (under_a_filter()) return;
  if (about == WarningAbout::kSystemFile) {
    if (g_system_file_turn == 0) g_system_file_turn = take_system_file_turn() ? 1 : 2;
    if (g_system_file_turn != 1) return;
  }
  const int n = __atomic_add_fetch(&g_lines, 1, __ATOMIC_RELAXED);
  if (n <= kPerProcessLines) syslog_send(what);
  else if (n == kPerProcessLines + 1) syslog_send("further warnings of this process are not logged");
}

}  // namespace sealkit::rt
