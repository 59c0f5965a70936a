// One selftest run in its own forked child: create the memory of one mapping
// class, seal it (or not: the control), call one primitive on it, and report
// what the call returned and whether the memory is still intact.
//
// Seals cannot be undone and are inherited over fork, so every run needs a
// fresh process; a child that crashes or hangs costs one cell, not the
// selftest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "cli/selftest/matrix.hpp"

namespace sealkit::cli::selftest {

// A fixed-size message: the child's code between creating a heap mapping and
// the brk call must not allocate (malloc could move the break itself).
struct Note {
  char text[224] = "";
  void set(const char* fmt, ...) noexcept __attribute__((format(printf, 2, 3)));
  bool empty() const noexcept { return text[0] == '\0'; }
};

// The memory a run attacks, page-aligned.
struct Target {
  std::uintptr_t addr = 0;
  std::size_t len = 0;
  int prot = 0;                   // PROT_* it was left with
  std::uintptr_t heap_floor = 0;  // heap class: the program break before the mapping was added
  bool sealed = false;            // this run sealed it (false: the unsealed control)
};

// What one primitive call did.
struct CallOutcome {
  bool ok = false;
  int err = 0;                // errno of a failed call; 0 when the call reports none (brk)
  bool setup_failed = false;  // the call could not even be prepared; err and note say why
  Note note;                  // anything worth telling about this call
};

// The outcome of the call under test: errno is read right after it, before
// anything else can change it.
CallOutcome outcome(bool ok);
// The call could not be prepared; `what` and errno say why.
CallOutcome setup_failure(const char* what);

using PrimitiveFn = CallOutcome (*)(const Target&);

// The parent's view of one child.
struct ChildResult {
  bool ran = false;     // the primitive was called (mapping created, sealed if asked)
  bool seal_failed = false;  // sealkit_mseal refused; err holds its errno
  bool ok = false;      // the call succeeded
  int err = 0;          // its errno when it failed
  bool intact = false;  // afterwards: same mappings, same protection, same bytes
  std::string change;   // when not intact: what changed, for people
  std::string detail;   // why it did not run, or a note from the primitive
};

// Forks a child that creates `cls`, seals it when `seal`, runs `fn` and
// reports back through a pipe. A child that crashes or does not report
// within a few seconds is killed and described in `detail`.
ChildResult run_in_child(MappingClass cls, bool seal, PrimitiveFn fn);

// errno as its symbolic name ("EPERM"), or "" for 0.
std::string errno_name(int err);

}  // namespace sealkit::cli::selftest
