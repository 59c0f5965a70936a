#include "core/page.hpp"

#include <unistd.h>

namespace sealkit::core {

std::size_t page_size() noexcept {
  static const std::size_t ps = [] {
    long v = sysconf(_SC_PAGESIZE);
    return v > 0 ? static_cast<std::size_t>(v) : std::size_t{4096};
  }();
  return ps;
}

}  // namespace sealkit::core
