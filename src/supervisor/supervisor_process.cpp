#include "supervisor/supervisor_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "backend/seccomp/registration_proto.hpp"

namespace sealkit::backend::seccomp {

namespace {

// Child -> parent, once: the listener (SCM_RIGHTS) with error 0, or an errno
// and the step that failed.
struct Handoff {
  int error = 0;
  char step[48] = {};
};

void send_handoff(int sock, int listener, int error, const char* step) {
  Handoff h;
  h.error = error;
  std::strncpy(h.step, step, sizeof h.step - 1);
  iovec iov{&h, sizeof h};
  alignas(cmsghdr) unsigned char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (listener >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &listener, sizeof(int));
  }
  (void)::sendmsg(sock, &msg, MSG_NOSIGNAL);
}

// The parent's side: the listener fd, or -1 with `h` saying why.
int receive_handoff(int sock, Handoff& h) {
  iovec iov{&h, sizeof h};
  alignas(cmsghdr) unsigned char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t r;
  do r = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (r < 0 && errno == EINTR);
  if (r != static_cast<ssize_t>(sizeof h)) {
    h.error = r < 0 ? errno : EPIPE;
    std::strncpy(h.step, "the child ended before installing the filter", sizeof h.step - 1);
    return -1;
  }
  h.step[sizeof h.step - 1] = '\0';
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (h.error != 0 || c == nullptr || c->cmsg_type != SCM_RIGHTS) {
    if (h.error == 0) h.error = EPROTO;
    return -1;
  }
  int fd;
  std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

[[noreturn]] void child_main(const char* path, char* const argv[], int handoff, int client_end, pid_t parent,
                             bool sigchld_ignored) {
  // Without its supervisor every guarded call of the program would fail with
  // ENOSYS: the program ends with it instead (kept across the exec: no_new_privs
  // rules out the setuid exec that would clear it).
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (::getppid() != parent) ::_exit(127);  // it died before the line above
  int listener = -1;
  if (int e = install_root_filter(listener)) {
    send_handoff(handoff, -1, e, "installing the root filter");
    ::_exit(127);
  }
  send_handoff(handoff, listener, 0, "");
  ::close(listener);
  ::close(handoff);
  // The registration socket is the one fd the program inherits from us.
  ::fcntl(client_end, F_SETFD, 0);
  char number[16];
  std::snprintf(number, sizeof number, "%d", client_end);
  ::setenv(registration::kSupervisorFdEnv, number, 1);
  if (sigchld_ignored) ::signal(SIGCHLD, SIG_IGN);  // the caller's, as the program would have had it
  ::execv(path, argv);
  const int e = errno;
  std::fprintf(stderr, "sealkit: cannot run %s: %s\n", path, std::strerror(e));
  ::_exit(127);
}

}  // namespace

SupervisedChild spawn_supervised(const char* path, char* const argv[]) {
  SupervisedChild out;
  int registration[2], handoff[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, registration) != 0) {
    out.error = errno;
    out.step = "socketpair";
    return out;
  }
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, handoff) != 0) {
    out.error = errno;
    out.step = "socketpair";
    ::close(registration[0]);
    ::close(registration[1]);
    return out;
  }
  std::fflush(nullptr);
  // The tree's orphans are adopted by this process, not by init, while it
  // lives: it made the registration socket, and a process checks that the
  // socket's maker is its ancestor (or gone) before it registers
  // (registration::untrusted_supervisor). Without this, a daemon whose parent
  // exited while this process still ran would take the supervisor for an
  // impostor and seal with filters of its own.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  // Under an ignored SIGCHLD the kernel reaps the program the moment it ends,
  // and its exit status is lost: a program that ends at once (an exec that
  // fails) would leave nothing to wait for. The program still inherits the
  // caller's SIG_IGN: the child restores it before the exec.
  struct sigaction old_chld{};
  const bool sigchld_ignored = ::sigaction(SIGCHLD, nullptr, &old_chld) == 0 && old_chld.sa_handler == SIG_IGN;
  if (sigchld_ignored) ::signal(SIGCHLD, SIG_DFL);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    out.error = errno;
    out.step = "fork";
    for (int fd : {registration[0], registration[1], handoff[0], handoff[1]}) ::close(fd);
    return out;
  }
  if (pid == 0) {
    ::close(registration[0]);
    ::close(handoff[0]);
    child_main(path, argv, handoff[1], registration[1], parent, sigchld_ignored);
  }
  ::close(registration[1]);
  ::close(handoff[1]);
  // The program runs as the same user: without this it could ptrace its
  // supervisor or write its memory (/proc/PID/mem) and answer CONTINUE to
  // itself. Non-dumpable, only CAP_SYS_PTRACE can. (The child got the flag
  // too, until its exec.)
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  out.pid = pid;
  out.supervisor = std::make_unique<Supervisor>(registration[0]);
  Handoff h;
  const int listener = receive_handoff(handoff[0], h);
  ::close(handoff[0]);
  if (listener < 0) {
    out.error = h.error;
    out.step = h.step;
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    out.pid = -1;
    return out;
  }
  out.supervisor->add_listener(listener);
  out.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  return out;
}

