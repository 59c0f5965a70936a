// A task that shares this process's address space without being one of its
// threads: made with clone(CLONE_VM | SIGCHLD), no CLONE_THREAD, as raw clone
// users and vfork-like helpers make them. A seccomp filter installed with
// SECCOMP_FILTER_FLAG_TSYNC reaches the thread group only, so such a task made
// before a seal is not bound by it; one made after inherits the filter.
// The tests use it as the attacker's second task (docs/seccomp.md, "Tasks that
// share the address space").
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace sealkit::test {

class CloneVmTask {
 public:
  CloneVmTask() = default;
  CloneVmTask(const CloneVmTask&) = delete;
  CloneVmTask& operator=(const CloneVmTask&) = delete;
  ~CloneVmTask();  // stops the task if it still runs

  // Starts the task; false (errno set) when clone or a pipe fails.
  bool start();
  // Has the task mprotect the page at `page` to PROT_READ|PROT_WRITE and, when
  // that worked, write a byte there: 0, or the errno of mprotect. -1 when the
  // task does not answer.
  int change(void* page);
  // Tells the task to exit and reaps it.
  void stop();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int to_task_ = -1;
  int from_task_ = -1;
  // Read by the task as it starts: its ends (commands in, answers out), then
  // this side's, which it closes in its copy of the descriptor table.
  int task_fds_[4] = {-1, -1, -1, -1};
  void* stack_ = nullptr;
};

}  // namespace sealkit::test
