// The canaries of `sealkit enable`: real programs started under exactly the
// /etc/ld.so.preload that enable is about to write, before it writes it, in a
// private mount namespace, so that no process of the machine sees it first:
//
// a forked child moves into a new mount namespace (unshare(CLONE_NEWNS), /
// made private recursively), mounts a tmpfs on a new directory under /tmp,
// lays an overlay over /etc whose upper directory is on that tmpfs and writes
// the new file there. Where the set-user-ID bit is not set yet, a copy of the
// object with the bit is bind-mounted over it; where ld.so's cache does not
// list the object yet, ldconfig rebuilds the namespace's copy of the cache
// (its aux-cache directory under a tmpfs too). Then each canary reads its own
// /proc/self/status and /proc/self/smaps:
//
// - a 64-bit program: /bin/cat;
// - a setuid-root copy of it on that tmpfs (mounted without nosuid) started
//   by nobody: secure execution, where ld.so searches only its trusted
//   directories and takes an object only with the set-user-ID bit;
// - where the 32-bit class is covered, the same two with a small 32-bit
//   program embedded in sealkit (no 32-bit cat ships on a 64-bit system), or
//   a reason when the kernel cannot run one or sealkit was built without it.
//
// Each passes when it exits 0, prints nothing on stderr, has the preload
// object mapped and its own text VMA sealed ("sl" in VmFlags); a setuid one
// also when its status shows the real uid of nobody and the effective uid 0.
// The host's files are never touched: the namespace ends with the child.
#pragma once

#include <string>
#include <vector>

namespace sealkit::cli::machine {

struct CanaryPlan {
  std::string preload_text;                 // the new /etc/ld.so.preload
  bool rebuild_cache = false;               // run ldconfig in the namespace first
  std::vector<std::string> setuid_objects;  // objects to present with the set-user-ID bit
  bool with_32_bit = false;                 // the 32-bit class is covered
};

enum class Outcome { kPassed, kFailed, kSkipped };

struct CanaryResult {
  std::string name;
  Outcome outcome = Outcome::kFailed;
  std::string detail;  // what was seen, or what went wrong, or why it did not run
};

// False with `error` when the namespace could not be set up (nothing ran).
bool run_canaries(const CanaryPlan& plan, std::vector<CanaryResult>& results, std::string& error);

}  // namespace sealkit::cli::machine