// Reaps every child that has ended: the program, and the orphans of its
// tree this process adopted as their subreaper. True when the program was
// among them (its status in `status`), or cannot be waited for (no child at
// all; status 0).
bool reap_ended(pid_t program, int& status) {
  int st;
  while (true) {
    const pid_t r = ::waitpid(-1, &st, WNOHANG);
    if (r == program) {
      status = st;
      return true;
    }
    if (r > 0 || (r < 0 && errno == EINTR)) continue;
    if (r < 0 && errno == ECHILD) {
      status = 0;
      return true;
    }
    return false;  // 0: the others run on
  }
}

int supervise_until_exit(SupervisedChild& child) {
  int status = 0;
  // The pidfd says the program has ended, yet it could not be reaped: a
  // tracer holds its zombie until it lets go, and the pidfd, readable until
  // then, would make every round return at once. Polled for between rounds
  // from then on, like a program without a pidfd.
  bool held = false;
  while (true) {
    bool exited = false;
    const int pidfd = held ? -1 : child.pidfd;
    // Without a pidfd (never on 5.3+), poll for the exit between rounds.
    const bool more = child.supervisor->step(pidfd >= 0 ? -1 : 50, pidfd, &exited);
    if (reap_ended(child.pid, status)) break;
    held = held || exited;
    // Nothing left to poll and no pidfd (kernels before 5.3): just wait.
    if (!more && pidfd < 0) {
      pid_t r = ::waitpid(child.pid, &status, 0);
      if (r == child.pid) break;
      if (r < 0 && errno != EINTR) {
        status = 0;
        break;
      }
    }
  }
  if (child.pidfd >= 0) ::close(child.pidfd);
  child.pidfd = -1;
  return status;
}

bool keep_supervising_in_background(SupervisedChild& child) {
  // Handle what is ready first (the listener's hang-up, when the child was the
  // last process under the filter).
  for (int round = 0; round < 16 && child.supervisor->has_listeners(); ++round) child.supervisor->step(0);
  if (!child.supervisor->has_listeners()) return false;
  std::fflush(nullptr);
  // The parent returns once the background supervisor answers questions under
  // its own name: `sealkit audit` run right after `sealkit run` returned finds
  // it (the name carries the pid, and the parent's is gone with the parent).
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) ready[0] = ready[1] = -1;
  pid_t pid = ::fork();
  if (pid != 0) {
    if (ready[1] >= 0) ::close(ready[1]);
    if (ready[0] >= 0) {
      char c;
      while (pid > 0 && ::read(ready[0], &c, 1) < 0 && errno == EINTR) {
      }
      ::close(ready[0]);
    }
    return pid > 0;
  }
  if (ready[0] >= 0) ::close(ready[0]);
  // Out of the terminal's reach: a hang-up or Ctrl-C in the session that
  // started sealkit must not take the supervisor from under a daemon.
  ::setsid();
  for (int sig : {SIGHUP, SIGINT, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE}) ::signal(sig, SIG_IGN);
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int fd = 0; fd < 3 && null >= 0; ++fd) ::dup2(null, fd);
  child.supervisor->answer_queries_as_this_process();
  if (ready[1] >= 0) ::close(ready[1]);  // end of file: the parent goes on
  while (child.supervisor->step(-1)) {
  }
  ::_exit(0);
}

}  // namespace sealkit::backend::seccomp
