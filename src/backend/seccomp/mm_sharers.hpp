// Tasks that share this process's address space without being its threads.
//
// A seccomp filter installed with SECCOMP_FILTER_FLAG_TSYNC binds the calling
// thread group. A task made with clone(CLONE_VM) and no CLONE_THREAD (raw
// clone users, vfork-like helpers, posix_spawn's child until it execs) shares
// the memory but is a thread group of its own: if it exists before a filter,
// the filter never binds it, and it can change "sealed" memory. A task made
// after a filter inherits it (a child takes its creator's filters). So
// sealing by filter is honest only while no such task exists, and
// "is it sealed" only while every such task has the filters the thread has
// (docs/seccomp.md, "Tasks that share the address space").
//
// How they are found: every process in /proc (a task sharing the address
// space leads a thread group of its own, so it is listed) is compared with
// this one by kcmp(KCMP_VM), the kernel's own comparison of two tasks'
// address spaces. kcmp needs ptrace read access to the other process; where
// it has none and the answer could hide a sharer (kcmp refused altogether, or
// this address space is not dumpable, which makes every sharer refuse), the
// size test decides: the other process's total size (/proc/PID/statm, which
// anyone may read) moves by exactly the size of a reservation made here only
// when it is this address space.
//
// Raw system calls only, no allocation beyond one mmap, no errno: the
// libc-free runtime and its SIGSYS handler use it too.
#pragma once

namespace sealkit::backend::seccomp {

enum class SharerVerdict {
  kNone,     // no process it can see shares the address space (or, with unbound_only, lacks a filter)
  kFound,    // one does
  kUnknown,  // cannot tell: /proc is missing or another PID namespace's, or a process could not be asked
};

struct SharerScan {
  SharerVerdict verdict = SharerVerdict::kNone;
  long pid = 0;  // kFound, kUnknown: the process concerned (0 when none)
};

// Looks for a process other than this one that shares its address space.
// unbound_only: count only those with fewer seccomp filters than the calling
// thread (Seccomp_filters in /proc/PID/status): one made after the thread's
// newest filter inherited all of them, one made before lacks that one. A
// process that installed filters of its own could look bound without being
// so; where the kernel does not say (before 5.9), every sharer counts.
SharerScan find_address_space_sharer(bool unbound_only) noexcept;

}  // namespace sealkit::backend::seccomp
