#include "cli/run/static_plan.hpp"

#include <sys/mman.h>

#include <algorithm>

#include "core/proc_maps.hpp"
#include "core/seal_plan.hpp"

namespace sealkit::cli::run_static {

namespace {

bool is_system_mapping(std::string_view p) { return p == "[vdso]" || p == "[vvar]" || p == "[vvar_vclock]"; }

// The most a page range wholly inside or outside each boundary may have:
// what the segments covering it ask (a page two segments share: what either
// asks), nothing in a gap, at most read in protected RELRO.
unsigned allowed_for(const StaticImage& img, bool relro_protected, core::Range part) {
  unsigned allowed = 0;
  for (std::size_t i = 0; i < img.segments.size(); ++i)
    if (img.segments[i].overlaps(part)) allowed |= img.prot[i];
  if (relro_protected && img.relro.overlaps(part)) allowed &= PROT_READ;
  return allowed;
}

}  // namespace

SealPlan plan_seal(const StaticImage& img, bool relro_protected, std::string_view maps_text) {
  SealPlan plan;
  std::vector<core::MapsEntry> maps;
  const core::SmapsStats stats = core::for_each_maps_entry(maps_text, [&](const core::MapsEntry& m) {
    maps.push_back(m);
    return true;
  });
  plan.maps_bad_lines = stats.bad_lines;

  // Every boundary at which what a page may have can change.
  std::vector<std::uintptr_t> cuts;
  for (const core::Range& s : img.segments) {
    cuts.push_back(s.begin);
    cuts.push_back(s.end);
  }
  if (relro_protected && !img.relro.empty()) {
    cuts.push_back(img.relro.begin);
    cuts.push_back(img.relro.end);
  }
  std::sort(cuts.begin(), cuts.end());

  std::vector<core::Range> runs;
  auto judge = [&](core::Range run) {
    for (const core::MapsEntry& m : maps) {
      core::Range vma{std::max(m.range.begin, run.begin), std::min(m.range.end, run.end)};
      if (vma.empty()) continue;
      const unsigned now = (m.read ? PROT_READ : 0u) | (m.write ? PROT_WRITE : 0u) | (m.exec ? PROT_EXEC : 0u);
      std::uintptr_t at = vma.begin;
      while (at < vma.end) {
        auto next = std::upper_bound(cuts.begin(), cuts.end(), at);
        const std::uintptr_t end = next == cuts.end() ? vma.end : std::min(*next, vma.end);
        const core::Range part{at, end};
        if ((now & (PROT_WRITE | PROT_EXEC)) == (PROT_WRITE | PROT_EXEC)) ++plan.wx_refused;
        else if ((now & ~allowed_for(img, relro_protected, part)) != 0) ++plan.over_file;
        else runs.push_back(part);
        at = end;
      }
    }
  };
  core::plan_object_seal(img.segments.data(), img.segments.size(), img.keep_mutable.data(), img.keep_mutable.size(),
                         maps, judge);

  for (const core::MapsEntry& m : maps) {
    if (m.inode != 0) continue;
    if (is_system_mapping(m.path)) {
      runs.push_back(m.range);
      ++plan.system_mappings;
    } else if (m.path == "[stack]") {
      runs.push_back(m.range);
      plan.stack = true;
    }
  }
  std::sort(runs.begin(), runs.end(), [](const core::Range& a, const core::Range& b) { return a.begin < b.begin; });
  for (const core::Range& r : runs) {
    if (!plan.runs.empty() && r.begin <= plan.runs.back().end) plan.runs.back().end = std::max(plan.runs.back().end, r.end);
    else plan.runs.push_back(r);
  }
  return plan;
}

}  // namespace sealkit::cli::run_static
