#include "lib/clone_vm_task.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <initializer_list>

#include "core/raw_syscall.hpp"

namespace sealkit::test {

namespace {

constexpr std::size_t kStack = 64 * 1024;

// The task runs on its own stack but shares the caller's thread-local storage
// (no CLONE_SETTLS): raw system calls only, so errno and libc's state are left
// alone. arg: the task's two descriptors, commands (page addresses, 0 to exit) and
// answers, then the caller's two, closed here so that either side's exit is
// an end of file for the other.
int task_main(void* arg) {
  const int* fds = static_cast<const int*>(arg);
  const int commands = fds[0];
  const int answers = fds[1];
  core::raw::call(SYS_close, fds[2]);
  core::raw::call(SYS_close, fds[3]);
  for (;;) {
    std::uintptr_t page = 0;
    if (core::raw::call(SYS_read, commands, reinterpret_cast<long>(&page), sizeof page) != sizeof page) break;
    if (page == 0) break;
    const long r = core::raw::call(SYS_mprotect, static_cast<long>(page), ::getpagesize(), PROT_READ | PROT_WRITE);
    const int answer = r == 0 ? 0 : static_cast<int>(-r);
    if (r == 0) *reinterpret_cast<volatile char*>(page) = 'x';
    core::raw::call(SYS_write, answers, reinterpret_cast<long>(&answer), sizeof answer);
  }
  return 0;
}

}  // namespace

CloneVmTask::~CloneVmTask() { stop(); }

bool CloneVmTask::start() {
  stack_ = ::mmap(nullptr, kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack_ == MAP_FAILED) {
    stack_ = nullptr;
    return false;
  }
  int commands[2], answers[2];
  if (::pipe2(commands, O_CLOEXEC) != 0) return false;
  if (::pipe2(answers, O_CLOEXEC) != 0) {
    ::close(commands[0]);
    ::close(commands[1]);
    return false;
  }
  task_fds_[0] = commands[0];
  task_fds_[1] = answers[1];
  task_fds_[2] = commands[1];
  task_fds_[3] = answers[0];
  pid_ = ::clone(task_main, static_cast<char*>(stack_) + kStack, CLONE_VM | SIGCHLD, task_fds_);
  const int saved = errno;
  // The task has its own copy of the descriptor table (no CLONE_FILES): with
  // these closed here, a task that dies gives EOF instead of a wait.
  ::close(commands[0]);
  ::close(answers[1]);
  to_task_ = commands[1];
  from_task_ = answers[0];
  errno = saved;
  return pid_ > 0;
}

int CloneVmTask::change(void* page) {
  const auto addr = reinterpret_cast<std::uintptr_t>(page);
  int answer = -1;
  if (::write(to_task_, &addr, sizeof addr) != sizeof addr) return -1;
  if (::read(from_task_, &answer, sizeof answer) != sizeof answer) return -1;
  return answer;
}

void CloneVmTask::stop() {
  if (pid_ > 0) {
    const std::uintptr_t zero = 0;
    (void)::write(to_task_, &zero, sizeof zero);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }
  for (int* fd : {&to_task_, &from_task_}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
  if (stack_) ::munmap(stack_, kStack);
  stack_ = nullptr;
}

}  // namespace sealkit::test
