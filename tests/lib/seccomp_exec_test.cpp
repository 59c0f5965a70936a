// The seccomp backend across execve (docs/seccomp-exec.md): programs
// run under the supervisor (spawn_supervised, the same path as `sealkit run
// --backend seccomp`), with SEALKIT_BACKEND=seccomp, on the real kernel.
// Filters cannot be removed, so every program runs in a child; this process
// is the supervisor and never installs a filter.
#include <fcntl.h>
#include <signal.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "backend/seccomp/registration.hpp"
#include "backend/seccomp/registration_proto.hpp"
#include "supervisor/supervisor.hpp"
#include "supervisor/supervisor_process.hpp"
#include "backend/seccomp/sealer.hpp"

namespace {

namespace sc = sealkit::backend::seccomp;

bool usable(std::string& why) {
  if (const char* r = sc::unusable_reason()) {
    why = r;
    return false;
  }
  return true;
}

struct Outcome {
  int status = -1;
  sc::SupervisorStats stats;
  double seconds = 0;
};

Outcome supervise(std::vector<std::string> args) {
  ::setenv("SEALKIT_BACKEND", "seccomp", 1);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  Outcome out;
  sc::SupervisedChild child = sc::spawn_supervised(argv[0], argv.data());
  EXPECT_GT(child.pid, 0) << child.step << ": " << std::strerror(child.error);
  if (child.pid <= 0) return out;
  out.status = sc::supervise_until_exit(child);
  // The chain's last process is gone: the listener hangs up, nothing is left.
  while (child.supervisor->step(1000)) {
  }
  out.stats = child.supervisor->stats();
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

void report(const char* what, const Outcome& o, int images) {
  std::printf("%s: %d images in %.2f s (%.2f ms each); notifications %llu: CONTINUE %llu, EPERM %llu, "
              "unreadable %llu, gone %llu; registrations %llu, rejected %llu; internal errors %llu; "
              "records held %llu, collected %llu in %llu scans (%.1f ms)\n",
              what, images, o.seconds, 1000 * o.seconds / images, static_cast<unsigned long long>(o.stats.notifications),
              static_cast<unsigned long long>(o.stats.answered_continue),
              static_cast<unsigned long long>(o.stats.answered_eperm),
              static_cast<unsigned long long>(o.stats.unreadable), static_cast<unsigned long long>(o.stats.gone),
              static_cast<unsigned long long>(o.stats.registrations),
              static_cast<unsigned long long>(o.stats.rejected),
              static_cast<unsigned long long>(o.stats.internal_errors),
              static_cast<unsigned long long>(o.stats.records),
              static_cast<unsigned long long>(o.stats.records_collected),
              static_cast<unsigned long long>(o.stats.collections), static_cast<double>(o.stats.collect_ns) / 1e6);
}

bool kernel_has_mseal() { return ::syscall(462, 0, 0, 0) == 0; }

// 2000 images here; where the kernel has no mseal (Debian 12's 6.1, which the
// project boots under qemu, often in software emulation, with a per-binary
// time limit) 300, which still crosses every path many times.
int chain_images() { return kernel_has_mseal() ? 2000 : 300; }

void run_chain(bool aslr_off) {
  const int kChainImages = chain_images();
  // Without ASLR: the chain sets ADDR_NO_RANDOMIZE itself and execs again, which
  // is what `setarch -R` does (and works where util-linux is not installed).
  std::vector<std::string> args = {SEALKIT_EXEC_CHAIN};
  if (aslr_off) args.push_back("norandom");
  args.insert(args.end(), {"0", std::to_string(kChainImages - 1)});
  Outcome o = supervise(args);
  report(aslr_off ? "exec chain, ASLR off (ADDR_NO_RANDOMIZE, as setarch -R)" : "exec chain, ASLR on", o, kChainImages);
  ASSERT_TRUE(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0) << "wait status " << o.status;
  // Every image sealed four ranges in one go each: text, RELRO, anon, slot.
  EXPECT_GE(o.stats.registrations, 3u * kChainImages);
  EXPECT_EQ(o.stats.rejected, 0u);
  // Each image's six attacks (and the re-sealed addresses under -R) were answered EPERM
  // by the supervisor; everything else it was asked, ld.so's work on old addresses
  // included, went on.
  EXPECT_GE(o.stats.answered_eperm, 5u * kChainImages);
  // Each registration adds one EPERM of its own: the client's check that its
  // token is enforced (registration.hpp).
  EXPECT_GT(o.stats.answered_continue, o.stats.answered_eperm - o.stats.registrations);
  EXPECT_EQ(o.stats.unreadable, 0u);
  EXPECT_EQ(o.stats.internal_errors, 0u);
  // The records of the images that are gone were dropped as the chain went on:
  // the supervisor holds a few hundred, not one per registration.
  EXPECT_LE(o.stats.records, 512u);
}

TEST(SeccompExec, ChainOfThousandsOfExecsWithAslr) {
  std::string why;
  if (!usable(why)) GTEST_SKIP() << why;
  run_chain(false);
}

TEST(SeccompExec, ChainOfThousandsOfExecsWithoutAslr) {
  std::string why;
  if (!usable(why)) GTEST_SKIP() << why;
  run_chain(true);
}

// The records of images that are gone are dropped, and only those: a chain
// of 300 images (about 1200 registrations) under one supervisor, while a child
// forked by the first image, which maps that image's tokens, outlives them all
// and is refused on its seals at the end.
TEST(SeccompExec, RecordsOfImagesThatAreGoneAreCollectedAndNoOthers) {
  std::string why;
  if (!usable(why)) GTEST_SKIP() << why;
  char dir[] = "/tmp/sealkit-survivor-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string result = std::string(dir) + "/result";
  Outcome o = supervise({SEALKIT_EXEC_CHAIN, "survivor", result, "299"});
  report("survivor", o, 301);
  EXPECT_TRUE(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0) << "wait status " << o.status;
  // supervise() returns once every process under the root filter is gone, the child included.
  std::string got;
  if (FILE* f = std::fopen(result.c_str(), "r")) {
    char line[64] = "";
    if (std::fgets(line, sizeof line, f)) got = line;
    std::fclose(f);
  }
  EXPECT_EQ(got, "ok\n") << "the child that outlived the chain was not refused on its inherited seals";
  EXPECT_GE(o.stats.collections, 2u);
  EXPECT_GT(o.stats.records_collected, o.stats.registrations / 2);
  EXPECT_LE(o.stats.records + o.stats.records_collected, o.stats.registrations);
  EXPECT_LE(o.stats.records, 512u);
  std::remove(result.c_str());
  ::rmdir(dir);
}

TEST(SeccompExec, ForkKeepsTheSealsAndExecDropsThem) {
  std::string why;
  if (!usable(why)) GTEST_SKIP() << why;
  Outcome o = supervise({SEALKIT_EXEC_CHAIN, "fork"});
  report("fork", o, 2);
  EXPECT_TRUE(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0) << "wait status " << o.status;
}

TEST(SeccompExec, AnotherThreadGetsTheSameAnswers) {
  std::string why;
  if (!usable(why)) GTEST_SKIP() << why;
  Outcome o = supervise({SEALKIT_EXEC_CHAIN, "thread"});
  report("thread", o, 1);
  EXPECT_TRUE(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0) << "wait status " << o.status;
  EXPECT_GE(o.stats.answered_eperm, 8u) << "the thread's attacks, the main thread's on the thread's seal";
}

// A seal made by a process that shares the caller's memory (CLONE_VM, as vfork
// makes) holds for the caller at once: the supervisor, which already knew the
// caller, adds the registration to its entry too (kcmp).
TEST(SeccompExec, ASealMadeInSharedMemoryHoldsForEveryProcessThatSharesIt) {
  std::string why;
  if (!usable(why)) GTEST_SKIP() << why;
  Outcome o = supervise({SEALKIT_EXEC_CHAIN, "clonevm"});
  report("clonevm", o, 1);
  EXPECT_TRUE(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0) << "wait status " << o.status;
  EXPECT_GE(o.stats.cache_hits, 1u);
}

TEST(SeccompExec, WithoutTheSupervisorEveryGuardedCallGetsEnosys) {
  std::string why;
  if (!usable(why)) GTEST_SKIP() << why;
  ::setenv("SEALKIT_BACKEND", "seccomp", 1);
  int ready[2], go[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(go), 0);
  std::string r = std::to_string(ready[1]), g = std::to_string(go[0]);
  std::string prog = SEALKIT_EXEC_CHAIN, mode = "wait";
  char* argv[] = {prog.data(), mode.data(), r.data(), g.data(), nullptr};
  sc::SupervisedChild child = sc::spawn_supervised(argv[0], argv);
  ASSERT_GT(child.pid, 0) << child.step;
  ::close(ready[1]);
  ::close(go[0]);
  bool sealed = false;
  while (!sealed) {
    bool readable = false;
    child.supervisor->step(-1, ready[0], &readable);
    char c;
    if (readable) sealed = ::read(ready[0], &c, 1) == 1;
    ASSERT_TRUE(!readable || sealed) << "the child ended before sealing";
  }
  child.supervisor.reset();  // as if the supervisor were killed: its listener is gone
  ASSERT_EQ(::write(go[1], "g", 1), 1);
  int status = 0;
  ASSERT_EQ(::waitpid(child.pid, &status, 0), child.pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;
  ::close(ready[0]);
  ::close(go[1]);
  if (child.pidfd >= 0) ::close(child.pidfd);
}

// The kernel rule the design is built around (kernel/seccomp.c,
// has_duplicate_listener): a second filter with a listener is refused while
// one it descends from still has an open listener, so there can be one
// supervised filter per process tree, not one per image.
TEST(SeccompExec, TheKernelAllowsOneLiveListenerPerChain) {
  std::string why;
  if (!usable(why)) GTEST_SKIP() << why;
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int first = -1;
    if (sc::install_root_filter(first) != 0) ::_exit(10);
    int second = -1;
    const int e = sc::install_root_filter(second);
    if (e != EBUSY) ::_exit(11);
    ::close(first);  // the listener gone, a new one is allowed again
    if (sc::install_root_filter(second) != 0) ::_exit(12);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10: first install failed, 11: no EBUSY, 12: no listener after closing";
}

// Who the library and the runtime take for the supervisor
// (registration::untrusted_supervisor): the kernel's word on the socket, not
// SEALKIT_SUPERVISOR_FD's. In a child under a filter (as every supervised
// process is): a pair made by its parent before the fork is trusted, and so is
// one whose maker is gone (`sealkit run` has exited, its forked copy serves
// on); one it made itself, or one a live child of it made, is not; a stream
// socket is not; and before any filter, not even the parent's.
namespace {

// A pair made by a child of the caller, one end handed up over `via`; the
// child stays alive until `via` closes unless `exit_at_once`. Its pid in `pid`.
int pair_from_a_child(int via[2], bool exit_at_once, pid_t& pid) {
  pid = ::fork();
  if (pid == 0) {
    int made[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, made) != 0) ::_exit(1);
    char byte = 0;
    iovec iov{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &made[1], sizeof(int));
    if (::sendmsg(via[1], &msg, 0) != 1) ::_exit(1);
    while (!exit_at_once && ::read(via[1], &byte, 1) > 0) {
    }
    ::_exit(0);
  }
  char byte;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (::recvmsg(via[0], &msg, 0) != 1 || CMSG_FIRSTHDR(&msg) == nullptr) return -1;
  int fd;
  std::memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof fd);
  return fd;
}

}  // namespace

TEST(SeccompExec, OnlyAnAncestorsSocketUnderAFilterIsTrusted) {
  int from_parent[2], stream[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, from_parent), 0);
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, stream), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    namespace reg = sc::registration;
    if (reg::untrusted_supervisor(from_parent[1]) == nullptr) ::_exit(10);  // no filter yet
    sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    sock_fprog prog{1, &allow};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
      ::_exit(11);
    if (const char* why = reg::untrusted_supervisor(from_parent[1])) {
      std::fprintf(stderr, "the parent's pair: %s\n", why);
      ::_exit(12);
    }
    if (reg::untrusted_supervisor(stream[1]) == nullptr) ::_exit(13);
    int own[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, own) != 0) ::_exit(14);
    if (reg::untrusted_supervisor(own[1]) == nullptr) ::_exit(15);
    pid_t child = -1;
    const int live = pair_from_a_child(own, false, child);
    if (live < 0 || reg::untrusted_supervisor(live) == nullptr) ::_exit(16);
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    int via[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, via) != 0) ::_exit(14);
    const int gone = pair_from_a_child(via, true, child);
    ::waitpid(child, nullptr, 0);  // reaped: no /proc/PID any more
    if (const char* why = gone < 0 ? "not received" : reg::untrusted_supervisor(gone)) {
      std::fprintf(stderr, "a pair whose maker is gone: %s\n", why);
      ::_exit(17);
    }
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  for (int fd : {from_parent[0], from_parent[1], stream[0], stream[1]}) ::close(fd);
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10: trusted without a filter, 11: no filter, 12: the parent's refused, "
                                       "13: a stream socket trusted, 15: its own pair trusted, 16: a live child's "
                                       "pair trusted, 17: a pair whose maker is gone refused";
}

