// Forked children for the seccomp tests: a filter can never be removed, so
// every filter lives in a child, and each operation under test runs in a
// grandchild so that a success (an unmap, a move) cannot change what the next
// operation meets.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace sealkit::test::backend {

struct ChildOutput {
  bool exited_cleanly = false;  // exit status 0
  std::string problem;          // how it failed otherwise, or the child's own message
  std::vector<long> values;     // what the child sent
};

// Runs `body` in a forked child. The body returns the values to send, or sets
// `problem` (then the child exits 1). Nothing of gtest may be used inside.
ChildOutput run_child(const std::function<std::vector<long>(std::string& problem)>& body);

// In a child: runs `op` in a grandchild and returns what it returned
// (0..255: 0 for success, else an errno), or -1 when it died.
int in_grandchild(const std::function<int()>& op);

}  // namespace sealkit::test::backend
