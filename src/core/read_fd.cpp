#include "core/read_fd.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

namespace sealkit::core {

namespace {

constexpr std::size_t kFirstRead = 16384;

}  // namespace

std::optional<std::size_t> read_fd(int fd, std::string& buf, std::size_t max_bytes) {
  // Room for one byte past the cap tells a file of exactly max_bytes from a longer one.
  const std::size_t limit = max_bytes == SIZE_MAX ? max_bytes : max_bytes + 1;
  std::size_t used = 0;
  for (;;) {
    std::size_t end = std::min(buf.size(), limit);
    if (used == end) {
      if (used == limit) {
        errno = EFBIG;
        return std::nullopt;
      }
      buf.resize(std::min(limit, std::max(kFirstRead, used > limit / 2 ? limit : used * 2)));
      end = buf.size();
    }
    const ssize_t n = ::read(fd, buf.data() + used, end - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::nullopt;
    }
    if (n == 0) return used;
    used += static_cast<std::size_t>(n);
  }
}

std::optional<std::string> read_fd(int fd, std::size_t max_bytes) {
  std::string s;
  const std::optional<std::size_t> n = read_fd(fd, s, max_bytes);
  if (!n) return std::nullopt;
  s.resize(*n);
  return s;
}

}  // namespace sealkit::core