// A registration the peer answers "done" without enforcing it is refused by
// the kernel's word: the token can still be changed, so register_seal says
// EPROTO and unmaps it. The peer here passes every credential check: the
// parent's pair, in a child under a filter.
TEST(SeccompExec, ARegistrationNothingEnforcesIsRefused) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(pair[0]);
    sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    sock_fprog prog{1, &allow};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
      ::_exit(11);
    if (sc::registration::untrusted_supervisor(pair[1]) != nullptr) ::_exit(12);
    void* page = ::mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    const auto start = reinterpret_cast<std::uint64_t>(page);
    sc::SealedRange range{start, start + 4096, false}, token{};
    const int e = sc::registration::register_seal(pair[1], &range, 1, token);
    ::_exit(e == EPROTO ? 0 : 13);
  }
  ::close(pair[1]);
  // The impostor: takes the request, answers "registered" on its reply socket.
  char data[64];
  iovec iov{data, sizeof data};
  alignas(cmsghdr) char control[CMSG_SPACE(2 * sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ASSERT_GT(::recvmsg(pair[0], &msg, MSG_CMSG_CLOEXEC), 0);
  ASSERT_NE(CMSG_FIRSTHDR(&msg), nullptr);
  int fds[2];
  std::memcpy(fds, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof fds);
  const sc::registration::Reply reply;
  EXPECT_EQ(::send(fds[0], &reply, sizeof reply, MSG_NOSIGNAL), static_cast<ssize_t>(sizeof reply));
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  for (int fd : {fds[0], fds[1], pair[0]}) ::close(fd);
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "11: no filter, 12: the parent's pair refused, 13: not EPROTO";
}

// What any process holding the registration socket can send: the supervisor
// refuses it, closes every fd it was given, and keeps serving.
std::size_t open_fds() {
  std::size_t n = 0;
  for (int fd = 0; fd < 4096; ++fd) n += ::fcntl(fd, F_GETFD) >= 0;
  return n;
}

TEST(SeccompExec, HostileRegistrationsAreRefusedAndTheSupervisorGoesOn) {
  const std::size_t fds_before = open_fds();
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
  auto owned = std::make_unique<sc::Supervisor>(pair[0]);
  sc::Supervisor& sup = *owned;
  auto reply_for = [&](const void* data, std::size_t size, std::vector<int> fds) {
    msghdr msg{};
    iovec iov{const_cast<void*>(data), size};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) unsigned char control[CMSG_SPACE(16 * sizeof(int))] = {};
    if (!fds.empty()) {
      msg.msg_control = control;
      msg.msg_controllen = CMSG_SPACE(fds.size() * sizeof(int));
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
      std::memcpy(CMSG_DATA(c), fds.data(), fds.size() * sizeof(int));
    }
    EXPECT_GE(::sendmsg(pair[1], &msg, MSG_NOSIGNAL), 0);
    sup.step(0);
  };
  const sc::SupervisorStats before = sup.stats();
  char junk[300] = {1, 2, 3};
  reply_for(junk, 1, {});
  reply_for(junk, sizeof junk, {});
  sc::registration::Request req;
  req.token_address = 0x10000;
  reply_for(&req, sizeof req, {});  // no fds
  int dummy = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  reply_for(&req, sizeof req, {dummy, dummy});  // the reply "socket" is not one
  int rp[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, rp), 0);
  std::vector<int> many(12, dummy);
  many[0] = rp[1];
  reply_for(&req, sizeof req, many);  // too many fds (some cut off by the control buffer)
  // A reply socket and an unsealed memfd: refused with EINVAL on the reply socket.
  int memfd = static_cast<int>(::syscall(SYS_memfd_create, "sealkit-token", MFD_CLOEXEC));
  ASSERT_GE(memfd, 0);
  reply_for(&req, sizeof req, {rp[1], memfd});
  sc::registration::Reply reply;
  ssize_t got = ::recv(rp[0], &reply, sizeof reply, MSG_DONTWAIT);
  ASSERT_EQ(got, static_cast<ssize_t>(sizeof reply));
  EXPECT_EQ(reply.error, EINVAL);
  // A well-formed registration through the real client whose token is not mapped
  // in the process that made the reply socket cannot happen through the client;
  // its honest use from a process that has no root filter still registers (it
  // only restricts itself): the supervisor is not confused by what came before.
  EXPECT_GT(sup.stats().rejected, before.rejected);
  EXPECT_GE(sup.stats().rejected, 6u);
  EXPECT_EQ(sup.stats().registrations, 0u);
  // Every fd sent was closed by the supervisor: once ours and its own socket
  // are closed, the process has what it had before.
  for (int fd : {dummy, memfd, rp[0], rp[1], pair[1]}) ::close(fd);
  owned.reset();
  EXPECT_EQ(open_fds(), fds_before);
}

}  // namespace

