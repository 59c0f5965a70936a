#include "core/loaded_objects.hpp"

#include <link.h>

#include <algorithm>

#include "core/page.hpp"
#include "core/seal_plan.hpp"

namespace sealkit::core {

namespace {

int collect(struct dl_phdr_info* info, size_t, void* data) {
  auto* out = static_cast<std::vector<LoadedObject>*>(data);
  const std::size_t ps = page_size();
  LoadedObject obj;
  obj.name = info->dlpi_name ? info->dlpi_name : "";
  obj.base = info->dlpi_addr;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || ph.p_memsz == 0) continue;
    std::uintptr_t start;
    if (__builtin_add_overflow(info->dlpi_addr, ph.p_vaddr, &start)) continue;
    auto span = page_span(start, ph.p_memsz, ps);
    if (!span) continue;
    obj.segments.push_back({span->start, span->end});
  }
  if (obj.segments.empty()) return 0;
  std::sort(obj.segments.begin(), obj.segments.end(),
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
  plan_object_seal(obj.segments.data(), obj.segments.size(), nullptr, 0, maps,
                   [&](Range r) { result.insert(r); });
  return result;
}

}  // namespace sealkit::core
