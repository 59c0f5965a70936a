#include "supervisor/supervisor_query.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

namespace sealkit::backend::seccomp::query {

namespace {

// The abstract address of pid's supervisor socket; its length goes to `len`.
sockaddr_un address_of(pid_t pid, socklen_t& len) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  // sun_path[0] stays '\0': the abstract namespace, no file, gone with the socket.
  const int n = std::snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "%s%d", kNamePrefix, static_cast<int>(pid));
  len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + static_cast<std::size_t>(n));
  return a;
}

// The sender's credentials of a message received with SO_PASSCRED; false when absent.
bool sender_of(msghdr& msg, ucred& cred) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len == CMSG_LEN(sizeof cred)) {
      std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
      return true;
    }
  }
  return false;
}

bool same_file(const char* a, const char* b) {
  struct stat sa{}, sb{};
  return ::stat(a, &sa) == 0 && ::stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

}  // namespace

int open_socket() {
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  const int on = 1;
  socklen_t len = 0;
  const sockaddr_un a = address_of(::getpid(), len);
  if (::setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0 ||
      ::bind(fd, reinterpret_cast<const sockaddr*>(&a), len) != 0) {
    const int e = errno;
    ::close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

Served serve_one(int fd, uid_t owner, RangesOf ranges_of, void* context) {
  Request request;
  sockaddr_un from{};
  alignas(cmsghdr) unsigned char control[CMSG_SPACE(sizeof(ucred))];
  iovec iov{&request, sizeof request};
  msghdr msg{};
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  const ssize_t r = ::recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  if (r < 0) return Served::kNothing;
  // Who sent it, before anything else is looked at: another user's question
  // is dropped unanswered, so a flood costs a recvmsg per datagram and sends
  // nothing back (fds sent along are never installed here: the control
  // buffer has room for the credentials only).
  ucred cred{};
  if (!sender_of(msg, cred) || (cred.uid != 0 && cred.uid != owner)) return Served::kDropped;
  if (msg.msg_namelen <= offsetof(sockaddr_un, sun_path)) return Served::kDropped;  // nobody to answer
  ReplyHeader header;
  std::vector<WireRange> ranges;
  if (r != static_cast<ssize_t>(sizeof request) || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
      request.magic != kMagic || request.version != kVersion || request.pid <= 0 || request.reserved != 0) {
    header.error = EINVAL;
  } else if (cred.uid != 0) {
    // The ranges to root only: the audit needs CAP_SYS_ADMIN to read filters
    // anyway, and the owner could learn where a non-dumpable process of the
    // tree (whose maps it cannot read, a setuid program's) has sealed memory.
    header.error = EPERM;
  } else if (!ranges_of(context, request.pid, ranges)) {
    header.error = ESRCH;
  } else if (ranges.size() > kMaxRanges) {
    header.error = E2BIG;
  }
  if (header.error) ranges.clear();
  header.count = static_cast<std::uint32_t>(ranges.size());
  iovec out[2] = {{&header, sizeof header}, {ranges.data(), ranges.size() * sizeof(WireRange)}};
  msghdr reply{};
  reply.msg_name = &from;
  reply.msg_namelen = msg.msg_namelen;
  reply.msg_iov = out;
  reply.msg_iovlen = ranges.empty() ? 1 : 2;
  (void)::sendmsg(fd, &reply, MSG_DONTWAIT | MSG_NOSIGNAL);  // an asker that is not reading loses its answer
  return Served::kAnswered;
}

bool runs_this_executable(pid_t pid) {
  char exe[64];
  std::snprintf(exe, sizeof exe, "/proc/%d/exe", static_cast<int>(pid));
  return same_file(exe, "/proc/self/exe");
}

Answer ask(pid_t supervisor, pid_t target, int timeout_ms) {
  Answer a;
  if (!runs_this_executable(supervisor)) {
    a.error = "not running this sealkit";
    return a;
  }
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    a.error = std::string("socket: ") + std::strerror(errno);
    return a;
  }
  const int on = 1;
  const sa_family_t family = AF_UNIX;
  socklen_t len = 0;
  const sockaddr_un to = address_of(supervisor, len);
  Request request;
  request.pid = static_cast<std::int32_t>(target);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto ms_left = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
  };
  // An autobound abstract name, so that the answer can come back, connected
  // to the supervisor's: only it can send here, so nobody can fill the queue
  // the answer needs; and poll says when its queue (which any user can fill)
  // has room, so the question waits at most until the deadline.
  if (::setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0 ||
      ::bind(fd, reinterpret_cast<const sockaddr*>(&family), sizeof family) != 0 ||
      ::connect(fd, reinterpret_cast<const sockaddr*>(&to), len) != 0) {
    a.error = errno == ECONNREFUSED || errno == ENOENT ? "no supervisor socket" : std::strerror(errno);
    ::close(fd);
    return a;
  }
  while (::send(fd, &request, sizeof request, MSG_DONTWAIT | MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof request)) {
    const int e = errno;
    const long left = ms_left();
    if ((e != EAGAIN && e != EINTR) || left <= 0) {
      a.error = e == EAGAIN || e == EINTR ? "no answer within " + std::to_string(timeout_ms) + " ms (its queue stayed full)"
                : e == ECONNREFUSED     ? "no supervisor socket"
                                        : std::strerror(e);
      ::close(fd);
      return a;
    }
    pollfd p{fd, POLLOUT, 0};
    (void)::poll(&p, 1, static_cast<int>(left));  // room, the deadline, or a signal: try again
  }
  std::vector<unsigned char> buf(sizeof(ReplyHeader) + kMaxRanges * sizeof(WireRange) + 1);
  for (;;) {
    const auto left = std::chrono::milliseconds(ms_left());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      if (errno == EINTR && left.count() > 0) continue;
      a.error = "no answer within " + std::to_string(timeout_ms) + " ms";
      break;
    }
    alignas(cmsghdr) unsigned char control[CMSG_SPACE(sizeof(ucred))];
    iovec iov{buf.data(), buf.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t r = ::recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (r < 0) continue;
    ucred cred{};
    if (!sender_of(msg, cred) || cred.pid != supervisor) continue;  // not from the one asked: ignored
    ReplyHeader header;
    if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || r < static_cast<ssize_t>(sizeof header)) {
      a.error = "a malformed answer";
      break;
    }
    std::memcpy(&header, buf.data(), sizeof header);
    const std::size_t body = static_cast<std::size_t>(r) - sizeof header;
    if (header.magic != kMagic || header.version != kVersion || header.count > kMaxRanges ||
        body != header.count * sizeof(WireRange)) {
      a.error = "a malformed answer";
      break;
    }
    if (header.error != 0) {
      a.error = std::string("the supervisor says: ") + std::strerror(header.error);
      break;
    }
    const std::uint64_t limit = task_size();
    for (std::uint32_t i = 0; i < header.count; ++i) {
      WireRange w;
      std::memcpy(&w, buf.data() + sizeof header + i * sizeof w, sizeof w);
      // Records come in order 0, 1, ...: a record index may repeat or go up by one, nothing else.
      const bool in_order = w.record == a.records.size() || (w.record + 1 == a.records.size());
      if (!in_order || w.start % kPageSize || w.end % kPageSize || w.start >= w.end || w.end > limit ||
          (w.flags & ~kDiscardProtected)) {
        a.records.clear();
        a.error = "a malformed answer";
        break;
      }
      if (w.record == a.records.size()) a.records.emplace_back();
      a.records.back().push_back({w.start, w.end, (w.flags & kDiscardProtected) != 0});
    }
    break;
  }
  ::close(fd);
  return a;
}

}  // namespace sealkit::backend::seccomp::query