namespace {

// `sealkit run --backend seccomp`: the program is sealkit's child, and sealkit
// ends the way it did.
pid_t start_sealkit_run(const std::vector<std::string>& command, int& out_fd, int ignored_signal = 0) {
  std::vector<std::string> args = {SEALKIT_BIN, "run", "--backend", "seccomp", "--"};
  args.insert(args.end(), command.begin(), command.end());
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipefd[1], 1);
    if (ignored_signal != 0) ::signal(ignored_signal, SIG_IGN);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(126);
  }
  ::close(pipefd[1]);
  out_fd = pipefd[0];
  return pid;
}

int wait_status(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

TEST(SeccompExecRun, EndsAsTheProgramDid) {
  std::string why;
  if (!usable(why)) GTEST_SKIP() << why;
  int out = -1;
  pid_t pid = start_sealkit_run({"/bin/sh", "-c", "exit 7"}, out);
  ASSERT_GT(pid, 0);
  int status = wait_status(pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 7) << status;
  ::close(out);
  pid = start_sealkit_run({"/bin/sh", "-c", "kill -TERM $$"}, out);
  status = wait_status(pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << "sealkit raises the program's signal: " << status;
  ::close(out);
}

TEST(SeccompExecRun, SignalsSentToSealkitReachTheProgram) {
  std::string why;
  if (!usable(why)) GTEST_SKIP() << why;
  int out = -1;
  // The trap runs between two short sleeps.
  pid_t pid = start_sealkit_run({"/bin/sh", "-c", "trap 'exit 42' USR1; echo ready; while :; do sleep 0.1; done"}, out);
  ASSERT_GT(pid, 0);
  std::string line;  // one byte at a time: the line may come in more than one write
  char c = 0;
  while (line.size() < 16 && ::read(out, &c, 1) == 1 && c != '\n') line += c;
  ASSERT_EQ(line, "ready") << "the program never started";
  ASSERT_EQ(::kill(pid, SIGUSR1), 0);  // to sealkit, which passes it on
  const int status = wait_status(pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 42) << status;
  ::close(out);
}

// `nohup sealkit run ...`: a signal ignored by whoever started sealkit is
// ignored by the program too, as it would be without sealkit.
TEST(SeccompExecRun, ASignalIgnoredBySealkitsStarterStaysIgnoredByTheProgram) {
  std::string why;
  if (!usable(why)) GTEST_SKIP() << why;
  int out = -1;
  pid_t pid = start_sealkit_run({"/bin/sh", "-c", "kill -HUP $$; echo alive"}, out, SIGHUP);
  ASSERT_GT(pid, 0);
  std::string text;
  char c;
  while (::read(out, &c, 1) == 1) text += c;
  const int status = wait_status(pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(text, "alive\n");
  ::close(out);
}

// `sealkit run` started with SIGCHLD ignored (a caller that does not want
// its children's statuses): the program inherits that, but sealkit still
// reports how the program ended. A program that ends the moment it starts (an
// interpreter that is not there: the exec fails in the child, status 127)
// must not be reaped by the kernel before sealkit can read its status.
TEST(SeccompExecRun, EndsAsTheProgramDidWhenItsStarterIgnoresSigchld) {
  std::string why;
  if (!usable(why)) GTEST_SKIP() << why;
  char dir[] = "/tmp/sealkit-sigchld-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string script = std::string(dir) + "/no-interpreter";
  {
    FILE* f = std::fopen(script.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("#!/nonexistent/interpreter\n", f);
    std::fclose(f);
    ::chmod(script.c_str(), 0755);
  }
  int lost = 0;
  for (int round = 0; round < 20; ++round) {
    int out = -1;
    pid_t pid = start_sealkit_run({script}, out, SIGCHLD);
    ASSERT_GT(pid, 0);
    const int status = wait_status(pid);
    ::close(out);
    if (!(WIFEXITED(status) && WEXITSTATUS(status) == 127)) ++lost;
  }
  EXPECT_EQ(lost, 0) << "of 20 runs, sealkit did not end with the program's status 127";
  ::unlink(script.c_str());
  ::rmdir(dir);
}

// CPU time (user + system, in clock ticks) process `pid` has used so far.
long cpu_ticks(pid_t pid) {
  FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (f == nullptr) return -1;
  char buf[1024] = {};
  const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  const char* close_paren = std::strrchr(buf, ')');
  if (n == 0 || close_paren == nullptr) return -1;
  // After ") ": state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime.
  unsigned long utime = 0, stime = 0;
  if (std::sscanf(close_paren + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
    return -1;
  return static_cast<long>(utime + stime);
}

// A program that ends while a process of its own tree traces it: the pidfd
// sealkit polls is readable at once, but the program cannot be reaped until
// its tracer ends. sealkit waits without spinning on that pidfd, and still
// ends with the program's status once it can read it.
TEST(SeccompExecRun, AProgramItsTracerHoldsAsAZombieDoesNotMakeSealkitSpin) {
  std::string why;
  if (!usable(why)) GTEST_SKIP() << why;
  int out = -1;
  pid_t pid = start_sealkit_run({SEALKIT_TRACED_EXIT, "4"}, out);
  ASSERT_GT(pid, 0);
  std::string line;
  char c = 0;
  while (line.size() < 16 && ::read(out, &c, 1) == 1 && c != '\n') line += c;
  if (line == "no ptrace") {
    ::close(out);
    wait_status(pid);
    GTEST_SKIP() << "a child may not trace its parent here (Yama ptrace_scope): nothing to hold the program";
  }
  ASSERT_EQ(line, "traced");
  ::usleep(300 * 1000);  // the program has exited: a zombie its tracer holds for 4 s
  const long before = cpu_ticks(pid);
  ::sleep(2);
  const long after = cpu_ticks(pid);
  ASSERT_GE(before, 0);
  ASSERT_GE(after, before);
  const long hz = ::sysconf(_SC_CLK_TCK);
  EXPECT_LE(after - before, hz / 50) << "sealkit used " << (after - before) << " of " << 2 * hz
                                     << " clock ticks waiting for a program it could not reap yet";
  const int status = wait_status(pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 5) << status;
  ::close(out);
}

// sealkit run adopts the orphans of its tree (it must stay their ancestor
// for them to register with it) and reaps them as they end: none is left a
// zombie under it while the program runs.
TEST(SeccompExecRun, OrphansOfTheTreeAreReapedAsTheyEnd) {
  std::string why;
  if (!usable(why)) GTEST_SKIP() << why;
  int out = -1;
  // Ten orphans that end at once; then the zombies among sealkit's children.
  pid_t pid = start_sealkit_run(
      {"/bin/sh", "-c",
       "for i in 1 2 3 4 5 6 7 8 9 10; do ( /bin/true & ); done; sleep 1; "
       "n=0; for s in /proc/[0-9]*/stat; do set -- $(cat $s 2>/dev/null); "
       "[ \"$4\" = \"$PPID\" ] && [ \"$3\" = Z ] && n=$((n+1)); done; echo zombies=$n"},
      out);
  ASSERT_GT(pid, 0);
  std::string text;
  char c;
  while (::read(out, &c, 1) == 1) text += c;
  const int status = wait_status(pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(text, "zombies=0\n");
  ::close(out);
}

}  // namespace
