#include "core/loaded_objects.hpp"

#include <fcntl.h>
#include <link.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "core/mutable_sections.hpp"
#include "core/object_layout.hpp"
#include "core/page.hpp"
#include "core/seal_plan.hpp"

namespace sealkit::core {

namespace {

// The object's mutable sections (core/mutable_sections.hpp) from its file,
// as the runtime finds them: the section table is not in memory.
void add_mutable_sections(const struct dl_phdr_info* info, const ObjectLayout& layout, std::vector<Range>& out) {
  const auto* eh = reinterpret_cast<const ElfW(Ehdr)*>(layout.header);
  if (eh == nullptr || std::memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_shoff == 0 || eh->e_shnum == 0 ||
      eh->e_shentsize != sizeof(ElfW(Shdr)))
    return;
  const char* name = info->dlpi_name;
  const int fd = ::open(name && *name ? name : "/proc/self/exe", O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return;
  std::vector<Range> found;
  const std::size_t page = page_size();
  const bool read = for_each_mutable_section<ElfW(Shdr)>(
      eh->e_shoff, eh->e_shnum, page,
      [fd](std::uint64_t offset, void* buf, std::size_t bytes) {
        return ::pread(fd, buf, bytes, static_cast<off_t>(offset)) == static_cast<ssize_t>(bytes);
      },
      [&](const SectionShape& shape) {
        const Range r = clip_to_writable_data(mutable_pages(shape, info->dlpi_addr, page), layout.segments,
                                              layout.nseg,
                                              [&](std::size_t i) { return (layout.prot[i] & kSegmentWrite) != 0; },
                                              layout.relro);
        if (!r.empty()) found.push_back(r);
      });
  ::close(fd);
  if (read) out.insert(out.end(), found.begin(), found.end());
}

int collect(struct dl_phdr_info* info, size_t, void* data) {
  auto* out = static_cast<std::vector<LoadedObject>*>(data);
  // The runtime's reading of the program headers (core/object_layout.hpp): an
  // object it would not read is not sealed here either.
  ObjectLayout layout;
  if (read_object_layout<ElfW(Ehdr)>(info->dlpi_addr, info->dlpi_phdr, info->dlpi_phnum, page_size(), layout) !=
      LayoutError::kNone)
    return 0;
  LoadedObject obj;
  obj.name = info->dlpi_name ? info->dlpi_name : "";
  obj.base = info->dlpi_addr;
  obj.segments.assign(layout.segments, layout.segments + layout.nseg);
  obj.keep_mutable.assign(layout.keep_mutable, layout.keep_mutable + layout.nmut);
  add_mutable_sections(info, layout, obj.keep_mutable);
  std::sort(obj.keep_mutable.begin(), obj.keep_mutable.end(),
            [](const Range& a, const Range& b) { return a.begin < b.begin; });
  obj.span = {obj.segments.front().begin, obj.segments.back().end};
  for (const Range& s : obj.segments) obj.span.end = std::max(obj.span.end, s.end);
  out->push_back(std::move(obj));
  return 0;
}

}  // namespace

std::vector<LoadedObject> loaded_objects() {
  std::vector<LoadedObject> out;
  dl_iterate_phdr(collect, &out);
  return out;
}

RangeSet object_seal_ranges(const LoadedObject& obj, const std::vector<MapsEntry>& maps) {
  RangeSet result;
  plan_object_seal(obj.segments.data(), obj.segments.size(), obj.keep_mutable.data(), obj.keep_mutable.size(), maps,
                   [&](Range r) { result.insert(r); });
  return result;
}

}  // namespace sealkit::core
