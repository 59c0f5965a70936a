// Reading a descriptor to its end (a /proc file, a memfd, a pipe) with
// read(2): the one loop behind every whole-file read of the tree, so that
// EINTR and the size cap are handled once. libc, not freestanding (the
// injected runtime has its own readers).
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace sealkit::core {

// Reads `fd` from its offset to end of file into `buf`, which grows as
// needed (doubling) and never shrinks: a caller reading many files passes
// the same buffer and pays for no allocation once it is large enough. The
// bytes read are buf[0, *result). nullopt with errno set when read(2) fails
// (EINTR is retried), or EFBIG when there are more than `max_bytes`.
std::optional<std::size_t> read_fd(int fd, std::string& buf, std::size_t max_bytes);

// The same, into a string of exactly the bytes read.
std::optional<std::string> read_fd(int fd, std::size_t max_bytes);

}  // namespace sealkit::core
