#include "cli/map/layout.hpp"

#include <algorithm>
#include <cmath>

namespace sealkit::cli::map {

double vma_height(std::uint64_t bytes) {
  double pages = std::max(1.0, static_cast<double>(bytes) / 4096.0);
  return kVmaBaseHeight + kVmaLogHeight * std::log2(pages);
}

Layout lay_out(const Picture& picture) {
  struct Ref {
    std::size_t band, vma;
    const Vma* v;
  };
  std::vector<Ref> order;
  for (std::size_t b = 0; b < picture.bands.size(); ++b) {
    for (std::size_t i = 0; i < picture.bands[b].vmas.size(); ++i) order.push_back({b, i, &picture.bands[b].vmas[i]});
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const Ref& a, const Ref& b) { return a.v->range.begin < b.v->range.begin; });

  Layout out;
  std::vector<bool> band_seen(picture.bands.size(), false);
  double y = 0;
  const Vma* previous = nullptr;
  for (const Ref& r : order) {
    bool new_box = out.boxes.empty() || out.boxes.back().band != r.band;
    if (previous && r.v->range.begin > previous->range.end) {
      out.gaps.push_back({previous->range.end, r.v->range.begin, y, kGapHeight});
      y += kGapHeight;
    } else if (previous && new_box) {
      y += kBandSpacing;
    }
    double h = vma_height(r.v->range.size());
    if (new_box) {
      out.boxes.push_back({r.band, y, 0, band_seen[r.band]});
      band_seen[r.band] = true;
    }
    out.vmas.push_back({r.band, r.vma, y, h});
    y += h;
    out.boxes.back().height = y - out.boxes.back().y;
    previous = r.v;
  }
  out.height = y;
  return out;
}

}  // namespace sealkit::cli::map
