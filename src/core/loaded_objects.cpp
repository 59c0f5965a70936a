#include "core/loaded_objects.hpp"

#include <fcntl.h>
#include <link.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "core/mutable_sections.hpp"
#include "core/page.hpp"
#include "core/seal_plan.hpp"

namespace sealkit::core {

namespace {

constexpr std::uint32_t kPtGnuMutable = 0x6474f555;

// The object's mutable sections (core/mutable_sections.hpp) from its file,
// as the runtime finds them: the section table is not in memory.
void add_mutable_sections(const struct dl_phdr_info* info, const std::vector<Range>& loads,
                          const std::vector<bool>& writable, Range relro, std::vector<Range>& out) {
  const ElfW(Ehdr)* eh = nullptr;
  for (int i = 0; i < info->dlpi_phnum && eh == nullptr; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type == PT_LOAD && ph.p_offset == 0 && (ph.p_flags & PF_R) && ph.p_filesz >= sizeof(ElfW(Ehdr)))
      eh = reinterpret_cast<const ElfW(Ehdr)*>(info->dlpi_addr + ph.p_vaddr);
  }
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
        const Range r = clip_to_writable_data(mutable_pages(shape, info->dlpi_addr, page), loads.data(), loads.size(),
                                              [&](std::size_t i) { return writable[i]; }, relro);
        if (!r.empty()) found.push_back(r);
      });
  ::close(fd);
  if (read) out.insert(out.end(), found.begin(), found.end());
}

int collect(struct dl_phdr_info* info, size_t, void* data) {
  auto* out = static_cast<std::vector<LoadedObject>*>(data);
  const std::size_t ps = page_size();
  LoadedObject obj;
  obj.name = info->dlpi_name ? info->dlpi_name : "";
  obj.base = info->dlpi_addr;
  std::vector<std::pair<Range, bool>> loads;  // page-rounded, writable
  Range relro;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_memsz == 0) continue;
    std::uintptr_t start;
    if (__builtin_add_overflow(info->dlpi_addr, ph.p_vaddr, &start)) continue;
    auto span = page_span(start, ph.p_memsz, ps);
    if (!span) continue;
    if (ph.p_type == PT_LOAD) {
      loads.push_back({{span->start, span->end}, (ph.p_flags & PF_W) != 0});
    } else if (ph.p_type == kPtGnuMutable) {
      obj.keep_mutable.push_back({span->start, span->end});
    } else if (ph.p_type == PT_GNU_RELRO) {
      relro = {span->start, page_down(start + ph.p_memsz, ps)};  // as ld.so protects it
    }
  }
  if (loads.empty()) return 0;
  auto by_begin = [](const Range& a, const Range& b) { return a.begin < b.begin; };
  std::sort(loads.begin(), loads.end(), [&](const auto& a, const auto& b) { return by_begin(a.first, b.first); });
  std::vector<bool> writable;
  for (const auto& [r, w] : loads) {
    obj.segments.push_back(r);
    writable.push_back(w);
  }
  add_mutable_sections(info, obj.segments, writable, relro, obj.keep_mutable);
  std::sort(obj.keep_mutable.begin(), obj.keep_mutable.end(), by_begin);
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
