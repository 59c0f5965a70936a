#include "backend/seccomp/registration.hpp"

#include <linux/fcntl.h>
#include <linux/memfd.h>
#include <linux/mman.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <sys/socket.h>

#include "backend/seccomp/registration_proto.hpp"
#include "core/raw_syscall.hpp"

namespace sealkit::backend::seccomp::registration {

namespace {

namespace sys = core::raw;

// The filter is generated for x86_64 only (docs/seccomp.md): nothing
// registers elsewhere, and no system call of this file is made there.
#if defined(__x86_64__)
constexpr bool kSupported = true;
#else
constexpr bool kSupported = false;
#endif

long as_long(const void* p) noexcept { return reinterpret_cast<long>(p); }
constexpr long kAllSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

long write_all(int fd, const void* data, std::size_t n) noexcept {
  const auto* p = static_cast<const unsigned char*>(data);
  while (n > 0) {
    long r = sys::call(__NR_write, fd, as_long(p), static_cast<long>(n));
    if (r == -EINTR) continue;
    if (sys::failed(r)) return r;
    if (r == 0) return -EPIPE;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return 0;
}

// The token's contents: a header and the ranges, written to a fresh memfd that
// is then sealed against any change (F_SEAL_WRITE etc.), so that what the
// supervisor reads from it is what was registered.
long write_token(int memfd, const SealedRange* ranges, std::size_t count) noexcept {
  TokenHeader header;
  header.count = count;
  long got = sys::call(__NR_getrandom, as_long(header.nonce), sizeof header.nonce, 0);
  if (got != static_cast<long>(sizeof header.nonce)) return sys::failed(got) ? got : -EINVAL;
  if (long r = write_all(memfd, &header, sizeof header)) return r;
  WireRange chunk[32];
  for (std::size_t done = 0; done < count;) {
    std::size_t n = 0;
    for (; n < 32 && done + n < count; ++n) {
      const SealedRange& s = ranges[done + n];
      chunk[n] = WireRange{s.start, s.end, s.discard_protected ? kDiscardProtected : 0};
    }
    if (long r = write_all(memfd, chunk, n * sizeof(WireRange))) return r;
    done += n;
  }
  return sys::call(__NR_fcntl, memfd, F_ADD_SEALS, kAllSeals);
}

// Sends the request with [reply_end, memfd] and waits for the answer on `own_end`.
long exchange(int socket_fd, int own_end, int reply_end, int memfd, std::uint64_t token_address) noexcept {
  struct {
    long sec, usec;
  } timeout{10, 0};
  long r = sys::call6(__NR_setsockopt, own_end, SOL_SOCKET, SO_RCVTIMEO, as_long(&timeout), sizeof timeout, 0);
  if (sys::failed(r)) {
    sys::call(__NR_close, reply_end);
    return r;
  }

  Request request;
  request.token_address = token_address;
  iovec iov{&request, sizeof request};
  alignas(cmsghdr) unsigned char control[CMSG_SPACE(2 * sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(2 * sizeof(int));
  int* fds = reinterpret_cast<int*>(CMSG_DATA(c));
  fds[0] = reply_end;
  fds[1] = memfd;
  do r = sys::call(__NR_sendmsg, socket_fd, as_long(&msg), MSG_NOSIGNAL);
  while (r == -EINTR);
  // Only the supervisor may hold the other end now: if it goes away without
  // answering, the wait below ends at once instead of at the timeout.
  sys::call(__NR_close, reply_end);
  if (sys::failed(r)) return r;

  Reply reply;
  iovec riov{&reply, sizeof reply};
  msghdr rmsg{};
  rmsg.msg_iov = &riov;
  rmsg.msg_iovlen = 1;
  do r = sys::call(__NR_recvmsg, own_end, as_long(&rmsg), MSG_CMSG_CLOEXEC);
  while (r == -EINTR);
  if (r == -EAGAIN) return -ETIMEDOUT;
  if (sys::failed(r)) return r;
  if (r != static_cast<long>(sizeof reply) || reply.magic != kMagic) return -EPIPE;  // closed without an answer
  return reply.error > 0 ? -static_cast<long>(reply.error) : (reply.error == 0 ? 0 : -EPIPE);
}

// open("/proc/PID/stat"): the fd, or -errno (-ENOENT: no such process).
long open_stat(long pid) noexcept {
  char path[32] = "/proc/";
  char digits[20];
  int nd = 0;
  for (long v = pid; nd == 0 || v > 0; v /= 10) digits[nd++] = static_cast<char>('0' + v % 10);
  std::size_t at = 6;
  while (nd > 0) path[at++] = digits[--nd];
  for (const char* t = "/stat"; *t; ++t) path[at++] = *t;
  path[at] = '\0';
  return sys::call(__NR_openat, AT_FDCWD, as_long(path), O_RDONLY | O_CLOEXEC);
}

// What /proc/PID/stat says of process `pid` ("PID (COMM) STATE PPID ...";
// COMM may hold anything, so the last ')' ends it): false when it cannot be
// read (no such process, or a line not of that shape).
bool read_stat(long pid, char& state, long& ppid) noexcept {
  const long fd = open_stat(pid);
  if (sys::failed(fd)) return false;
  char buf[512];
  long n;
  do n = sys::call(__NR_read, fd, as_long(buf), sizeof buf);
  while (n == -EINTR);
  sys::call(__NR_close, fd);
  if (n <= 0) return false;
  long close_paren = -1;
  for (long i = 0; i < n; ++i) close_paren = buf[i] == ')' ? i : close_paren;
  // ") S PPID": the state is one character.
  long i = close_paren + 4;
  if (close_paren < 0 || i >= n || buf[close_paren + 1] != ' ' || buf[close_paren + 3] != ' ') return false;
  state = buf[close_paren + 2];
  ppid = 0;
  for (; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i) ppid = ppid * 10 + (buf[i] - '0');
  return i < n && buf[i] == ' ';
}

// The parent of process `pid`, or -1.
long parent_of(long pid) noexcept {
  char state;
  long ppid;
  return read_stat(pid, state, ppid) ? ppid : -1;
}

}  // namespace

const char* untrusted_supervisor(int socket_fd) noexcept {
  if (!kSupported) return "is not a Unix socket";  // as getsockopt answers where nothing registers
  int value = 0;
  unsigned len = sizeof value;
  if (sys::failed(sys::call6(__NR_getsockopt, socket_fd, SOL_SOCKET, SO_DOMAIN, as_long(&value),
                             as_long(&len), 0)) ||
      value != AF_UNIX)
    return "is not a Unix socket";
  len = sizeof value;
  if (sys::failed(sys::call6(__NR_getsockopt, socket_fd, SOL_SOCKET, SO_TYPE, as_long(&value),
                             as_long(&len), 0)) ||
      value != SOCK_SEQPACKET)
    return "is not a SOCK_SEQPACKET socket";
  ucred peer{};
  len = sizeof peer;
  if (sys::failed(sys::call6(__NR_getsockopt, socket_fd, SOL_SOCKET, SO_PEERCRED, as_long(&peer),
                             as_long(&len), 0)))
    return "has no peer credentials";
  const long uid = sys::call(__NR_getuid);
  if (peer.uid != 0 && static_cast<long>(peer.uid) != uid) return "was made by another user than root or this one";
  // The supervisor's root filter is in place before the program is started
  // (supervisor_process.hpp): a process under no filter has no supervisor.
  if (sys::call(__NR_prctl, PR_GET_SECCOMP, 0, 0, 0) != SECCOMP_MODE_FILTER) return "serves a process under no seccomp filter";
  // `sealkit run` made the socket pair before it forked the program: the
  // credentials the kernel recorded then are an ancestor's of every process
  // that inherits the socket, while that process lives (it is the tree's
  // child subreaper: an orphan of the tree is adopted by it, not by init).
  // When the program has exited, `sealkit run` leaves a forked copy of itself
  // serving the program's daemons and exits: the recorded pid is then gone.
  // A live process that is no ancestor did not start this tree.
  if (peer.pid <= 0) return "was made by a process outside this pid namespace";
  long p = sys::call(__NR_getppid);
  for (int depth = 0; depth < 4096; ++depth) {
    if (p == peer.pid) return nullptr;
    if (p <= 1) break;
    p = parent_of(p);
  }
  // Gone, or a zombie: `sealkit run` has exited and its own parent has not
  // reaped it yet. The registration's own check decides (register_seal).
  char state = 0;
  long ppid;
  if (read_stat(peer.pid, state, ppid)) {
    if (state == 'Z' || state == 'X') return nullptr;
  } else {
    const long fd = open_stat(peer.pid);
    if (fd == -ENOENT) return nullptr;
    if (!sys::failed(fd)) sys::call(__NR_close, fd);
  }
  return "was made by a live process that is not an ancestor of this one";
}

int parse_supervisor_fd(const char* text) noexcept {
  if (text == nullptr || *text == '\0') return -1;
  long v = 0;
  for (const char* p = text; *p; ++p) {
    if (*p < '0' || *p > '9' || p - text > 7) return -1;
    v = v * 10 + (*p - '0');
  }
  return v <= (1 << 20) ? static_cast<int>(v) : -1;
}

int register_seal(int socket_fd, const SealedRange* ranges, std::size_t count, SealedRange& token) noexcept {
  if (socket_fd < 0 || count > kMaxWireRanges || (count > 0 && ranges == nullptr)) return static_cast<int>(EINVAL);
  if (!kSupported) return ENOSYS;
  long memfd = sys::call(__NR_memfd_create, as_long(kTokenName), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (sys::failed(memfd)) return static_cast<int>(-memfd);
  const int mfd = static_cast<int>(memfd);
  long r = write_token(mfd, ranges, count);
  long address = 0;
  const std::size_t length = token_length(count);
  if (!sys::failed(r)) {
    address = sys::call6(__NR_mmap, 0, static_cast<long>(length), PROT_READ, MAP_SHARED, mfd, 0);
    r = sys::failed(address) ? address : 0;
  }
  int pair[2] = {-1, -1};
  if (!sys::failed(r)) r = sys::call(__NR_socketpair, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, as_long(pair));
  if (!sys::failed(r)) {
    r = exchange(socket_fd, pair[0], pair[1], mfd, static_cast<std::uint64_t>(address));
    sys::call(__NR_close, pair[0]);
  }
  // "Registered" is the peer's word; the kernel's is whether the token, part
  // of the seal, is now refused a change: mprotect to the protection it has
  // (a no-op where nothing enforces the seal) must fail with EPERM, answered
  // by the supervisor through the root filter.
  if (!sys::failed(r) && sys::call(__NR_mprotect, address, static_cast<long>(length), PROT_READ) != -EPERM)
    r = -EPROTO;
  sys::call(__NR_close, mfd);
  if (sys::failed(r)) {
    if (address != 0 && !sys::failed(address)) sys::call(__NR_munmap, address, static_cast<long>(length));
    return static_cast<int>(-r);
  }
  token = SealedRange{static_cast<std::uint64_t>(address), static_cast<std::uint64_t>(address) + length, false};
  return 0;
}

}  // namespace sealkit::backend::seccomp::registration
