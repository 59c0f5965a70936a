#include "vma_field.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "core/page.hpp"
#include "core/proc_maps.hpp"

namespace sealkit::bench {

VmaField::VmaField(std::size_t count) : count_(count) {
  const std::size_t ps = core::page_size();
  void* p = ::mmap(nullptr, count * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap of the VMA field");
  base_ = static_cast<std::byte*>(p);
  for (std::size_t i = 1; i < count; i += 2) {
    if (::mprotect(page(i), ps, PROT_READ) != 0)
      throw std::system_error(errno, std::generic_category(), "mprotect in the VMA field");
  }
}

void* VmaField::page(std::size_t i) const { return base_ + i * core::page_size(); }

std::size_t count_own_vmas() {
  auto text = core::read_proc_file("/proc/self/maps");
  if (!text) throw std::system_error(errno, std::generic_category(), "reading /proc/self/maps");
  return static_cast<std::size_t>(std::count(text->begin(), text->end(), '\n'));
}

}  // namespace sealkit::bench
