// A private mount namespace for tests that must change what every process
// sees (/etc/ld.so.preload, a trusted library directory): the changes live
// in overlays and a tmpfs of this process's own namespace, inherited by the
// programs it starts, and never reach the host's files.
#pragma once

#include <string>
#include <vector>

namespace sealkit::test {

// Moves this process into a new mount namespace (root only), mounts a tmpfs
// on a new directory under /tmp (its path in `scratch`) and a writable
// overlay over each of `dirs`. false, with the reason in `why`, on failure.
bool enter_private_mounts(const std::vector<std::string>& dirs, std::string& scratch, std::string& why);

}  // namespace sealkit::test
