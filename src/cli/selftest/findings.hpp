// What lies outside the matrix: ways to change sealed memory that mseal does
// not cover by design (/proc/self/mem, ptrace, userfaultfd), and whether
// io_uring's IORING_OP_MADVISE honours seals. Each is tested on the running
// kernel in forked children, on sealed read-only anonymous memory and on an
// unsealed control.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/selftest/child.hpp"

namespace sealkit::cli::selftest {

struct Finding {
  std::string key;     // "proc_self_mem", "ptrace", "userfaultfd", "io_uring_madvise"
  std::string title;   // for people
  std::string status{};  // "not covered", "blocked", "honours seals", "bypasses seals", "not testable here"
  std::string detail{};  // one sentence: what was done and what happened
  std::optional<ChildResult> sealed{};
  std::optional<ChildResult> control{};
};

std::vector<Finding> probe_not_covered();
Finding probe_io_uring();

// Whether sealkit_mseal can seal memory here at all (a child seals a page);
// `why` says what failed when not.
bool kernel_can_seal(std::string& why);

}  // namespace sealkit::cli::selftest
